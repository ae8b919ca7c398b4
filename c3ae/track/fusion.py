"""One age per person: quality-weighted fusion of a track's 12-bin distributions.

Each detected frame adds its distribution with weight quality**2, so a small,
blurred or turned face counts little. `decay` (the app's "smoothing") discounts
older frames for the live display; a second, undecayed sum gives the age of
the whole track for the per-person table.

The band is an honest uncertainty, not the spread of the mean: errors of one
person's frames are correlated (same face, same model), so more frames do not
make the model more right. It is the fused distribution's spread beyond what
its two-point shape alone implies (disagreement between frames and within the
model's output), plus a floor from the model's known error that grows with age
(test MAE 5.4 years), widened while the evidence is of poor quality.

The shown age has hysteresis: it is set once the track has `min_frames`
detections and changes only when the fused age leaves the shown band (or the
current band no longer holds the shown age), so a steady face keeps one
number instead of a per-frame flicker.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from c3ae.engine.twopoint import BIN_WIDTH, BINS, MAX_AGE, MIN_AGE
from c3ae.track.quality import UNCERTAIN_BELOW

_BINS = BINS.astype(np.float64)


def age_band(dist: np.ndarray, quality: float = 1.0) -> tuple[float, float, float]:
    """(age, low, high) of a fused 12-bin distribution; see the module docstring."""
    p = np.asarray(dist, np.float64)
    p = p / max(p.sum(), 1e-12)
    mean = float(p @ _BINS)
    lower = min(np.floor((mean - MIN_AGE) / BIN_WIDTH) * BIN_WIDTH + MIN_AGE, MAX_AGE - BIN_WIDTH)
    two_point_var = (mean - lower) * (lower + BIN_WIDTH - mean)  # least variance with this mean
    excess = max(float(p @ (_BINS - mean) ** 2) - two_point_var, 0.0)
    floor = 2.0 + 0.08 * mean
    sigma = np.sqrt(excess + floor ** 2) / np.sqrt(np.clip(quality, 0.25, 1.0))
    return mean, max(MIN_AGE, mean - sigma), min(MAX_AGE, mean + sigma)


@dataclass
class AgeFusion:
    """The age evidence of one track. `add` per detected frame; read `shown`/`low`/`high`."""

    decay: float = 0.85
    min_frames: int = 5
    frames: int = 0
    _weight: float = 0.0
    _dist: np.ndarray = field(default_factory=lambda: np.zeros(len(BINS)))
    _quality: float = 0.0  # decayed sum of qualities ...
    _count: float = 0.0  # ... over this decayed count: the recent mean quality
    _total_weight: float = 0.0
    _total_dist: np.ndarray = field(default_factory=lambda: np.zeros(len(BINS)))
    _total_quality: float = 0.0
    shown: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")

    def add(self, dist: np.ndarray, quality: float) -> None:
        """One detected frame's distribution and quality (a NaN distribution is skipped)."""
        dist = np.asarray(dist, np.float64)
        if not np.isfinite(dist).all():
            return
        w = max(float(quality), 0.02) ** 2
        self._dist = self.decay * self._dist + w * dist
        self._weight = self.decay * self._weight + w
        self._quality = self.decay * self._quality + float(quality)
        self._count = self.decay * self._count + 1.0
        self._total_dist += w * dist
        self._total_weight += w
        self._total_quality += float(quality)
        self.frames += 1
        if self.frames < self.min_frames:
            return
        mean, low, high = age_band(self.dist, self.quality)
        # evidence and display disagree: the new age left the shown band, or the
        # new band excludes the shown age (a band widened by a changing mixture
        # must not pin an old number); both are true while nothing is shown (NaN)
        if not (self.low <= mean <= self.high and low <= self.shown <= high):
            self.shown, self.low, self.high = mean, low, high

    @property
    def ready(self) -> bool:
        return np.isfinite(self.shown)

    @property
    def dist(self) -> np.ndarray:
        """The recent fused distribution (NaN before the first frame)."""
        return self._dist / self._weight if self._weight > 0 else np.full(len(BINS), np.nan)

    @property
    def quality(self) -> float:
        """Mean quality of the recent frames."""
        return self._quality / self._count if self._count > 0 else 0.0

    @property
    def uncertain(self) -> bool:
        return self.quality < UNCERTAIN_BELOW

    def whole_track(self) -> tuple[float, float, float, float]:
        """(age, low, high, mean quality) over every frame of the track, undecayed."""
        if self._total_weight <= 0:
            return (float("nan"),) * 4
        quality = self._total_quality / self.frames
        return (*age_band(self._total_dist / self._total_weight, quality), quality)
