"""Where frames come from: a file frame by frame, a camera or a network stream
latest-frame-wins.

A camera or stream produces frames at its own pace whether or not we keep up. Reading it
on its own thread and keeping only the newest frame means a slow model always
works on the present, and stale frames are dropped instead of piling up in the
driver's buffer.
"""
from __future__ import annotations

import threading
import time

import numpy as np

from c3ae.source.video import VideoSource, is_stream


class LatestFrameReader:
    """Reads `source` continuously; `latest()` returns the newest unseen frame."""

    def __init__(self, source: VideoSource) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._frame: np.ndarray | None = None
        self._fresh = False
        self._lost = False
        self._running = True
        self._thread = threading.Thread(target=self._run, name="camera-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self._running:
            frame = self._source.read()
            with self._lock:
                if frame is None:
                    self._lost = True
                    return
                self._frame, self._fresh = frame, True

    @property
    def lost(self) -> bool:
        """True once the camera stopped delivering (unplugged, or taken by another app)."""
        with self._lock:
            return self._lost and not self._fresh

    def latest(self) -> np.ndarray | None:
        """The newest frame not returned before, or None when nothing new arrived."""
        with self._lock:
            if not self._fresh:
                return None
            self._fresh = False
            return self._frame

    def stop(self) -> None:
        """Stop reading and release the camera (waits for the read in progress)."""
        self._running = False
        self._thread.join(timeout=2.0)
        self._source.release()


class Capture:
    """An open source behind one interface: a file is read frame by frame (and can
    seek), a camera or stream through a `LatestFrameReader`, so the worker never
    asks which (`is_camera` is true for both live kinds). Also says where the
    last frame read sits: `index` and `time_s`."""

    def __init__(self, source: str | int) -> None:
        """Raises `SourceError` when the source cannot be opened."""
        self._notices: list[str] = []  # a stream's drops and gaps, from the reader thread
        self.video = VideoSource(source, on_notice=self._notices.append) if is_stream(source) else VideoSource(source)
        self.is_camera = self.video.is_camera or self.video.is_live  # an http(s) address of a file plays as a file
        self._reader = LatestFrameReader(self.video) if self.is_camera else None
        self.index = -1  # the last frame read: its position in a file, its number from a camera
        self._opened_at = time.perf_counter()
        self._early_end_told = False

    def read(self) -> np.ndarray | None:
        """The next file frame (None at the end), or the newest camera frame (None when none is new)."""
        frame = self._reader.latest() if self._reader is not None else self.video.read()
        if frame is not None:
            self.index = self.index + 1 if self.is_camera else self.video.position - 1
        return frame

    @property
    def time_s(self) -> float:
        """The last frame's time: its position in a file, seconds since opening for a camera."""
        return time.perf_counter() - self._opened_at if self.is_camera else self.index / self.video.fps

    def early_end(self) -> str | None:
        """At the end of a file: why it ended before the frame count its header
        announces, the first time only (a looping file would say it every round)."""
        reason = None if self.is_camera or self._early_end_told else self.video.truncation()
        self._early_end_told = self._early_end_told or reason is not None
        return reason

    def notices(self) -> list[str]:
        """What happened to a stream since the last call (dropped, back after a gap)."""
        taken = []
        while self._notices:  # pop is atomic: a notice appended meanwhile is kept for next time
            taken.append(self._notices.pop(0))
        return taken

    @property
    def lost(self) -> bool:
        """True once a camera stopped delivering; a file is never lost."""
        return self._reader is not None and self._reader.lost

    def close(self) -> None:
        if self._reader is not None:
            self._reader.stop()  # releases the camera after its last read
        else:
            self.video.release()
