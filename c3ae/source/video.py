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
stays away longer than `reconnect_s` ends; a reopened stream that replays
frames already read (a live HLS or DASH playlist that stopped growing: a reader
starts at its last segments) gives none of them twice, and one that brings
nothing new for `reconnect_s` has ended. A
file damaged in the middle is read past the damage: the frames lost and where
are kept in `damage`. `time_s` is the presentation time of the frame last read
(a phone's variable frame rate included). Writing lives in `c3ae.sink.writer`.
"""
from __future__ import annotations

import os
import re
import threading
import time
import urllib.parse
import zlib
from collections import deque
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
from c3ae.options import DEFAULT_RECONNECT_S, MIN_FRAME_SIDE
from c3ae.runtime import threads
from c3ae.source.address import is_stream
from c3ae.source.http_file import PLAYLIST_SUFFIXES, download, probe

DEFAULT_FPS = 30.0
DECODER_DELAY = 16  # frames a decoder may still hold when its input fails (a truncated file's last ones)
HEADER_SLACK = 1  # frames a header's count may be off by (it is estimated from the duration in some files)
HTTP_SCHEMES = ("http://", "https://")  # the addresses that may serve a file rather than a live stream
BACKOFF_S = (0.5, 8.0)  # first and longest wait between reopening attempts
STREAM_TIMEOUT_MS = 5000  # a stream that sends nothing for this long has dropped
V4L2_SYSFS = Path("/sys/class/video4linux")
RECENT_FRAMES = 2000  # frames of a live playlist remembered to recognise a replay (over a minute at 30 FPS)


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


@dataclass(frozen=True)
class Damage:
    """A damaged stretch of a file: `lost` frames could not be decoded after
    `after_frame` frames had been read, at `time_s` seconds."""

    after_frame: int
    lost: int
    time_s: float

    def __str__(self) -> str:
        return f"{self.lost} frames lost after frame {self.after_frame} ({self.time_s:.1f} s)"


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
        self.damage: list[Damage] = []
        self.time_s = 0.0  # presentation time of the frame last read
        self._last_stamp = -np.inf  # the file's last presentation time, until a seek
        self._recent: deque[int] = deque(maxlen=RECENT_FRAMES)  # live playlists: checksums of frames read
        self._replaying = False  # a reopened live stream, until it brings a frame not read before
        self._last_new = time.monotonic()  # when a live stream last brought a new frame
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
        # a live playlist is reopened at its last segments: frames read before come again
        self._replays = is_http and (http.playlist if http is not None else
                                     urllib.parse.urlsplit(self.source).path.lower().endswith(PLAYLIST_SUFFIXES))
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
            self._stamp()
        if min(self._size) < MIN_FRAME_SIDE and min(self._size) > 0:
            self._cap.release()
            raise SourceError(f"{self.label} is {self._size[0]}x{self._size[1]} pixels: too small to find faces "
                              f"in (frames of at least {MIN_FRAME_SIDE}x{MIN_FRAME_SIDE} are needed)")

    @property
    def label(self) -> str:
        return f"camera {self.source}" if self.is_camera else f"stream {self.source}" if self.is_live \
            else f"video file {self.source}"

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def _open(self) -> cv2.VideoCapture:
        """The capture, with FFmpeg's decoding threads from the thread policy
        (`c3ae.runtime.threads`); a file FFmpeg cannot open goes to OpenCV's other readers."""
        if self.is_camera:
            return cv2.VideoCapture(self.source)
        decoding = threads.current().decoder_threads
        params = [cv2.CAP_PROP_N_THREADS, decoding] if decoding > 0 else []
        if self.is_stream and self._downloaded is None:
            return cv2.VideoCapture(self.source, cv2.CAP_FFMPEG, params + [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS])
        path = str(self._downloaded or self.source)
        cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG, params)
        if cap.isOpened():
            return cap
        cap.release()
        return cv2.VideoCapture(path)

    def read(self) -> np.ndarray | None:
        """The next BGR frame, or None at the end of a file (served over http(s) too),
        when a camera is lost, or when a dropped live stream did not come back
        within `reconnect_s` (or came back with nothing new)."""
        if self._pending is not None:
            frame, self._pending = self._pending, None
            if self.is_live and self._replays:
                self._is_new(frame)  # remembered, to recognise a replay
        else:
            while True:
                frame = self._next_frame()
                if frame is None:
                    return None
                if not (self.is_live and self._replays) or self._is_new(frame):
                    break
            self._stamp()
        self.position += 1
        return frame

    def _next_frame(self) -> np.ndarray | None:
        """The capture's next frame: past damage in a file, after a reconnection in a live stream."""
        with self._cap_lock:
            ok, frame = self._cap.read() if not self._closing.is_set() else (False, None)
        if ok and frame is not None:
            return frame
        if self._may_be_damaged():
            return self._past_damage()
        live = self.is_live and self.is_stream and not self._closing.is_set()  # not our own release
        return self._reconnect() if live else None

    def _is_new(self, frame: np.ndarray) -> bool:
        """False for a frame a reopened live stream replays (read before, by checksum)."""
        key = zlib.crc32(frame) if frame.flags.c_contiguous else zlib.crc32(np.ascontiguousarray(frame))
        if self._replaying and key in self._recent:
            return False
        self._replaying = False
        self._last_new = time.monotonic()
        self._recent.append(key)
        return True

    def _stamp(self) -> None:
        """`time_s` of the frame just read: its presentation time in a file (variable
        frame rate too), its index over the frame rate in a live source."""
        step = 1 / self.fps
        if self.is_live:
            self.time_s = self.position * step
            return
        with self._cap_lock:
            stamp = max(self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000, 0.0)  # from the start, never before it
        if stamp <= self._last_stamp:  # none, or repeated: one frame on
            stamp = self._last_stamp + step
        self.time_s = self._last_stamp = stamp

    def _may_be_damaged(self) -> bool:
        """A local file (or a downloaded copy) that fails before the frame count its header announces."""
        local = not self.is_stream or self._downloaded is not None
        return (local and not self.is_camera and not self._closing.is_set()
                and self.position < self.frame_count - HEADER_SLACK)

    def _past_damage(self) -> np.ndarray | None:
        """Read on past undecodable packets (each failed read skips one), at most as
        many as the frames the header still announces; the first frame after them,
        or None when the file really ends (truncated)."""
        failed = 1
        while failed < self.frame_count - self.position and not self._closing.is_set():
            with self._cap_lock:
                ok, frame = self._cap.read()
            if ok and frame is not None:
                self.damage.append(Damage(self.position, failed, self.time_s))
                self._notice(f"{self.label}: {self.damage[-1]} (undecodable); reading on")
                return frame
            failed += 1
        return None

    def _reconnect(self) -> np.ndarray | None:
        """Reopen a dropped stream, waiting longer after each failure (0.5 s doubling
        to 8 s); its first frame, or None after `reconnect_s` or `release`."""
        with self._cap_lock:
            self._cap.release()
        if self._replaying and time.monotonic() - self._last_new > self.reconnect_s:
            self._notice(f"{self.label} brought nothing new for {self.reconnect_s:g} s; it ended after "
                         f"frame {self.position}")
            return None
        dropped = self._last_new if self._replaying else time.monotonic()
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
                self._replaying = self._replays  # until a frame not read before: a replay gives none twice
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
        if self.damage and self.position > self.damage[-1].after_frame + DECODER_DELAY:
            lost = sum(d.lost for d in self.damage)
            return f"{self.source} is damaged: {lost} frames could not be decoded (" \
                + "; ".join(str(d) for d in self.damage) + ")"
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
        self._last_stamp = -np.inf
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
