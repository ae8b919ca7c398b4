"""Per-frame face results as CSV (one row per face per frame) or JSON, and the
per-person table (one row per track: the same fused age and band as the
track's label, and like it without a band where the evidence is poor).

Shared by headless annotation and by the app's recorder, so both write the
same columns. A track carried through a missed detection (a hand over the
face) keeps its rows, with `detected` 0, its predicted box, the track's age
and band, and empty per-frame columns (score, age, p*, quality), so a person
does not vanish from the table for those frames.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from c3ae.faces import Faces
from c3ae.twopoint import BINS

if TYPE_CHECKING:
    from c3ae.track.tracker import TrackSummary

PROB_COLUMNS = [f"p{int(b)}" for b in BINS]
COLUMNS = ["frame", "time_s", "track_id", "detected", "x", "y", "w", "h", "score", "age", "age_smoothed",
           "age_low", "age_high", "quality", "uncertain", *PROB_COLUMNS, "trained"]
TRACK_COLUMNS = ["track_id", "first_frame", "last_frame", "frames", "seconds", "age", "age_low", "age_high",
                 "quality"]
JSON_END = b"]}"  # what closes the frames list and the document, until the next rows
_AGE_COLUMNS = ["age", "age_smoothed", "age_low", "age_high", *PROB_COLUMNS]


def _num(value: float, digits: int) -> float | str:
    """Rounded, or "" for NaN (not known this frame), which CSV and JSON both keep."""
    return round(float(value), digits) if np.isfinite(value) else ""


def face_rows(frame_index: int, time_s: float, faces: Faces, trained: bool) -> list[dict]:
    rows = []
    for i in range(len(faces)):
        x1, y1, x2, y2 = (float(v) for v in faces.boxes[i])
        detected = bool(faces.missed[i] == 0)
        row = {"frame": frame_index, "time_s": round(time_s, 4), "track_id": int(faces.track_ids[i]),
               "detected": int(detected), "x": round(x1, 1), "y": round(y1, 1), "w": round(x2 - x1, 1),
               "h": round(y2 - y1, 1), "score": round(float(faces.scores[i]), 4) if detected else "",
               "age": _num(faces.ages[i], 2), "age_smoothed": _num(faces.ages_smoothed[i], 2),
               "age_low": _num(faces.ages_low[i], 2), "age_high": _num(faces.ages_high[i], 2),
               "quality": _num(faces.quality[i], 3), "uncertain": int(faces.uncertain[i]), "trained": int(trained)}
        row.update({c: _num(p, 5) for c, p in zip(PROB_COLUMNS, faces.dists[i])})
        if not trained:  # an untrained model's numbers are not ages: leave them out
            row.update(dict.fromkeys(_AGE_COLUMNS, ""))
        rows.append(row)
    return rows


def track_rows(summaries: list[TrackSummary], fps: float, trained: bool = True) -> list[dict]:
    """The per-person table: one row per track (see `FaceTracker.summaries`)."""
    rows = []
    for s in summaries:
        band = ("", "") if s.uncertain else (_num(s.age_low, 2), _num(s.age_high, 2))  # as the label: "?", no band
        ages = [_num(s.age, 2), *band] if trained else ["", "", ""]
        rows.append(dict(zip(TRACK_COLUMNS, [s.track_id, s.first_frame, s.last_frame, s.frames,
                                             round(s.seconds(fps), 3), *ages, _num(s.quality, 3)])))
    return rows


def write_tracks_csv(path: str | Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=TRACK_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def add_tracks_to_json(path: str | Path, rows: list[dict]) -> None:
    """Give a finished per-frame JSON file its per-person block ("track_columns", "tracks");
    the tracks are only known once the last frame is in. Appended in place: the
    frames are never read back into memory."""
    block = json.dumps({"track_columns": TRACK_COLUMNS, "tracks": rows})
    with open(path, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) != b"}":
            raise ValueError(f"{path} does not end as a JSON object")
        f.seek(-1, os.SEEK_END)
        f.write(f", {block[1:]}".encode())


class ResultsLog:
    """Rows to CSV and frames to JSON, written on `flush()` (the sink flushes once
    the video holds their frames, so the files agree after a crash). The JSON is
    streamed: after every flush it is a complete document (`{"columns": [...],
    "frames": [...]}`) whose closing `]}` the next flush writes over, so memory
    stays flat however long the run and a killed run leaves valid JSON. Creates
    no folder: the caller has checked the paths."""

    def __init__(self, csv_path: str | Path | None = None, json_path: str | Path | None = None) -> None:
        self.csv_path = Path(csv_path) if csv_path else None
        self.json_path = Path(json_path) if json_path else None
        self._file = None
        self._writer = None
        self._json = None
        self._json_written = 0  # frames in the JSON file
        self._frames: list[dict] = []  # JSON frames waiting for the next flush
        self._pending: list[dict] = []
        if self.csv_path:
            self._file = open(self.csv_path, "w", newline="")
            self._writer = csv.DictWriter(self._file, fieldnames=COLUMNS)
            self._writer.writeheader()
        if self.json_path:
            self._json = open(self.json_path, "wb")
            self._json.write(json.dumps({"columns": COLUMNS, "frames": []}).encode())
            self._json.flush()

    def add(self, frame_index: int, time_s: float, faces: Faces, trained: bool) -> None:
        """Queue one frame's rows (written by the next `flush`)."""
        rows = face_rows(frame_index, time_s, faces, trained)
        if self._writer is not None:
            self._pending.extend(rows)
        if self._json is not None:
            self._frames.append({"frame": frame_index, "time_s": round(time_s, 4), "faces": rows})

    def flush(self) -> None:
        """Write the queued rows and push them to the OS, where a crash cannot lose them."""
        if self._writer is not None:
            self._writer.writerows(self._pending)
            self._file.flush()
        self._pending.clear()
        if self._json is not None and self._frames:
            items = ", ".join(json.dumps(frame) for frame in self._frames)
            try:
                self._json.seek(-len(JSON_END), os.SEEK_END)
                self._json.write(f"{', ' if self._json_written else ''}{items}".encode() + JSON_END)
                self._json.flush()
            except OSError as exc:  # a write error names no file: say it was the JSON
                raise OSError(exc.errno, exc.strerror, str(self.json_path)) from exc
            self._json_written += len(self._frames)
        self._frames.clear()

    def discard_pending(self) -> None:
        """Drop the queued rows (their frames never reached the video)."""
        self._pending.clear()
        self._frames.clear()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            for f in (self._file, self._json):
                if f is not None:
                    f.close()
            self._file = self._json = self._writer = None
