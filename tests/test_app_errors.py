"""Missing sources and models show a message in the window, never an exception."""
from __future__ import annotations

import app.window
import c3ae.detect.face_models as face_models
from app.views.cameras import Camera

TIMEOUT = 30_000


def test_missing_file_shows_message(qtbot, make_window, tmp_path):
    window = make_window()
    window.open_source(str(tmp_path / "nowhere.mp4"))
    qtbot.waitUntil(lambda: window.area.empty.title.text() == "Cannot open the video file", timeout=TIMEOUT)
    assert "not found" in window.area.empty.detail.text()
    assert window.area.stack.currentWidget() is window.area.empty
    assert window.area.empty.open_button.isVisible() and window.area.empty.open_button.isEnabled()
    assert not window.act.record.isEnabled()


def test_unreadable_file_shows_message(qtbot, make_window, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    window = make_window()
    window.open_source(str(bad))
    qtbot.waitUntil(lambda: window.area.empty.title.text() == "Cannot open the video file", timeout=TIMEOUT)
    assert str(bad) in window.area.empty.detail.text()


def test_missing_camera_shows_empty_state_with_cameras(qtbot, make_window, monkeypatch):
    # the camera list comes from Qt's media devices (or V4L2); pretend one exists
    monkeypatch.setattr(app.window, "list_cameras", lambda: [Camera(3, "Test Cam")])
    window = make_window()
    window.open_source(7)  # no such camera on any test machine
    qtbot.waitUntil(lambda: window.area.empty.title.text() == "No camera available", timeout=TIMEOUT)
    assert "camera 7" in window.area.empty.detail.text()
    buttons = [window.area.empty._camera_box.itemAt(i).widget() for i in range(window.area.empty._camera_box.count())]
    assert [b.text() for b in buttons] == ["Camera 3: Test Cam"]
    assert window.area.empty.no_cameras.isHidden()


def test_no_cameras_found_is_said(qtbot, make_window, monkeypatch):
    monkeypatch.setattr(app.window, "list_cameras", lambda: [])
    window = make_window()
    window.open_source(0)
    qtbot.waitUntil(lambda: window.area.empty.title.text() == "No camera available", timeout=TIMEOUT)
    assert window.area.empty.no_cameras.isVisible()


def test_missing_face_model_shows_the_fix(qtbot, make_window, synthetic_video, tmp_path, monkeypatch):
    monkeypatch.setattr(face_models, "MODEL_DIR", tmp_path / "no-models")
    window = make_window()
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: window.area.empty.title.text() == "The age model cannot start", timeout=TIMEOUT)
    assert "make models" in window.area.empty.detail.text()
    assert window.area.banner.isVisible()
