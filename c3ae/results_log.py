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
        rows.append(row)
    return rows


class ResultsLog:
    """Streams rows to CSV as frames arrive (flushed, so an interruption loses
    nothing written) and optionally collects them for a JSON file at close."""

    def __init__(self, csv_path: str | Path | None = None, json_path: str | Path | None = None) -> None:
        self.csv_path = Path(csv_path) if csv_path else None
        self.json_path = Path(json_path) if json_path else None
        self._file = None
        self._writer = None
        self._frames: list[dict] = []
        if self.csv_path:
            self.csv_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.csv_path, "w", newline="")
            self._writer = csv.DictWriter(self._file, fieldnames=COLUMNS)
            self._writer.writeheader()

    def write(self, frame_index: int, time_s: float, faces: Faces, trained: bool) -> None:
        rows = face_rows(frame_index, time_s, faces, trained)
        if self._writer is not None:
            self._writer.writerows(rows)
            self._file.flush()
        if self.json_path:
            self._frames.append({"frame": frame_index, "time_s": round(time_s, 4), "faces": rows})

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.json_path:
            self.json_path.parent.mkdir(parents=True, exist_ok=True)
            self.json_path.write_text(json.dumps({"columns": COLUMNS, "frames": self._frames}))
            self.json_path = None
