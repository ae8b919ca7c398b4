"""Track faces across frames and fuse each track's age over time.

Matching is greedy on IoU between the tracks' predicted boxes (last box plus
a damped velocity) and the new detections, with a centroid fallback for fast
moves. A track survives `max_missed` frames without a detection, so a label
does not blink when the detector misses a frame; a face that appears where no
track is gets a new ID.

Fusion is a quality-weighted exponential moving average of the 12-bin
distribution (and of the age): each frame's weight grows with detector score
and face size, and `smoothing` (0 = none, 0.9 ~ last 10 frames) discounts the
past. A still face therefore gets a steady age instead of per-frame jitter.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .faces import Faces


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between every box of a (M, 4) and b (N, 4), xyxy."""
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


@dataclass
class _Track:
    track_id: int
    box: np.ndarray
    keypoints: np.ndarray
    score: float
    velocity: np.ndarray
    weight: float = 0.0
    age: float = float("nan")
    dist: np.ndarray | None = None
    missed: int = 0

    def predicted_box(self) -> np.ndarray:
        return self.box + self.velocity


def observation_quality(scores: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """How much one frame's estimate counts: confident, large faces count most."""
    return np.clip(scores, 0.05, 1.0) * np.clip(sizes / 64.0, 0.25, 1.0)


class FaceTracker:
    """`update(faces)` -> the same faces with track IDs and smoothed ages, plus
    the tracks coasting through a missed detection (`missed` > 0)."""

    def __init__(self, iou_threshold: float = 0.25, max_missed: int = 8, smoothing: float = 0.85) -> None:
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.smoothing = smoothing
        self.reset()

    def reset(self) -> None:
        """Forget all tracks (new source, or a seek in a file)."""
        self._tracks: list[_Track] = []
        self._next_id = 1

    def _match(self, faces: Faces) -> list[tuple[int, int]]:
        if not self._tracks or not len(faces):
            return []
        predicted = np.stack([t.predicted_box() for t in self._tracks])
        sim = iou_matrix(predicted, faces.boxes)
        # centroid fallback: a fast move can leave little overlap between frames
        pc = (predicted[:, :2] + predicted[:, 2:]) / 2
        dc = (faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2
        track_size = np.sqrt(np.prod(np.clip(predicted[:, 2:] - predicted[:, :2], 1, None), axis=1))
        size_ratio = faces.sizes[None, :] / track_size[:, None]
        dist = np.linalg.norm(pc[:, None] - dc[None], axis=2) / track_size[:, None]
        near = (dist < 1.0) & (size_ratio > 0.67) & (size_ratio < 1.5)
        # IoU matches (1 + IoU) always beat centroid matches (< 1)
        sim = np.where(sim >= self.iou_threshold, 1.0 + sim, np.where(near, 0.99 * (1.0 - dist), 0.0))
        pairs = []
        while True:
            t, d = np.unravel_index(np.argmax(sim), sim.shape)
            if sim[t, d] <= 0:
                return pairs
            pairs.append((int(t), int(d)))
            sim[t, :] = 0
            sim[:, d] = 0

    def update(self, faces: Faces) -> Faces:
        pairs = self._match(faces)
        matched_tracks = {t for t, _ in pairs}
        det_to_track = {d: t for t, d in pairs}
        quality = observation_quality(faces.scores, faces.sizes)
        ids = np.empty(len(faces), np.int64)
        ages_s = np.full(len(faces), np.nan, np.float32)
        dists_s = np.full((len(faces), 12), np.nan, np.float32)
        new_tracks: list[_Track] = []
        for d in range(len(faces)):
            if d in det_to_track:
                track = self._tracks[det_to_track[d]]
                track.velocity = 0.5 * track.velocity + 0.5 * (faces.boxes[d] - track.box)
            else:
                track = _Track(self._next_id, faces.boxes[d], faces.keypoints[d], float(faces.scores[d]),
                               np.zeros(4, np.float32))
                self._next_id += 1
                new_tracks.append(track)
            track.box, track.keypoints = faces.boxes[d].copy(), faces.keypoints[d].copy()
            track.score, track.missed = float(faces.scores[d]), 0
            self._fuse(track, faces.ages[d], faces.dists[d], float(quality[d]))
            ids[d] = track.track_id
            ages_s[d] = track.age
            if track.dist is not None:
                dists_s[d] = track.dist
        coasting = []
        for i, track in enumerate(self._tracks):
            if i in matched_tracks:
                continue
            track.missed += 1
            track.box = track.predicted_box()
            track.velocity = track.velocity * 0.5
            if track.missed <= self.max_missed:
                coasting.append(track)
        self._tracks = [t for i, t in enumerate(self._tracks) if i in matched_tracks] + coasting + new_tracks
        out = faces.replace(track_ids=ids, ages_smoothed=ages_s, dists_smoothed=dists_s)
        return Faces.concatenate([out, self._as_faces(coasting)])

    def _fuse(self, track: _Track, age: float, dist: np.ndarray, quality: float) -> None:
        if not np.isfinite(age):
            return
        keep = self.smoothing * track.weight if track.dist is not None else 0.0
        total = keep + quality
        if track.dist is None:
            track.age, track.dist = float(age), dist.astype(np.float32).copy()
        else:
            track.age = (keep * track.age + quality * float(age)) / total
            track.dist = ((keep * track.dist + quality * dist) / total).astype(np.float32)
        track.weight = total

    @staticmethod
    def _as_faces(tracks: list[_Track]) -> Faces:
        if not tracks:
            return Faces.empty()
        nan12 = np.full(12, np.nan, np.float32)
        return Faces(
            boxes=np.stack([t.box for t in tracks]),
            keypoints=np.stack([t.keypoints for t in tracks]),
            scores=np.array([t.score for t in tracks]),
            track_ids=np.array([t.track_id for t in tracks], np.int64),
            ages_smoothed=np.array([t.age for t in tracks], np.float32),
            dists_smoothed=np.stack([t.dist if t.dist is not None else nan12 for t in tracks]),
            missed=np.array([t.missed for t in tracks], np.int32),
        )
