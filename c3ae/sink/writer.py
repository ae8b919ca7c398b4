"""Where a run's results go: the annotated video plus per-frame CSV/JSON.

One sink serves `annotate` and the app's recorder, so both write the same
files the same way:

- Video is H.264 in fragmented MP4 (PyAV's FFmpeg with libx264): a keyframe
  and a self-contained fragment every second, flushed to the file at once,
  so a process killed mid-run (SIGKILL, power cut of the program) leaves a
  playable file that lacks at most the last second. Without an H.264 encoder
  it falls back to OpenCV's MPEG-4 Part 2 ('mp4v') and says so; that file is
  only playable once closed.
- CSV rows are written when the fragment holding their frame is in the file,
  so after a crash the CSV and the video end at the same frame.
- Paths are checked before any file is created, for what is really wrong
  (same file as the input, exists, missing folder, read-only, no permission,
  full); write errors (a disk that fills) finalise what can be and raise
  `RecordingError` saying how many frames are saved.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sys
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

try:
    import av  # FFmpeg with libx264, from PyAV's wheel
except ImportError:  # the OpenCV fallback below still writes video
    av = None

from c3ae.errors import OutputExists, RecordingError
from c3ae.options import MIN_FRAME_SIDE
from c3ae.runtime import threads
from c3ae.sink.results_log import ResultsLog

if TYPE_CHECKING:
    from c3ae.results import FrameResult

MIN_FREE_MB = 200.0
SPACE_CHECK_EVERY = 30  # frames between free-space checks
H264_ENCODERS = ("libx264", "libopenh264")
TIMESCALE = 90_000  # ticks a second of a timed video (MPEG's clock: whole ticks for 24, 25, 30 and 30000/1001)
FRAGMENT_FLAGS = "frag_keyframe+empty_moov+default_base_moof"
# x264 for a recording that must keep pace with 1080p on a shared core (bench/encode.py): ultrafast's
# analysis with CABAC and the deblocking filter put back. On a 1080p stage clip, against superfast:
# 8.3 ms a frame instead of 12.9, 13 KB instead of 15; with a webcam's grain (noise sigma 3) 11 ms and
# 24 KB instead of 27 ms and 98 KB, since superfast's adaptive quantisation spends its bits and time
# keeping the grain; the same PSNR in both. Plain ultrafast is as fast but 10-30% larger (no CABAC).
X264_OPTIONS = {"preset": "ultrafast", "x264-params": "cabac=1:deblock=0,0", "tune": "zerolatency", "crf": "23",
                "sc_threshold": "0"}


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # follows symbolic links, sees hard links
    except OSError:  # one of them does not exist yet: compare the names
        return a.resolve() == b.resolve()


def check_output(path: Path, *, inputs: Iterable[Path] = (), overwrite: bool = False,
                 min_free_mb: float = 0.0) -> None:
    """Raise RecordingError naming the real problem with writing `path`, before
    anything is written (so a refused run leaves no file behind)."""
    for source in inputs:
        if _same_file(path, source):
            raise RecordingError(f"{path} is the same file as {source}; choose another output name "
                                 f"({source} is left unchanged)")
    if path.is_dir():
        raise RecordingError(f"{path} is a folder, not a file name")
    if path.exists():
        if not path.is_file():
            raise RecordingError(f"{path} is not a regular file (a device or a pipe); choose a file name")
        if not overwrite:
            raise OutputExists(f"{path} already exists")
    folder = path.parent
    if not folder.exists():
        raise RecordingError(f"The folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise RecordingError(f"{folder} is not a folder")
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        raise RecordingError(f"{folder} is on a read-only file system; choose another folder")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise RecordingError(f"No permission to write {path}")
    if min_free_mb > 0:
        _check_space(folder, min_free_mb)


def check_outputs(outputs: Iterable[str | Path | None], *, inputs: Iterable[str | Path] = (),
                  overwrite: bool = False, min_free_mb: float = MIN_FREE_MB) -> None:
    """`check_output` for each output (None: not wanted); none may be an input or
    another output, and the first (the video) needs `min_free_mb` of free space."""
    taken = [Path(p) for p in inputs]
    for i, path in enumerate(Path(p) for p in outputs if p is not None):
        check_output(path, inputs=taken, overwrite=overwrite, min_free_mb=min_free_mb if i == 0 else 0.0)
        taken.append(path)


def _check_space(folder: Path, min_free_mb: float) -> None:
    free = shutil.disk_usage(folder).free
    if free < min_free_mb * 2**20:
        raise RecordingError(f"Not enough free disk space in {folder} "
                             f"({free / 2**20:.0f} MB free, {min_free_mb:.0f} MB needed)")


def describe_os_error(exc: OSError, path: Path) -> str:
    """A write error as the user should read it."""
    reasons = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exhausted",
               errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
               errno.EPERM: "permission denied", errno.EIO: "an input/output error (disk removed?)"}
    return f"Cannot write {path}: {reasons.get(exc.errno, exc.strerror or str(exc))}"


def frames_in(path: str | Path) -> int:
    """Video frames a file holds, counted from its packets (no decoding): for a
    partial file left by a killed writer, the frames of its complete fragments."""
    if av is None:
        return int(cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FRAME_COUNT))
    count = 0
    with contextlib.suppress(av.error.FFmpegError, OSError), av.open(str(path)) as container:
        for packet in container.demux(video=0):
            count += packet.size > 0
    return count


class H264Writer:
    """H.264 in fragmented MP4; every `gop` frames a fragment reaches the file.
    Frames are `1/fps` apart, or after `follow_times` at the times given to
    `write` (the input's own, so a variable frame rate stays in step)."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], encoder: str) -> None:
        self.path = path
        self._tick: Fraction | None = None  # the time base of `write`'s times, once `follow_times`
        self._last_pts = -1
        self.gop = max(1, round(fps))  # one keyframe, hence one fragment, per second
        self.size = (size[0] - size[0] % 2, size[1] - size[1] % 2)  # 4:2:0 needs even sides
        self.frames = 0
        self._file = open(path, "wb")
        try:
            self._container = av.open(self._file, "w", format="mp4", options={"movflags": FRAGMENT_FLAGS})
            # threads: x264's slices wait for each other like any intra-op split (see c3ae.runtime.threads)
            options = X264_OPTIONS | {"threads": str(threads.current().encoder_threads)}
            self._stream = self._container.add_stream(
                encoder, rate=Fraction(fps).limit_denominator(1001),
                options=options if encoder == "libx264" else {})
            self._stream.width, self._stream.height = self.size
            self._stream.pix_fmt = "yuv420p"
            self._stream.codec_context.gop_size = self.gop
        except Exception:
            self._file.close()
            raise

    def follow_times(self) -> None:
        """From the first frame on, show each at the time given to `write`."""
        self._tick = Fraction(1, TIMESCALE)
        self._stream.codec_context.time_base = self._tick

    def write(self, frame: np.ndarray, time_s: float | None = None) -> bool:
        """Encode one BGR frame (shown at `time_s` when timed); True when every earlier
        frame is now in the file."""
        w, h = self.size
        # OpenCV's BGR -> I420 (BT.601, video range, as swscale's) is SIMD: 0.5 ms a 640x360 frame against
        # 1.2 through PyAV's reformat, and its averaged chroma round-trips closer to the source. The frame
        # wraps that fresh array without a copy (the encoder copies it in), so the GIL is not held for one
        image = av.VideoFrame.from_numpy_buffer(cv2.cvtColor(frame[:h, :w], cv2.COLOR_BGR2YUV_I420), format="yuv420p")
        if self._tick is None or time_s is None:
            image.pts = self.frames
        else:  # strictly increasing, as the muxer requires
            image.pts = self._last_pts = max(self._last_pts + 1, round(time_s / self._tick))
        boundary = self.frames > 0 and self.frames % self.gop == 0
        if self.frames % self.gop == 0:
            image.pict_type = av.video.frame.PictureType.I  # the muxer starts a fragment at each keyframe
        for packet in self._stream.encode(image):
            self._container.mux(packet)
        self.frames += 1
        if boundary:
            self._file.flush()
        return boundary

    def close(self) -> None:
        if self._file.closed:
            return
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
        finally:
            self._file.close()


class Mp4vWriter:
    """OpenCV's MPEG-4 Part 2 writer: always available, playable only once closed."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        self.path = path
        self.size = size
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), size)
        if not self._writer.isOpened():
            raise RecordingError(f"Cannot write a video to {path}")

    def write(self, frame: np.ndarray, _time_s: float | None = None) -> bool:
        """Never True: nothing is playable before `close`, so the CSV rows wait for it too."""
        self._writer.write(frame)
        return False

    def close(self) -> None:
        self._writer.release()


def h264_encoder() -> str | None:
    """The first H.264 encoder this PyAV build has, or None."""
    if av is None:
        return None
    return next((name for name in H264_ENCODERS if name in av.codecs_available), None)


def open_video(path: Path, fps: float, size: tuple[int, int]) -> H264Writer | Mp4vWriter:
    if min(size) < MIN_FRAME_SIDE:
        raise RecordingError(f"Cannot write {size[0]}x{size[1]} frames to {path}: video needs at least "
                             f"{MIN_FRAME_SIDE}x{MIN_FRAME_SIDE}")
    encoder = h264_encoder()
    if encoder is None:
        print("note: no H.264 encoder (PyAV with libx264) here; writing MPEG-4 Part 2 (mp4v), which some "
              "players cannot play and which is lost if the program is killed", file=sys.stderr)
        return Mp4vWriter(path, fps, size)
    return H264Writer(path, fps, size, encoder)


class ResultsSink:
    """Annotated video + optional CSV/JSON of one run; use as a context manager.

    `write` raises RecordingError when the disk fills or a write fails, after
    finalising what it can; the message says how many frames are saved.
    """

    def __init__(self, video_path: str | Path, fps: float, size: tuple[int, int], *,
                 csv_path: str | Path | None = None, json_path: str | Path | None = None,
                 inputs: Iterable[str | Path] = (), overwrite: bool = False,
                 min_free_mb: float = MIN_FREE_MB, frame_times: bool = False) -> None:
        """`frame_times`: each frame is shown at the `time_s` given to `write` (the
        input's presentation time), not at its index over `fps`."""
        self.path = Path(video_path)
        self.frame_times = frame_times
        self.csv_path = Path(csv_path) if csv_path else None
        self.json_path = Path(json_path) if json_path else None
        self.size = (int(size[0]), int(size[1]))
        self.min_free_mb = min_free_mb
        self.frames = 0  # video frames written
        self.frames_saved = 0  # frames that a crash now would not lose
        check_outputs(self._paths, inputs=inputs, overwrite=overwrite, min_free_mb=min_free_mb)
        self._video: H264Writer | Mp4vWriter | None = None
        self._log: ResultsLog | None = None
        try:
            self._video = open_video(self.path, fps, self.size)
            if frame_times and isinstance(self._video, H264Writer):
                self._video.follow_times()
            self._log = ResultsLog(self.csv_path, self.json_path)
        except OSError as exc:
            self._abandon()
            raise RecordingError(describe_os_error(exc, Path(exc.filename or self.path))) from exc
        except BaseException:
            self._abandon()
            raise

    @property
    def _paths(self) -> list[Path]:
        return [p for p in (self.path, self.csv_path, self.json_path) if p is not None]

    def write(self, result: FrameResult, repeat: int = 1) -> None:
        """One frame's record: its annotated picture (`repeat` times in the video, e.g.
        to pace a camera) and its faces' rows."""
        frame = result.frame
        if self._video is None:
            raise RecordingError("the recording is closed")
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size)
        try:
            for _ in range(repeat):
                if self.frames % SPACE_CHECK_EVERY == 0 and self.frames > 0:  # opening checked frame 0
                    _check_space(self.path.parent, self.min_free_mb)
                timed = self.frame_times and repeat == 1
                boundary = self._video.write(frame, result.time_s) if timed else self._video.write(frame)
                self.frames += 1
                if boundary:  # a fragment is in the file: its rows may follow
                    self.frames_saved = self.frames - 1
                    self._flush_rows(self._log)
            self._log.add(result.index, result.time_s, result.faces, result.trained)
        except RecordingError as exc:
            self.close()
            raise RecordingError(f"{exc}. Recording stopped; {self.frames_saved} frames are saved "
                                 f"in {self.path}", self.frames_saved) from exc
        except OSError as exc:
            self._close_after_error()
            raise RecordingError(f"{describe_os_error(exc, Path(exc.filename or self.path))}. Recording stopped; "
                                 f"{self.frames_saved} frames are saved in {self.path}", self.frames_saved) from exc

    def _flush_rows(self, log: ResultsLog) -> None:
        try:
            log.flush()
        except OSError as exc:  # a CSV write error names no file: say it was the CSV
            raise OSError(exc.errno, exc.strerror, exc.filename or str(self.csv_path)) from exc

    def close(self) -> None:
        """Finalise every file; a run that wrote no frame leaves none."""
        if self._video is None:
            return
        video, log, self._video, self._log = self._video, self._log, None, None
        try:
            video.close()
        except OSError as exc:
            with contextlib.suppress(OSError):
                log.close()
            raise RecordingError(f"{describe_os_error(exc, self.path)}; {self.frames_saved} frames are saved "
                                 f"in {self.path}", self.frames_saved) from exc
        self.frames_saved = self.frames
        try:
            self._flush_rows(log)
            log.close()  # writes the JSON
        except OSError as exc:
            raise RecordingError(f"{describe_os_error(exc, Path(exc.filename or self.json_path or self.path))}; "
                                 f"the video {self.path} is complete ({self.frames} frames)", self.frames) from exc
        if self.frames == 0:
            for path in self._paths:
                path.unlink(missing_ok=True)

    def _close_after_error(self) -> None:
        """After a failed write: keep what reached the disk, ignore further errors."""
        video, log, self._video, self._log = self._video, self._log, None, None
        # best effort: FFmpeg may fail or stay silent on the trailer, so frames_saved keeps
        # the count known to be on disk
        with contextlib.suppress(Exception):
            video.close()
        log.discard_pending()
        with contextlib.suppress(OSError):
            log.close()

    def _abandon(self) -> None:
        """Opening failed half-way: remove what was created."""
        if self._video is not None:
            with contextlib.suppress(OSError):
                self._video.close()
        for path in self._paths:
            path.unlink(missing_ok=True)

    def __enter__(self) -> ResultsSink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
