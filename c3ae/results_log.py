"""Per-frame face results as CSV (one row per detected face per frame) or JSON.

Shared by headless annotation and by the app's recorder, so both write the
same columns. Coasting tracks (no detection this frame) are not logged.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .faces import Faces
from .twopoint import BINS

PROB_COLUMNS = [f"p{int(b)}" for b in BINS]
COLUMNS = ["frame", "time_s", "track_id", "x", "y", "w", "h", "score", "age", "age_smoothed",
           *PROB_COLUMNS, "trained"]


def face_rows(frame_index: int, time_s: float, faces: Faces, trained: bool) -> list[dict]:
    rows = []
    for i in np.flatnonzero(faces.missed == 0):
        x1, y1, x2, y2 = (float(v) for v in faces.boxes[i])
        row = {"frame": frame_index, "time_s": round(time_s, 4), "track_id": int(faces.track_ids[i]),
               "x": round(x1, 1), "y": round(y1, 1), "w": round(x2 - x1, 1), "h": round(y2 - y1, 1),
               "score": round(float(faces.scores[i]), 4), "age": round(float(faces.ages[i]), 2),
               "age_smoothed": round(float(faces.ages_smoothed[i]), 2), "trained": int(trained)}
        row.update({c: round(float(p), 5) for c, p in zip(PROB_COLUMNS, faces.dists[i])})
        if not trained:  # an untrained model's numbers are not ages: leave them out
            row.update(dict.fromkeys(["age", "age_smoothed", *PROB_COLUMNS], ""))
        rows.append(row)
    return rows


class ResultsLog:
    """Rows to CSV, written on `flush()` (the sink flushes once the video holds
    their frames, so the two agree after a crash), and optionally collected for
    a JSON file at close. Creates no folder: the caller has checked the paths."""

    def __init__(self, csv_path: str | Path | None = None, json_path: str | Path | None = None) -> None:
        self.csv_path = Path(csv_path) if csv_path else None
        self.json_path = Path(json_path) if json_path else None
        self._file = None
        self._writer = None
        self._frames: list[dict] = []
        self._pending: list[dict] = []
        if self.csv_path:
            self._file = open(self.csv_path, "w", newline="")
            self._writer = csv.DictWriter(self._file, fieldnames=COLUMNS)
            self._writer.writeheader()

    def add(self, frame_index: int, time_s: float, faces: Faces, trained: bool) -> None:
        """Queue one frame's rows for the CSV (written by the next `flush`)."""
        rows = face_rows(frame_index, time_s, faces, trained)
        if self._writer is not None:
            self._pending.extend(rows)
        if self.json_path:
            self._frames.append({"frame": frame_index, "time_s": round(time_s, 4), "faces": rows})

    def flush(self) -> None:
        """Write the queued rows and push them to the OS, where a crash cannot lose them."""
        if self._writer is not None:
            self._writer.writerows(self._pending)
            self._file.flush()
        self._pending.clear()

    def close(self) -> None:
        if self._file is not None:
            try:
                self.flush()
            finally:
                self._file.close()
                self._file = None
        if self.json_path:
            self.json_path.write_text(json.dumps({"columns": COLUMNS, "frames": self._frames}))
            self.json_path = None
