"""Recording: a playable MP4 with the expected frames (and CSV), also when the window closes mid-way."""
from __future__ import annotations

import csv
from pathlib import Path

import cv2
import pytest
from conftest import VIDEO_FPS, VIDEO_FRAMES, VIDEO_SIZE, write_synthetic_video
from PySide6.QtCore import Qt

from c3ae.sink.results_log import COLUMNS, TRACK_COLUMNS

TIMEOUT = 30_000


def count_frames(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), f"{path} is not a playable video"
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def test_record_writes_every_frame(qtbot, make_window, synthetic_video):
    window = make_window(save_csv=True)
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: window.last_report is not None, timeout=TIMEOUT)
    window.act.play.trigger()  # pause, go to the first frame, record from there on
    qtbot.waitUntil(lambda: not window.act.play.isChecked(), timeout=TIMEOUT)
    # Seek through the window's signal, not the slider: the slider may already
    # show 0 while a newer frame is still on its way, and then it emits nothing.
    # Frame 0 is only produced again by this seek (playback had moved past it).
    with qtbot.waitSignal(window.host.frame_ready, timeout=TIMEOUT,
                          check_params_cb=lambda report: report.index == 0):
        window.host.seek_requested.emit(0)
    window.act.record.trigger()
    qtbot.waitUntil(lambda: bool(window.recording_path), timeout=TIMEOUT)
    assert window.toolbar.rec_action.isVisible()
    window.act.play.trigger()
    # the end of the file ends the recording
    qtbot.waitUntil(lambda: window.last_recording is not None, timeout=TIMEOUT)
    path, frames, error = window.last_recording
    assert error == ""
    assert frames == VIDEO_FRAMES - 1  # frame 0 was on screen before recording started
    path = Path(path)
    assert path.parent == Path(window.settings.output_folder) and path.name.startswith("c3ae-")
    assert count_frames(path) == frames
    cap = cv2.VideoCapture(str(path))
    assert abs(cap.get(cv2.CAP_PROP_FPS) - VIDEO_FPS) < 0.5
    assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) == VIDEO_SIZE
    cap.release()
    with open(path.with_suffix(".csv"), newline="") as f:
        assert next(csv.reader(f)) == COLUMNS
    assert not window.act.record.isChecked() and not window.toolbar.rec_action.isVisible()


def test_closing_while_recording_finalises_the_file(qtbot, make_window, synthetic_video, tmp_path):
    window = make_window(loop=True)
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: window.last_report is not None, timeout=TIMEOUT)
    window.act.record.trigger()
    qtbot.waitUntil(lambda: window.last_report.recorded_frames >= 5, timeout=TIMEOUT)
    path = Path(window.recording_path)
    window.close()  # no stop first: closing must still leave a playable file
    assert not window.host.thread.isRunning()
    frames = count_frames(path)
    assert frames >= 5
    cap = cv2.VideoCapture(str(path))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == frames  # the index was written: finalised
    cap.release()


def test_snapshot_saves_png(qtbot, make_window, synthetic_video):
    window = make_window()
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: window.last_report is not None, timeout=TIMEOUT)
    window.act.snapshot.trigger()
    folder = Path(window.settings.output_folder)
    qtbot.waitUntil(lambda: any(folder.glob("c3ae-snapshot-*.png")), timeout=TIMEOUT)
    image = cv2.imread(str(next(folder.glob("c3ae-snapshot-*.png"))))
    assert image is not None and image.shape[:2] == VIDEO_SIZE[::-1]


def test_recording_without_frames_leaves_no_files(tmp_path):
    from app.recording.session import Recording

    recording = Recording(tmp_path, 30.0, (64, 48), with_csv=True)
    assert recording.path.name.startswith("c3ae-") and recording.path.suffix == ".mp4"
    recording.close()
    assert not any(tmp_path.iterdir())


def test_camera_recording_is_paced_by_the_wall_clock(tmp_path, monkeypatch):
    """A camera processed at 10 FPS into a 30 FPS clip: each frame is repeated so
    that one second of capture is one second of video, not a third of one."""
    import numpy as np

    from app.recording import session as rec_module
    from c3ae.faces import Faces
    from c3ae.results import FrameResult

    clock = {"t": 100.0}
    monkeypatch.setattr(rec_module.time, "perf_counter", lambda: clock["t"])
    recording = rec_module.Recording(tmp_path, 30.0, (64, 48), with_csv=False, realtime=True)
    for i in range(11):  # frames at t = 0.0, 0.1, ..., 1.0 s
        recording.write(FrameResult(np.zeros((48, 64, 3), np.uint8), Faces.empty(), i, i / 10))
        clock["t"] += 0.1
    recording.close()
    assert count_frames(recording.path) == 31  # 1.0 s at 30 FPS, plus the first frame


def test_the_worker_hands_frames_to_the_encoder_without_waiting_for_it(tmp_path, monkeypatch):
    """x264 takes ~10 ms of a 1080p frame: the worker must not wait for it. While the
    encoder is stuck on the first frame, further frames are taken at once; closing
    waits for all of them, and every one is in the file."""
    import threading

    import numpy as np

    from app.recording.session import Recording
    from c3ae.faces import Faces
    from c3ae.results import FrameResult
    from c3ae.sink.writer import ResultsSink

    release, entered = threading.Event(), threading.Event()
    real_write = ResultsSink.write

    def stuck_first(self, result, repeat=1):
        entered.set()
        assert release.wait(10), "never released"
        real_write(self, result, repeat)

    monkeypatch.setattr(ResultsSink, "write", stuck_first)
    recording = Recording(tmp_path, 30.0, (64, 48), with_csv=False)
    try:
        for i in range(3):
            recording.write(FrameResult(np.full((48, 64, 3), 60 * i, np.uint8), Faces.empty(), i, i / 30))
        assert entered.wait(10) and recording.frames == 3  # taken while the encoder is stuck
    finally:
        release.set()
        recording.close()
    assert recording.frames == 3 and count_frames(recording.path) == 3


