"""`Faces`: the one container of per-face arrays that flows through the pipeline.

Every stage (detector -> crops -> engine -> tracker -> overlay -> sinks) reads
and returns a `Faces`, so stages stay independent and a frame's faces are
processed as one batch instead of one Python object per face.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from c3ae.twopoint import BINS

N_BINS = len(BINS)
N_KEYPOINTS = 6
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear")


def _nan(*shape: int) -> np.ndarray:
    return np.full(shape, np.nan, dtype=np.float32)


@dataclass
class Faces:
    """N faces of one frame. Boxes and keypoints are in pixels of that frame.

    `ages`/`dists` are the raw per-frame model outputs (NaN until the engine ran),
    `ages_smoothed`/`dists_smoothed` the tracker's temporal fusion, and `missed`
    counts frames since the detector last saw the face (0 = detected now; >0 =
    a track coasting through a missed detection so its label does not blink).
    `ages_low`/`ages_high` bound the shown `ages_smoothed` (NaN until the track
    has enough frames), `quality` is this detection's quality in [0, 1] (NaN
    for a carried track) and `uncertain` marks a track whose recent evidence is
    poor (small, blurred, turned or cut faces; see c3ae.track.quality).
    """

    boxes: np.ndarray  # (N, 4) float32 x1, y1, x2, y2
    keypoints: np.ndarray  # (N, 6, 2) float32 x, y (KEYPOINT_NAMES order)
    scores: np.ndarray  # (N,) float32 detector confidence
    track_ids: np.ndarray = field(default=None)  # (N,) int64, -1 = untracked
    ages: np.ndarray = field(default=None)  # (N,) float32
    dists: np.ndarray = field(default=None)  # (N, 12) float32
    ages_smoothed: np.ndarray = field(default=None)  # (N,) float32
    dists_smoothed: np.ndarray = field(default=None)  # (N, 12) float32
    missed: np.ndarray = field(default=None)  # (N,) int32
    ages_low: np.ndarray = field(default=None)  # (N,) float32
    ages_high: np.ndarray = field(default=None)  # (N,) float32
    quality: np.ndarray = field(default=None)  # (N,) float32
    uncertain: np.ndarray = field(default=None)  # (N,) bool

    def __post_init__(self) -> None:
        n = len(self.boxes)
        self.boxes = np.asarray(self.boxes, np.float32).reshape(n, 4)
        self.keypoints = np.asarray(self.keypoints, np.float32).reshape(n, N_KEYPOINTS, 2)
        self.scores = np.asarray(self.scores, np.float32).reshape(n)
        defaults = {
            "track_ids": lambda: np.full(n, -1, np.int64),
            "ages": lambda: _nan(n),
            "dists": lambda: _nan(n, N_BINS),
            "ages_smoothed": lambda: _nan(n),
            "dists_smoothed": lambda: _nan(n, N_BINS),
            "missed": lambda: np.zeros(n, np.int32),
            "ages_low": lambda: _nan(n),
            "ages_high": lambda: _nan(n),
            "quality": lambda: _nan(n),
            "uncertain": lambda: np.zeros(n, bool),
        }
        for name, make in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, make())

    @classmethod
    def empty(cls) -> Faces:
        return cls(np.zeros((0, 4)), np.zeros((0, N_KEYPOINTS, 2)), np.zeros(0))

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index) -> Faces:
        """Select faces with an int, slice, index array or boolean mask."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return Faces(**{f.name: getattr(self, f.name)[index] for f in dataclasses.fields(self)})

    def replace(self, **changes: np.ndarray) -> Faces:
        return dataclasses.replace(self, **changes)

    @classmethod
    def concatenate(cls, parts: list[Faces]) -> Faces:
        """All faces of `parts` in order. Empty parts are skipped, and a lone non-empty
        part is returned as it is (Faces are not changed in place): on most frames one
        of the tracker's two parts, detected or carried, is empty."""
        parts = [p for p in parts if len(p)]
        if len(parts) <= 1:
            return parts[0] if parts else cls.empty()
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                      for f in dataclasses.fields(cls)})

    @property
    def sizes(self) -> np.ndarray:
        """Face size in pixels: the geometric mean of box width and height."""
        wh = self.boxes[:, 2:] - self.boxes[:, :2]
        return np.sqrt(np.clip(wh[:, 0] * wh[:, 1], 0, None)).astype(np.float32)

    @property
    def centres(self) -> np.ndarray:
        """(N, 2) box centres in pixels."""
        return (self.boxes[:, :2] + self.boxes[:, 2:]) / 2

    def largest(self) -> int:
        """Index of the largest face (evaluation scores that one)."""
        return int(np.argmax(self.sizes))


def box_overlaps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, M) IoU, and intersection over the smaller box (a face and a cut-off part of it
    score ~1), between every xyxy box of `a` (N, 4) and of `b` (M, 4). A degenerate box
    has no area and overlaps nothing."""
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)[:, None]
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)[None, :]
    union = area_a + area_b - inter
    iou = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
    return iou, inter / np.maximum(np.minimum(area_a, area_b), 1e-6)
