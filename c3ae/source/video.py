"""Frame sources: a camera, a video file or a network stream, read with OpenCV.

`VideoSource` wraps cv2.VideoCapture with clear errors for a missing camera or
an unreadable file, and tells when a file ends before the frame count its
header announces (a truncated download or copy). An http(s) address whose
server states a length (or, when the server does not answer that question,
whose container states a duration) is a file: it ends at its end
(`c3ae.source.http_file` asks the server, and downloads the one layout that
cannot be read as it arrives). A live stream (rtsp://, an MJPEG feed, an http
body without a length) that drops is reopened with back-off, because IP
cameras and their networks hiccup; the gap is reported, and only a stream that
stays away longer than `reconnect_s` ends. Writing lives in `c3ae.sink.writer`.
"""
from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# OpenCV's FFmpeg prints decoder warnings straight to the terminal; keep them
# for --verbose (read when the first capture opens, so setting them here is in time)
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from c3ae.errors import SourceError
from c3ae.options import DEFAULT_RECONNECT_S
from c3ae.source.http_file import download, probe

DEFAULT_FPS = 30.0
HEADER_SLACK = 1  # frames a header's count may be off by (it is estimated from the duration in some files)
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")
HTTP_SCHEMES = ("http://", "https://")  # the addresses that may serve a file rather than a live stream
BACKOFF_S = (0.5, 8.0)  # first and longest wait between reopening attempts
STREAM_TIMEOUT_MS = 5000  # a stream that sends nothing for this long has dropped
V4L2_SYSFS = Path("/sys/class/video4linux")


def is_stream(source: str | int) -> bool:
    """True for a network address such as rtsp://host/path or http://host:8080/video."""
    match = re.match(r"^([a-z][a-z0-9+.-]*)://", str(source).strip(), re.IGNORECASE)
    return match is not None and match.group(1).lower() in STREAM_SCHEMES


def camera_names(root: Path = V4L2_SYSFS) -> dict[str, int]:
    """Linux camera name -> the index OpenCV opens (the /dev/videoN number of its
    capture node); empty where there is no V4L2."""
    names: dict[str, int] = {}
    for node in root.glob("video*"):
        index_file, name_file = node / "index", node / "name"
        if (index_file.is_file() and index_file.read_text().strip() != "0") or not name_file.is_file():
            continue  # a camera exposes several nodes; index 0 is the capture one
        names.setdefault(name_file.read_text().strip(), int(re.sub(r"\D", "", node.name)))
    return names


def parse_source(source: str | int, cameras: Callable[[], dict[str, int]] = camera_names) -> str | int:
    """'0', 0 -> camera index 0; a URL or an existing path as given; else a camera's
    name (whole or a unique part, any case) -> its index; anything else is a path."""
    if isinstance(source, int):
        return source
    text = str(source).strip()
    if text.isdigit():
        return int(text)
    if is_stream(text) or Path(text).exists():
        return str(source)
    named = cameras()
    exact = [i for name, i in named.items() if name.lower() == text.lower()]
    partial = [i for name, i in named.items() if text.lower() in name.lower()]
    found = exact or partial
    return found[0] if len(found) == 1 else str(source)


@dataclass(frozen=True)
class Gap:
    """A stretch of a stream with no frames: it dropped after `after_frame` frames
    and came back `seconds` later (frames in between are lost, not invented)."""

    after_frame: int
    seconds: float

    def __str__(self) -> str:
        return f"stream dropped after frame {self.after_frame}; back after a {self.seconds:.1f} s gap"


