"""Frame sources: a camera or a video file, read with OpenCV.

`VideoSource` wraps cv2.VideoCapture with clear errors for a missing camera or
an unreadable file, and tells when a file ends before the frame count its
header announces (a truncated download or copy). Writing lives in `c3ae.sink`.
"""
from __future__ import annotations

import os
from pathlib import Path

# OpenCV's FFmpeg prints decoder warnings straight to the terminal; keep them
# for --verbose (read when the first capture opens, so setting them here is in time)
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

DEFAULT_FPS = 30.0
HEADER_SLACK = 1  # frames a header's count may be off by (it is estimated from the duration in some files)


class SourceError(RuntimeError):
    """A camera or video file that cannot be opened or read."""


class RecordingError(RuntimeError):
    """Writing results failed or was refused (bad output path, disk full); see `c3ae.sink`."""


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

    def truncation(self) -> str | None:
        """After the last frame: why the file is shorter than its header says, or None."""
        if self.is_camera or self.position >= self.frame_count - HEADER_SLACK:
            return None
        return (f"{self.source} ended after {self.position} of the {self.frame_count} frames its header "
                f"announces: the file is truncated or damaged")

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