class DiskFillsAfter:
    """Wraps the sink's real video writer; its `n`-th write fails as a full disk does."""

    def __init__(self, writer, n: int) -> None:
        self._writer, self._left = writer, n

    def write(self, frame):
        import errno

        self._left -= 1
        if self._left < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._writer.write(frame)

    def close(self) -> None:
        self._writer.close()


def test_a_failed_recording_says_what_was_saved_until_dismissed(qtbot, make_window, tmp_path, monkeypatch):
    import re

    import c3ae.sink.writer

    video = write_synthetic_video(tmp_path / "slow.mp4", frames=20, fps=5.0)  # 5 frames per fragment
    real_open = c3ae.sink.writer.open_video
    monkeypatch.setattr(c3ae.sink.writer, "open_video", lambda *args: DiskFillsAfter(real_open(*args), 8))
    window = make_window(loop=True, save_csv=True)
    window.open_source(str(video))
    qtbot.waitUntil(lambda: window.last_report is not None, timeout=TIMEOUT)
    window.act.record.trigger()
    qtbot.waitUntil(lambda: window.last_recording is not None, timeout=TIMEOUT)
    path, frames, error = window.last_recording
    assert "disk is full" in error and frames == 8
    banner = window.area.notice
    assert banner.isVisible() and not window.act.record.isChecked()
    saved = f"Saved in {Path(path).parent}: {Path(path).name} and {Path(path).with_suffix('.csv').name}"
    assert saved in banner.text()
    said = int(re.search(r"(\d+) frames are saved", banner.text()).group(1))
    assert 0 < said <= frames and count_frames(Path(path)) >= said  # what it says is saved is there and plays
    qtbot.wait(1000)
    assert banner.isVisible(), "the failure must stay on screen until dismissed"
    qtbot.mouseClick(banner.close_button, Qt.MouseButton.LeftButton)
    assert not banner.isVisible()


def test_a_recording_that_cannot_start_says_so(qtbot, make_window, synthetic_video, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    window = make_window(output_folder=str(blocker / "recordings"))
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: window.last_report is not None, timeout=TIMEOUT)
    window.act.record.trigger()
    qtbot.waitUntil(lambda: window.area.notice.isVisible(), timeout=TIMEOUT)
    assert window.area.notice.text().startswith("Recording could not start, nothing was saved.")
    assert not window.act.record.isChecked() and not any(tmp_path.glob("**/*.mp4"))


class CloseFails(DiskFillsAfter):
    """A writer whose finalising fails as a full disk makes it."""

    def close(self) -> None:
        import errno

        self._writer.close()
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_recording_that_cannot_be_finalised_still_ends(tmp_path, monkeypatch):
    import numpy as np

    import c3ae.sink.writer
    from app.recording.recorder import Recorder
    from c3ae.faces import Faces
    from c3ae.results import FrameResult

    real_open = c3ae.sink.writer.open_video
    monkeypatch.setattr(c3ae.sink.writer, "open_video", lambda *args: CloseFails(real_open(*args), 100))
    recorder = Recorder()
    path = recorder.start(str(tmp_path), 30.0, (64, 48), with_csv=True, realtime=False)
    assert recorder.start(str(tmp_path), 30.0, (64, 48), with_csv=True, realtime=False) is None  # one at a time
    for i in range(3):
        assert recorder.write(FrameResult(np.zeros((48, 64, 3), np.uint8), Faces.empty(), i, i / 30)) is None
    assert recorder.frames == 3
    ended_path, frames, error = recorder.stop()  # no exception: the window must hear that it ended
    assert ended_path == path and "disk is full" in error
    assert recorder.frames == -1 and recorder.stop() is None


def test_a_record_request_that_finds_no_source_unchecks_record(qtbot, make_window):
    """The camera may be lost between the click and the worker seeing it: Record must not stay on."""
    window = make_window()
    window.act.record.setEnabled(True)
    window.act.record.trigger()
    qtbot.waitUntil(lambda: window.last_recording is not None, timeout=TIMEOUT)
    assert not window.act.record.isChecked()
    assert "nothing to record" in window.area.notice.text() and window.area.notice.isVisible()


def test_export_people_writes_the_per_person_table(qtbot, make_window, synthetic_video):
    window = make_window()
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: window.last_report is not None, timeout=TIMEOUT)
    window.act.people.trigger()
    folder = Path(window.settings.output_folder)
    qtbot.waitUntil(lambda: any(folder.glob("c3ae-people-*.csv")), timeout=TIMEOUT)
    with open(next(folder.glob("c3ae-people-*.csv")), newline="") as f:
        assert csv.DictReader(f).fieldnames == TRACK_COLUMNS  # no faces in the clip: the header alone


def test_save_people_rows_match_annotate_tracks(tmp_path):
    from app.worker.snapshot import save_people
    from c3ae.track.tracker import TrackSummary

    people = [TrackSummary(3, 10, 59, 45, 31.5, 26.0, 38.0, 0.8), TrackSummary(4, 20, 29, 10, 8.0, 5.0, 12.0, 0.4)]
    path = save_people(tmp_path / "out", people, 25.0, trained=True)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["track_id"] for r in rows] == ["3", "4"] and float(rows[0]["age"]) == 31.5
    assert float(rows[0]["seconds"]) == pytest.approx(2.0)  # frames 10..59 at 25 fps
    assert not list(path.parent.glob(".*.part"))
