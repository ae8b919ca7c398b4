"""One age per person: what the screen says follows the recent evidence of one track.

A track is one person within one shot (cuts end tracks, and a new person gets a
new track, so both start afresh). The fused age is the weighted median of the
per-frame ages of the track's last `WINDOW` detected frames (about one second
of video), each weighted by `frame_weight(quality)`: a median, so one confident
reading - early or late - cannot hold it, and a window, so it follows what the
face shows now rather than what a poor start said (issue 33: the singer's age
stayed at a first 51 while his frames read 31-42). Whole-track evidence still
shapes the band: the fused distribution of every frame (`dist`) gives the
frames' disagreement. `decay` (the app's "smoothing") only shapes the chart's
recent distribution (`recent`).

The band is calibrated on evidence, not derived: `Band` scales a spread
(a floor, a share of the age, the fused distribution's disagreement between
frames, poorer evidence wider) by factors fitted on a labelled video benchmark
of validation faces (`c3ae.training.videobench --fit`, stored in
`weights/bands.json`) so that 8 in 10 people's true age lies inside. A track
whose evidence is poor, or whose band would be wider than `WIDEST_BAND`
(`uncertain`), shows its age with "?" and no band.

The shown age has a dead band: it is set once the track has `min_frames`
detections and then follows the fused age whenever the two differ by more
than `HOLD` years, so the label does not flicker and never sits more than
`HOLD` from the last second's weighted median.
"""
from __future__ import annotations

import functools
import json
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from c3ae.runtime.paths import WEIGHTS_DIR
from c3ae.track.quality import UNCERTAIN_BELOW
from c3ae.twopoint import BIN_WIDTH, BINS, MAX_AGE, MIN_AGE

_BINS = BINS.astype(np.float64)
BAND_FILE = WEIGHTS_DIR / "bands.json"
HOLD = 1.5  # years the fused age may move before the shown age follows
WINDOW = 25  # detected frames (about 1 s) whose weighted median is the fused age
COVERAGE = 0.8  # the band's promise: this share of people's true age lies inside
WIDEST_BAND = 30.0  # years: a wider band is no statement; the age is shown with "?" instead


def frame_weight(quality: float | np.ndarray) -> float | np.ndarray:
    """How much one frame's distribution counts in the fused age."""
    return np.maximum(quality, 0.02) ** 2


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value at which half the weight lies on either side (the lower one on a tie)."""
    values, weights = np.asarray(values, np.float64), np.asarray(weights, np.float64)
    if not len(values) or weights.sum() <= 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def moments(dist: np.ndarray) -> tuple[float, float]:
    """(mean, excess variance) of a 12-bin distribution: the variance beyond the
    least a two-point code with that mean has, i.e. the frames' and the model's
    disagreement, in years squared."""
    p = np.asarray(dist, np.float64)
    p = p / max(p.sum(), 1e-12)
    mean = float(p @ _BINS)
    lower = min(np.floor((mean - MIN_AGE) / BIN_WIDTH) * BIN_WIDTH + MIN_AGE, MAX_AGE - BIN_WIDTH)
    two_point_var = (mean - lower) * (lower + BIN_WIDTH - mean)
    return mean, max(float(p @ (_BINS - mean) ** 2) - two_point_var, 0.0)


@dataclass(frozen=True)
class Band:
    """age + [low, high] x spread, spread = sqrt(base^2 + (relative age)^2 +
    disagreement x excess) / quality^quality_power; low and high are the 10th
    and 90th percentiles of (true - fused age) / spread on the fit's people."""

    base: float = 2.0
    relative: float = 0.12
    disagreement: float = 1.0
    quality_power: float = 0.5
    low: float = -1.28
    high: float = 1.28

    def spread(self, mean: float, excess: float, quality: float) -> float:
        raw = np.sqrt(self.base ** 2 + (self.relative * mean) ** 2 + self.disagreement * excess)
        return float(raw / np.clip(quality, 0.05, 1.0) ** self.quality_power)

    def __call__(self, dist: np.ndarray, quality: float = 1.0, centre: float | None = None
                 ) -> tuple[float, float, float]:
        """(age, low, high) of a fused distribution whose evidence has this quality,
        around `centre` (the fused age) or else the distribution's mean."""
        mean, excess = moments(dist)
        age = mean if centre is None else float(centre)
        s = self.spread(age, excess, quality)
        return age, max(MIN_AGE, age + self.low * s), min(MAX_AGE, age + self.high * s)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def load(cls, path: Path = BAND_FILE) -> Band:
        """The fitted band, or the unfitted defaults where no file is."""
        if not Path(path).is_file():
            return cls()
        data = json.loads(Path(path).read_text())
        return cls(**{f.name: float(data[f.name]) for f in fields(cls)})


