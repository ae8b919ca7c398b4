"""One recording session: the app's naming and pacing over `c3ae.sink.writer.ResultsSink`.

Names are timestamped so recordings never overwrite each other. A camera
recording is paced by the wall clock: when processing is slower than the
camera's frame rate a frame is repeated, when faster one is skipped, so the
clip plays back at real speed. The sink writes crash-safe files, so stopping
for any reason (the user, closing the window, a lost source, a full disk, a
crash) leaves everything but at most the last second.

Encoding runs on its own thread (`c3ae.sink.background`), as in `annotate`:
x264 takes ~10 ms of a 1080p frame, and on the worker's thread it pushed a
1080p frame past the 33 ms a 30 FPS camera allows (median 29 ms, p90 37).
A failed write ends the recording at the next frame.
"""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from c3ae.errors import RecordingError
from c3ae.results import FrameResult
from c3ae.sink.background import BackgroundWriter
from c3ae.sink.writer import ResultsSink, describe_os_error


def timestamped_path(folder: Path, prefix: str, suffix: str, now: datetime | None = None) -> Path:
    """folder/prefix-YYYYmmdd-HHMMSS[-n]suffix that does not exist yet."""
    stem = f"{prefix}-{(now or datetime.now()):%Y%m%d-%H%M%S}"
    path = folder / f"{stem}{suffix}"
    n = 1
    while path.exists():
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path


class Recording:
    """Writes annotated frames (and CSV rows) until `close()`; raises RecordingError
    from `write` when the disk fills, with the files already finalised."""

    def __init__(self, folder: str | Path, fps: float, size: tuple[int, int], with_csv: bool,
                 realtime: bool = False) -> None:
        folder = Path(folder).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordingError(describe_os_error(exc, folder)) from exc
        self.path = timestamped_path(folder, "c3ae", ".mp4")
        self.csv_path = self.path.with_suffix(".csv") if with_csv else None
        self.fps = fps
        self._sink = ResultsSink(self.path, fps, size, csv_path=self.csv_path)
        self._writer = BackgroundWriter(self._sink)
        self._queued = 0  # pictures handed to the encoder
        self._closed = False
        self.realtime = realtime
        self._started: float | None = None

    @property
    def frames(self) -> int:
        """Pictures in the clip: handed to the encoder while recording, in the file once closed."""
        return self._sink.frames if self._closed else self._queued

    def write(self, result: FrameResult) -> None:
        copies = 1
        if self.realtime:
            now = time.perf_counter()
            self._started = self._started if self._started is not None else now
            due = int((now - self._started) * self.fps + 1e-6) + 1  # frames the clip should hold by now
            copies = max(min(due - self.frames, int(self.fps) + 1), 0)  # a stall repeats at most ~1 s
        self._writer.write(result, repeat=copies)
        self._queued += copies

    def close(self) -> None:
        """Finish encoding and finalise the files; a recording stopped before its first
        frame leaves none. Raises the RecordingError a write met, if any."""
        self._closed = True
        self._writer.close()
