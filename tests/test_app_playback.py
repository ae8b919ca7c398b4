"""The window plays a generated video: frames and results arrive, pause, seek, step, loop."""
from __future__ import annotations

import numpy as np
from conftest import VIDEO_FRAMES, VIDEO_SIZE

from c3ae.faces import Faces

TIMEOUT = 30_000  # ms; generous, the CPU may be shared


def wait_for_index(qtbot, window, index: int) -> None:
    qtbot.waitUntil(lambda: window.last_report is not None and window.last_report.index == index, timeout=TIMEOUT)


def _fits(image, view) -> bool:
    """The picture is the video's, brought down to the view's device pixels when larger."""
    width, height = view.device_size()
    scale = min(1.0, width / VIDEO_SIZE[0], height / VIDEO_SIZE[1])
    expected = round(VIDEO_SIZE[0] * scale), round(VIDEO_SIZE[1] * scale)
    return abs(image.width() - expected[0]) <= 1 and abs(image.height() - expected[1]) <= 1


def test_pictures_are_made_no_larger_than_the_view(qtbot, make_window, synthetic_video):
    """The worker brings a frame down to the view's size, so the GUI thread paints it
    as it is: smaller while the view is smaller than the video, the video's own size
    once the view is larger; also for the still picture of a paused video."""
    window = make_window()
    window.resize(700, 500)
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: window.last_report is not None and window.last_report.index >= 3, timeout=TIMEOUT)
    view = window.area.video
    qtbot.waitUntil(lambda: _fits(window.last_report.image, view), timeout=TIMEOUT)
    assert window.last_report.image.width() < VIDEO_SIZE[0]
    window.act.play.trigger()  # pause: the still picture is remade at the new size
    qtbot.waitUntil(lambda: not window.act.play.isChecked(), timeout=TIMEOUT)
    window.resize(1500, 1000)
    qtbot.waitUntil(lambda: (window.last_report.image.width(), window.last_report.image.height()) == VIDEO_SIZE,
                    timeout=TIMEOUT)


def test_frames_and_results_arrive(qtbot, make_window, synthetic_video):
    window = make_window()
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: window.last_report is not None and window.last_report.index >= 5, timeout=TIMEOUT)
    report = window.last_report
    assert window.area.stack.currentWidget() is window.area.video
    assert _fits(report.image, window.area.video)
    assert isinstance(report.faces, Faces)
    assert {"detect", "infer", "draw"} <= set(report.timings)
    assert window.area.transport.isVisible() and window.area.transport.slider.maximum() == VIDEO_FRAMES - 1
    assert window.area.banner.isVisible() == (not report.trained)  # untrained weights: a clear banner
    fps = window.status.fps_label
    qtbot.waitUntil(lambda: fps.text().startswith("FPS ") and "–" not in fps.text(), timeout=TIMEOUT)


def test_pause_seek_and_step(qtbot, make_window, synthetic_video):
    window = make_window()
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: window.last_report is not None, timeout=TIMEOUT)
    # pause: the action unchecks at once, the worker confirms once the frame in progress is done
    with qtbot.waitSignal(window.host.playing_changed, timeout=TIMEOUT,
                          check_params_cb=lambda playing: not playing):
        window.act.play.trigger()
    qtbot.wait(200)  # a frame already in flight may still land
    paused_at = window.last_report.index
    qtbot.wait(400)
    assert window.last_report.index == paused_at, "frames kept coming while paused"

    window.area.transport.slider.setValue(20)  # what dragging the seek slider does
    wait_for_index(qtbot, window, 20)
    window.act.step_forward.trigger()
    wait_for_index(qtbot, window, 21)
    window.act.step_back.trigger()
    wait_for_index(qtbot, window, 20)
    assert window.area.transport.slider.value() == 20
    assert not window.act.play.isChecked()


def test_loop_restarts_the_file(qtbot, make_window, synthetic_video):
    window = make_window(loop=True)
    seen: list[int] = []
    window.host.frame_shown.connect(lambda: seen.append(window.last_report.index))
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: len(seen) > 2 and np.any(np.diff(seen) < 0), timeout=TIMEOUT)
    assert window.act.play.isChecked()


def test_reopen_remembers_last_source(qtbot, make_window, synthetic_video):
    window = make_window()
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: window.source_info is not None, timeout=TIMEOUT)
    assert window.settings.last_source == str(synthetic_video)


def test_drop_a_file_and_space_pauses(qtbot, make_window, synthetic_video):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    window = make_window(loop=True)  # keeps playing, so only Space can pause it
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(synthetic_video))])
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: window.last_report is not None and window.act.play.isChecked(), timeout=TIMEOUT)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.act.play.isChecked(), timeout=TIMEOUT)


def test_settings_reach_the_pipeline_and_are_remembered(qtbot, make_window, synthetic_video):
    window = make_window(loop=True)
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: window.last_report is not None, timeout=TIMEOUT)
    panel = window.settings_panel
    panel.min_score.setValue(0.7)
    panel.min_size.setValue(24)
    panel.smoothing.setValue(50)
    panel.detector.setCurrentIndex(panel.detector.findData("short"))
    panel.debug.setChecked(True)

    def applied() -> bool:
        p = window.host._worker._owner.pipeline  # read-only peek from the test: the worker owns it
        return (p is not None and p.detector.model == "short" and abs(p.min_score - 0.7) < 1e-6
                and p.min_size == 24 and abs(p.smoothing - 0.5) < 1e-6 and p.keep_crops)

    qtbot.waitUntil(applied, timeout=TIMEOUT)
    assert window.crops_dock.isVisible()
    saved = window.settings.options()
    assert (saved.detector, saved.min_score, saved.min_size, saved.debug) == ("short", 0.7, 24.0, True)


def test_play_at_the_end_starts_again(qtbot, make_window, synthetic_video):
    window = make_window()
    window.open_source(str(synthetic_video))
    wait_for_index(qtbot, window, VIDEO_FRAMES - 1)
    qtbot.waitUntil(lambda: not window.act.play.isChecked(), timeout=TIMEOUT)  # ended
    window.act.play.trigger()
    qtbot.waitUntil(lambda: window.last_report.index < 10, timeout=TIMEOUT)


def test_a_truncated_file_says_so(qtbot, make_window, tmp_path):
    import av

    path = tmp_path / "cut.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:  # index first, then data
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(60):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (120, 160, 3), np.uint8), format="bgr24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
    window = make_window(loop=True)  # a looping file says it once, not every round
    told: list[str] = []
    window.host.truncated.connect(told.append)
    seen: list[int] = []
    window.host.frame_shown.connect(lambda: seen.append(window.last_report.index))
    window.open_source(str(path))
    qtbot.waitUntil(lambda: window.area.notice.isVisible(), timeout=TIMEOUT)
    text = window.area.notice.text()
    assert "of the 60 frames" in text and "truncated" in text
    window.area.notice.close_button.click()
    qtbot.waitUntil(lambda: np.sum(np.diff(seen) < 0) >= 2, timeout=TIMEOUT)  # two more rounds
    assert len(told) == 1 and not window.area.notice.isVisible()
