"""Shared fixtures for the app tests: a generated video and isolated settings."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

VIDEO_FRAMES = 40
VIDEO_FPS = 30.0
VIDEO_SIZE = (640, 360)


def write_synthetic_video(path: Path, frames: int = VIDEO_FRAMES, fps: float = VIDEO_FPS,
                          size: tuple[int, int] = VIDEO_SIZE) -> Path:
    """Moving shapes and a frame counter: deterministic, no faces needed."""
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    for i in range(frames):
        frame = np.full((h, w, 3), (40, 60, 90), np.uint8)
        x = int(40 + i * (w - 120) / max(frames - 1, 1))
        cv2.circle(frame, (x, h // 2), 40, (80, 170, 230), -1)
        cv2.rectangle(frame, (w - x - 30, 40), (w - x + 30, 100), (200, 200, 60), -1)
        cv2.putText(frame, f"{i:03d}", (10, h - 20), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="session")
def synthetic_video(tmp_path_factory) -> Path:
    return write_synthetic_video(tmp_path_factory.mktemp("video") / "shapes.mp4")


@pytest.fixture(scope="session")
def shared_engine():
    """One age model for all window tests: loading (and warming up) one per test
    would dominate the suite. Untrained placeholder or weights/c3ae.pt, whichever
    is present: the tests pass either way."""
    from c3ae.model.runner import AgeEngine

    return AgeEngine(warmup=False)


@pytest.fixture
def make_window(qtbot, tmp_path, shared_engine):
    """Factory for main windows with settings in a temporary INI file; every
    window is closed at teardown (which stops its worker thread)."""
    from PySide6.QtCore import QSettings

    from app.settings import AppSettings
    from app.window import MainWindow

    windows = []

    def make(engine=shared_engine, **settings_values):
        settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        settings.output_folder = str(tmp_path / "out")
        for key, value in settings_values.items():
            setattr(settings, key, value)
        window = MainWindow(settings, engine=engine)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
