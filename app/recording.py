"""One recording session: the annotated MP4 plus, optionally, the per-frame CSV.

Names are timestamped so recordings never overwrite each other. A camera
recording is paced by the wall clock: when processing is slower than the
camera's frame rate a frame is repeated, when faster one is skipped, so the
clip plays back at real speed. Both files
are written as frames arrive, so stopping for any reason (the user, closing
the window, a lost source, a full disk) leaves everything written so far.
"""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import numpy as np

from c3ae.faces import Faces
from c3ae.results_log import ResultsLog
from c3ae.video import VideoRecorder


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
    from `write` when the disk fills, with the video already finalised."""

    def __init__(self, folder: str | Path, fps: float, size: tuple[int, int], with_csv: bool,
                 realtime: bool = False) -> None:
        folder = Path(folder).expanduser()
        self.path = timestamped_path(folder, "c3ae", ".mp4")
        self.fps = fps
        self._video = VideoRecorder(self.path, fps, size)
        self.csv_path = self.path.with_suffix(".csv") if with_csv else None
        self._log = ResultsLog(self.csv_path) if self.csv_path else None
        self.realtime = realtime
        self._started: float | None = None

    @property
    def frames(self) -> int:
        return self._video.frames_written

    def write(self, frame: np.ndarray, frame_index: int, time_s: float, faces: Faces, trained: bool) -> None:
        copies = 1
        if self.realtime:
            now = time.perf_counter()
            self._started = self._started if self._started is not None else now
            due = int((now - self._started) * self.fps + 1e-6) + 1  # frames the clip should hold by now
            copies = min(due - self.frames, int(self.fps) + 1)  # a stall repeats at most ~1 s
        try:
            for _ in range(copies):
                self._video.write(frame)
        except Exception:
            self.close()
            raise
        if self._log is not None:
            self._log.write(frame_index, time_s, faces, trained)

    def close(self) -> None:
        """Finalise both files; a recording stopped before its first frame leaves none."""
        self._video.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.frames == 0:
            for path in (self.path, self.csv_path):
                if path is not None:
                    path.unlink(missing_ok=True)