class VideoSource:
    """A camera (int index), a video file or a network stream, read frame by frame."""

    def __init__(self, source: str | int, *, reconnect_s: float = DEFAULT_RECONNECT_S,
                 on_notice: Callable[[str], None] | None = None, stop: Callable[[], bool] | None = None) -> None:
        """`reconnect_s`: how long a dropped stream is retried; `on_notice` hears
        of drops and gaps (called on the reading thread) and of a download;
        `stop` is asked during a download, so Ctrl+C can end it."""
        self.source = parse_source(source)
        self.is_camera = isinstance(self.source, int)
        self.is_stream = not self.is_camera and is_stream(self.source)  # a network address, live or a file
        self.reconnect_s = reconnect_s
        self.gaps: list[Gap] = []
        self._on_notice = on_notice
        self._closing = threading.Event()
        # held around every use of the capture: release() on another thread (a stop, the app
        # closing a stream) must not free it under a read in progress, which is native code
        self._cap_lock = threading.Lock()
        self._downloaded: Path | None = None  # the temporary copy of a file its server cannot seek in
        if not (self.is_camera or self.is_stream) and not Path(self.source).is_file():
            raise SourceError(f"Video file not found: {self.source}")
        is_http = self.is_stream and self.source.lower().startswith(HTTP_SCHEMES)
        http = probe(self.source, STREAM_TIMEOUT_MS / 1000) if is_http else None
        # live: frames come at their own pace, there is no end to wait for and no seeking
        self.is_live = self.is_camera or (self.is_stream and not (http is not None and http.is_file))
        self._seekable = not self.is_live and (http is None or http.ranges)
        if http is not None and http.needs_download:
            self._downloaded = download(self.source, http.length, STREAM_TIMEOUT_MS / 1000, stop, on_notice)
            self._seekable = True
        try:
            self._start(container_decides=is_http and (http is None or http.playlist))
        except BaseException:
            self._forget_download()
            raise

    def _start(self, container_decides: bool) -> None:
        """Open the capture and read the first frame. `container_decides`: an HLS
        or DASH playlist, or an http server that did not answer the probe, serves
        a file when its container states a duration (read as it arrives, without
        seeking). Not a plain http body without a length: a live fragmented MP4
        states the duration of its first fragment."""
        self._cap = self._open()
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"Cannot open {self.label}" + (
                ": is it connected and not used by another app?" if self.is_camera else
                ": no answer, or not a video stream OpenCV can decode" if self.is_stream else
                ": not a video OpenCV can decode"))
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and np.isfinite(fps) and 1 <= fps <= 240 else DEFAULT_FPS
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if container_decides and count > 0:
            self.is_live = False
        self.frame_count = max(count, 0) if not self.is_live else 0  # 0: unknown, or live
        self.position = 0  # index of the next frame read() returns
        self._size = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._pending: np.ndarray | None = None
        if not self.is_camera:  # an unreadable file or stream must fail here, not on the first read
            ok, first = self._cap.read()
            if not ok or first is None:
                self._cap.release()
                raise SourceError(f"Cannot read any frame from {self.source}: " + (
                    "the stream sends no video" if self.is_live else "the file is empty or corrupt"))
            self._pending = first
            self._size = first.shape[1], first.shape[0]

    @property
    def label(self) -> str:
        return f"camera {self.source}" if self.is_camera else f"stream {self.source}" if self.is_live \
            else f"video file {self.source}"

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def _open(self) -> cv2.VideoCapture:
        if self._downloaded is not None:
            return cv2.VideoCapture(str(self._downloaded))
        if not self.is_stream:
            return cv2.VideoCapture(self.source)
        return cv2.VideoCapture(self.source, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS,
                                                              cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS])

    def read(self) -> np.ndarray | None:
        """The next BGR frame, or None at the end of a file (served over http(s) too),
        when a camera is lost, or when a dropped live stream did not come back
        within `reconnect_s`."""
        if self._pending is not None:
            frame, self._pending = self._pending, None
        else:
            with self._cap_lock:
                ok, frame = self._cap.read() if not self._closing.is_set() else (False, None)
            if not ok or frame is None:
                live = self.is_live and self.is_stream and not self._closing.is_set()  # not our own release
                frame = self._reconnect() if live else None
                if frame is None:
                    return None
        self.position += 1
        return frame

    def _reconnect(self) -> np.ndarray | None:
        """Reopen a dropped stream, waiting longer after each failure (0.5 s doubling
        to 8 s); its first frame, or None after `reconnect_s` or `release`."""
        with self._cap_lock:
            self._cap.release()
        dropped = time.monotonic()
        self._notice(f"{self.label} dropped after frame {self.position}; reconnecting")
        delay = BACKOFF_S[0]
        while not self._closing.is_set():
            cap = self._open()  # our own until adopted, out of release()'s reach
            ok, frame = cap.read() if cap.isOpened() else (False, None)
            with self._cap_lock:
                adopted = ok and frame is not None and not self._closing.is_set()
                if adopted:
                    self._cap = cap
            if adopted:
                gap = Gap(self.position, time.monotonic() - dropped)
                self.gaps.append(gap)
                self._notice(f"{self.label}: {gap}")
                return frame
            cap.release()
            left = self.reconnect_s - (time.monotonic() - dropped)
            if left <= 0 or self._closing.wait(min(delay, left)):
                break
            delay = min(delay * 2, BACKOFF_S[1])
        if not self._closing.is_set():
            self._notice(f"{self.label} did not come back within {self.reconnect_s:g} s; it ended after "
                         f"frame {self.position}")
        return None

    def _notice(self, message: str) -> None:
        if self._on_notice is not None:
            self._on_notice(message)

    def truncation(self) -> str | None:
        """After the last frame: why the file is shorter than its header says, or None."""
        if self.is_live or self.position >= self.frame_count - HEADER_SLACK:
            return None
        cause = "the connection dropped or the file is truncated" if self.is_stream else \
            "the file is truncated or damaged"
        return f"{self.source} ended after {self.position} of the {self.frame_count} frames its header announces: " \
            + cause

    def seek(self, index: int) -> None:
        """Jump to frame `index` of a file (the next read returns it); a file read
        as it arrives from a server that cannot seek stays where it is."""
        if not self._seekable:
            return
        index = int(np.clip(index, 0, max(self.frame_count - 1, 0)))
        with self._cap_lock:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        self._pending = None
        self.position = index

    def release(self) -> None:
        """Close the source; also ends a reconnection in progress on another thread,
        after the read in progress there (at most STREAM_TIMEOUT_MS on a stream)."""
        self._closing.set()
        with self._cap_lock:
            self._cap.release()
        self._forget_download()

    def _forget_download(self) -> None:
        if self._downloaded is not None:
            self._downloaded.unlink(missing_ok=True)
            self._downloaded = None

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