def fit_band(dists: np.ndarray, qualities: np.ndarray, ages: np.ndarray, coverage: float = COVERAGE,
             base: float = 2.0) -> Band:
    """The band whose percentiles hold `coverage` of these people's true `ages`
    (their tracks' fused `dists` and `qualities`), with the spread's shape that
    scores best by the interval score (width, plus misses weighted 2 / (1 -
    coverage) by how far they miss): narrow where the evidence allows, never by
    giving up the coverage."""
    stats = np.array([moments(d) for d in dists])
    mean, excess = stats[:, 0], stats[:, 1]
    quality = np.clip(np.asarray(qualities, np.float64), 0.05, 1.0)
    ages = np.asarray(ages, np.float64)
    tail = (1 - coverage) / 2
    best, best_score = Band(), np.inf
    for relative in (0.0, 0.05, 0.1, 0.15):  # a few shapes only: a fit on ~100 people must not chase noise
        for disagreement in (0.25, 0.5, 1.0):
            for quality_power in (0.0, 0.25, 0.5):
                s = np.sqrt(base ** 2 + (relative * mean) ** 2 + disagreement * excess) / quality ** quality_power
                r = (ages - mean) / s
                low, high = np.quantile(r, tail), np.quantile(r, 1 - tail)
                lo, hi = mean + low * s, mean + high * s
                score = np.mean(hi - lo + (np.maximum(lo - ages, 0) + np.maximum(ages - hi, 0)) / tail)
                if score < best_score:
                    best_score = score
                    best = Band(base, float(relative), disagreement, quality_power, float(low), float(high))
    return best


@functools.lru_cache(maxsize=1)
def fitted_band() -> Band:
    """`weights/bands.json`, read once per process."""
    return Band.load()


@dataclass
class AgeFusion:
    """The age evidence of one track. `add` per detected frame; read `shown`/`low`/`high`."""

    decay: float = 0.85
    min_frames: int = 5
    window: int = WINDOW
    band: Band = field(default_factory=lambda: fitted_band())
    frames: int = 0
    age: float = float("nan")  # the fused age: weighted median of the window's per-frame ages
    _last: deque = field(default_factory=deque, repr=False)  # (age, weight) of the window's frames
    _weight: float = 0.0
    _dist: np.ndarray = field(default_factory=lambda: np.zeros(len(BINS)))
    _weighted_quality: float = 0.0
    _recent_weight: float = 0.0
    _recent: np.ndarray = field(default_factory=lambda: np.zeros(len(BINS)))
    shown: float = float("nan")
    # fused_band() until the next frame: it is read about 5 times a frame
    _band: tuple[float, float] | None = field(default=None, init=False, repr=False)

    def add(self, dist: np.ndarray, quality: float, age: float | None = None) -> None:
        """One detected frame's distribution, quality and age (the model's; by default
        the distribution's mean). A NaN distribution is skipped."""
        dist = np.asarray(dist, np.float64)
        if not np.isfinite(dist).all():
            return
        if age is None or not np.isfinite(age):
            age = float(dist @ _BINS) / max(float(dist.sum()), 1e-12)
        w = float(frame_weight(float(quality)))
        self._dist += w * dist
        self._weight += w
        self._weighted_quality += w * float(quality)
        self._recent = self.decay * self._recent + w * dist
        self._recent_weight = self.decay * self._recent_weight + w
        self._last.append((float(age), w))
        if len(self._last) > self.window:
            self._last.popleft()
        self.age = weighted_median(*np.array(self._last).T)
        self.frames += 1
        self._band = None
        if self.frames >= self.min_frames and not abs(self.age - self.shown) <= HOLD:  # NaN: nothing shown yet
            self.shown = self.age

    @property
    def ready(self) -> bool:
        return np.isfinite(self.shown)

    @property
    def dist(self) -> np.ndarray:
        """The fused distribution of the whole track (NaN before the first frame)."""
        return self._dist / self._weight if self._weight > 0 else np.full(len(BINS), np.nan)

    @property
    def recent(self) -> np.ndarray:
        """The last frames' distribution, decayed by `decay`, for the live chart."""
        return self._recent / self._recent_weight if self._recent_weight > 0 else np.full(len(BINS), np.nan)

    @property
    def quality(self) -> float:
        """The quality of the evidence the fused age rests on: frames' quality, weighted as they count."""
        return self._weighted_quality / self._weight if self._weight > 0 else 0.0

    @property
    def uncertain(self) -> bool:
        """Poor evidence, or a band too wide to tell the user anything: "?" instead."""
        low, high = self.fused_band()
        return self.quality < UNCERTAIN_BELOW or not high - low <= WIDEST_BAND

    def fused_band(self) -> tuple[float, float]:
        """The band around the fused age (NaN before the first frame), also while uncertain."""
        if self._weight <= 0:
            return float("nan"), float("nan")
        if self._band is None:
            self._band = self.band(self.dist, self.quality, self.age)[1:]
        return self._band

    @property
    def low(self) -> float:
        """The shown band's low end: NaN until an age is shown, and while uncertain ('?', no band)."""
        return self.fused_band()[0] if self.ready and not self.uncertain else float("nan")

    @property
    def high(self) -> float:
        return self.fused_band()[1] if self.ready and not self.uncertain else float("nan")
