"""The camera path, with a fake camera: latest-frame-wins, and a camera lost mid-recording."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np

import app.worker.capture
from app.worker.capture import LatestFrameReader

TIMEOUT = 30_000


class FakeCamera:
    """Looks like `VideoSource` for a camera: numbered frames at `fps`, then lost."""

    def __init__(self, source=0, frames: int = 60, fps: float = 60.0) -> None:
        self.source, self.is_camera, self.fps, self.frame_count = int(source), True, fps, 0
        self.size = (320, 240)
        self.position = 0
        self._frames = frames
        self.released = threading.Event()

    def read(self) -> np.ndarray | None:
        if self.position >= self._frames or self.released.is_set():
            return None
        time.sleep(1.0 / self.fps)
        frame = np.full((240, 320, 3), self.position % 256, np.uint8)
        self.position += 1
        return frame

    def release(self) -> None:
        self.released.set()

    def unplug(self) -> None:
        """No more frames from now on, as when the cable is pulled."""
        self._frames = self.position


def test_reader_keeps_only_the_newest_frame():
    camera = FakeCamera(frames=1000, fps=500.0)
    reader = LatestFrameReader(camera)
    time.sleep(0.1)  # a slow consumer: many frames arrive meanwhile
    first = reader.latest()
    assert first is not None and int(first[0, 0, 0]) > 5, "expected a recent frame, not the first"
    assert reader.latest() is None  # nothing new since
    reader.stop()
    assert camera.released.is_set()


def test_lost_camera_mid_recording_leaves_a_playable_file(qtbot, make_window, monkeypatch):
    cameras: list[FakeCamera] = []
    monkeypatch.setattr(app.worker.capture, "VideoSource",
                        lambda source: cameras.append(FakeCamera(source, frames=10**6, fps=30.0)) or cameras[-1])
    window = make_window()
    window.open_source(0)
    qtbot.waitUntil(lambda: window.last_report is not None, timeout=TIMEOUT)
    assert not window.area.transport.isVisible()  # no seeking in a live camera
    window.act.record.trigger()
    qtbot.waitUntil(lambda: window.last_report.recorded_frames >= 3, timeout=TIMEOUT)
    cameras[0].unplug()  # mid-recording, however slow this machine is
    qtbot.waitUntil(lambda: window.area.empty.title.text() == "The video source was lost", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.last_recording is not None, timeout=TIMEOUT)
    path, frames, error = window.last_recording
    assert error == "" and frames > 0
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == frames and Path(path).with_suffix(".csv").is_file()
    assert not window.act.record.isChecked()


def test_capture_numbers_frames_and_times_them(monkeypatch, synthetic_video):
    monkeypatch.setattr(app.worker.capture, "VideoSource", lambda source: FakeCamera(source, frames=1000, fps=500.0))
    camera = app.worker.capture.Capture(0)
    while camera.read() is None:
        time.sleep(0.005)
    time.sleep(0.05)
    assert camera.index == 0 and camera.time_s >= 0.05  # a camera counts frames and the wall clock
    camera.close()
    monkeypatch.undo()
    video = app.worker.capture.Capture(str(synthetic_video))
    for _ in range(3):
        video.read()
    assert video.index == 2 and video.time_s == 2 / video.video.fps  # a file: its position
    video.video.seek(10)
    video.read()
    assert video.index == 10
    video.close()
