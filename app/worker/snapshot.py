"""Saving the annotated frame as a PNG, and the people seen so far as a CSV: a whole file or none.

Qt-free, so the worker calls it in its own thread and tests call it directly.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from app.recording.session import timestamped_path
from c3ae.sink.results_log import track_rows, write_tracks_csv

if TYPE_CHECKING:
    from c3ae.track.tracker import TrackSummary


def save_snapshot(folder: str | Path, frame_bgr: np.ndarray) -> Path:
    """Write `frame_bgr` to folder/c3ae-snapshot-<time>.png (creating the folder);
    raises OSError. The PNG is renamed into place when complete, so a full disk
    never leaves a half-written image under the final name."""
    folder_path = Path(folder).expanduser()
    folder_path.mkdir(parents=True, exist_ok=True)
    path = timestamped_path(folder_path, "c3ae-snapshot", ".png")
    ok, png = cv2.imencode(".png", frame_bgr)
    if not ok:
        raise OSError("cannot encode the frame as PNG")
    partial = path.with_name(f".{path.name}.part")
    try:
        partial.write_bytes(png.tobytes())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def save_people(folder: str | Path, summaries: list[TrackSummary], fps: float, trained: bool) -> Path:
    """Write one row per person (track) to folder/c3ae-people-<time>.csv, the same table as
    `annotate --tracks`; raises OSError. Renamed into place when complete, like snapshots."""
    folder_path = Path(folder).expanduser()
    folder_path.mkdir(parents=True, exist_ok=True)
    path = timestamped_path(folder_path, "c3ae-people", ".csv")
    partial = path.with_name(f".{path.name}.part")
    try:
        write_tracks_csv(partial, track_rows(summaries, fps, trained))
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path
