"""Frame sources (camera or file) and a recorder that never loses frames.

`VideoSource` wraps cv2.VideoCapture with clear errors for a missing camera or
an unreadable file. `VideoRecorder` writes MP4 (MPEG-4 Part 2, 'mp4v', which
OpenCV's bundled FFmpeg always has) and checks free disk space as it goes: when
the disk is nearly full it finalises the file and raises, so what was recorded
stays a playable file instead of being cut mid-write.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np

DEFAULT_FPS = 30.0


class SourceError(RuntimeError):
    """A camera or video file that cannot be opened or read."""


class RecordingError(RuntimeError):
    """Recording stopped (cannot open the file, or the disk is nearly full)."""


def parse_source(source: str | int) -> str | int:
    """'0', 0 -> camera index 0; anything else is a file path."""
    if isinstance(source, int):
        return source
    return int(source) if str(source).strip().isdigit() else str(source)


class VideoSource:
    """A camera (int index) or a video file, read frame by frame."""

    def __init__(self, source: str | int) -> None:
        self.source = parse_source(source)
        self.is_camera = isinstance(self.source, int)
        if not self.is_camera and not Path(self.source).is_file():
            raise SourceError(f"Video file not found: {self.source}")
        self._cap = cv2.VideoCapture(self.source)
        if not self._cap.isOpened():
            self._cap.release()
            what = f"camera {self.source}" if self.is_camera else f"video file {self.source}"
            raise SourceError(f"Cannot open {what}" + (": is it connected and not used by another app?"
                                                     if self.is_camera else ": not a video OpenCV can decode"))
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and np.isfinite(fps) and 1 <= fps <= 240 else DEFAULT_FPS
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)) if not self.is_camera else 0
        self.frame_count = max(count, 0)
        self.position = 0  # index of the next frame read() returns
        if not self.is_camera:  # an unreadable file must fail here, not on the first read
            ok, first = self._cap.read()
            if not ok or first is None:
                self._cap.release()
                raise SourceError(f"Cannot read any frame from {self.source}: the file is empty or corrupt")
            self._pending: np.ndarray | None = first
        else:
            self._pending = None

    @property
    def size(self) -> tuple[int, int]:
        return int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))

    def read(self) -> np.ndarray | None:
        """The next BGR frame, or None at the end of a file / when a camera is lost."""
        if self._pending is not None:
            frame, self._pending = self._pending, None
        else:
            ok, frame = self._cap.read()
            if not ok or frame is None:
                return None
        self.position += 1
        return frame

    def seek(self, index: int) -> None:
        """Jump to frame `index` of a file (the next read returns it)."""
        if self.is_camera:
            return
        index = int(np.clip(index, 0, max(self.frame_count - 1, 0)))
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        self._pending = None
        self.position = index

    def release(self) -> None:
        self._cap.release()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class VideoRecorder:
    """Writes BGR frames to an MP4; `close()` (also on errors) leaves a playable file."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int], min_free_mb: float = 200.0) -> None:
        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))
        self.min_free_bytes = min_free_mb * 1024 * 1024
        self.frames_written = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordingError(f"Cannot create the recording folder {self.path.parent}: {exc}") from exc
        self._check_space()
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), self.size)
        if not self._writer.isOpened():
            raise RecordingError(f"Cannot write a video to {self.path}")

    def _check_space(self) -> None:
        free = shutil.disk_usage(self.path.parent).free
        if free < self.min_free_bytes:
            raise RecordingError(f"Not enough free disk space in {self.path.parent} "
                                 f"({free / 2**20:.0f} MB free, {self.min_free_bytes / 2**20:.0f} MB needed)")

    def write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            raise RecordingError("the recorder is closed")
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size)
        if self.frames_written % 30 == 0:
            try:
                self._check_space()
            except RecordingError as exc:
                self.close()
                raise RecordingError(f"{exc}. Recording stopped; {self.frames_written} frames are saved "
                                     f"in {self.path}") from exc
        self._writer.write(frame)
        self.frames_written += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> VideoRecorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
