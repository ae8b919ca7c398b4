"""One age per person: what the screen says follows the recent evidence of one track.

A track is one person within one shot (cuts end tracks, and a new person gets a
new track, so both start afresh). The fused age is the weighted median of the
per-frame ages of the track's last `WINDOW` detected frames (about one second
of video), each weighted by `frame_weight(quality)`: a median, so one confident
reading - early or late - cannot hold it, and a window, so it follows what the
face shows now rather than what a poor start said (issue 33: the singer's age
stayed at a first 51 while his frames read 31-42). The whole track's fused
distribution (`dist`) is kept for the per-person table. `decay` (the app's "smoothing") only shapes the chart's
recent distribution (`recent`).

The band comes from evidence, not from hand-set factors: each frame brings its
expected |error| (`c3ae.track.uncertainty.ErrorModel`, fitted on degraded video
of validation faces); the track's error is the weighted median of its last
second's, and the band is the fused age plus calibrated multiples of it, so 8
in 10 people's true age lies inside. A track whose band would be wider than
`WIDEST_BAND`, or whose face is below the size the model can read, shows its
age with "?" and no band (`uncertain`).

The shown age is a whole number of years, what the label says, with a dead
band: it is set once the track has `min_frames` detections and moves only when
the fused age lies more than `HOLD` from it, and then by the fewest years that
bring it within `HOLD` (`follow`), so it never sits more than `HOLD` from the
last second's weighted median, yet evidence that swings between two readings
moves it by their gap less twice the hold rather than by the whole gap. Where
the fused age's nearest year has stayed on one side of the label for two windows,
the label steps a year toward it, so a lag does not stay.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from c3ae.track.uncertainty import WIDEST_BAND, ErrorModel, fitted_model
from c3ae.twopoint import BINS

_BINS = BINS.astype(np.float64)
HOLD = 1.99  # years the shown age may lie from the fused age: the promise is 2, less float noise
WINDOW = 25  # detected frames (about 1 s) whose weighted median is the fused age


def frame_weight(quality: float | np.ndarray) -> float | np.ndarray:
    """How much one frame counts: in the fused (median) age and the whole track's distribution."""
    return np.maximum(quality, 0.02) ** 2


def follow(shown: float, age: float, hold: float = HOLD) -> float:
    """The next shown age, a whole number of years (what the label says): it moves
    only when the fused age lies more than `hold` from it, and then by the fewest
    years that bring it within `hold`. Evidence that swings between two readings
    thus moves the label by their gap less twice the hold, not by the whole gap.
    The first reading is shown rounded."""
    if not np.isfinite(shown):
        return float(round(age))
    if age > shown + hold:
        return float(np.ceil(age - hold))
    if age < shown - hold:
        return float(np.floor(age + hold))
    return shown


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value at which half the weight lies on either side (the lower one on a tie).
    Lean on purpose: it runs twice per face and frame."""
    values, weights = np.asarray(values, np.float64), np.asarray(weights, np.float64)
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    if not len(cum) or not cum[-1] > 0:
        return float("nan")
    return float(values[order[np.searchsorted(cum, 0.5 * cum[-1])]])


@dataclass
class AgeFusion:
    """The age evidence of one track. `add` per detected frame; read `shown`/`low`/`high`."""

    decay: float = 0.85
    min_frames: int = 5
    window: int = WINDOW
    model: ErrorModel = field(default_factory=lambda: fitted_model())
    frames: int = 0
    age: float = float("nan")  # the fused age: weighted median of the window's per-frame ages
    error: float = float("nan")  # the track's expected |error|: weighted median of the window's frames' errors
    size: float = float("nan")  # the window's median face size (px; the upper one of an even count)
    _last: np.ndarray | None = field(default=None, repr=False)  # (window, 4) ring: age, weight, error, size
    _weight: float = 0.0
    _dist: np.ndarray = field(default_factory=lambda: np.zeros(len(BINS)))
    _weighted_quality: float = 0.0
    _recent_weight: float = 0.0
    _recent: np.ndarray = field(default_factory=lambda: np.zeros(len(BINS)))
    shown: float = float("nan")
    _off: int = field(default=0, repr=False)  # frames in a row the fused age's year lay on one side (sign)
    # fused_band() until the next frame: it is read about 5 times a frame
    _band: tuple[float, float] | None = field(default=None, init=False, repr=False)

    def add(self, dist: np.ndarray, quality: float, age: float | None = None, error: float | None = None,
            size: float | None = None) -> None:
        """One detected frame's distribution, quality and age (the model's; by default
        the distribution's mean), its expected |error| (`ErrorModel.frame_error`; by
        default the typical one) and face size (px; by default readable).
        A NaN distribution is skipped."""
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
        error = self.model.typical if error is None or not np.isfinite(error) else float(error)
        if self._last is None:  # a ring, not a deque: a seek snapshot copies it in one go
            self._last = np.full((self.window, 4), np.nan)
        self._last[self.frames % self.window] = (age, w, error, np.inf if size is None else float(size))
        ages, weights, errors, sizes = self._last[:min(self.frames + 1, self.window)].T
        self.age = weighted_median(ages, weights)
        self.error = weighted_median(errors, weights)
        self.size = float(np.sort(sizes)[len(sizes) // 2])
        self.frames += 1
        self._band = None
        if self.frames >= self.min_frames:
            self.shown = follow(self.shown, self.age)
            side = int(np.sign(round(self.age) - self.shown))  # where the evidence's nearest year lies
            self._off = self._off + side if side and np.sign(self._off) in (0, side) else side
            if abs(self._off) >= 2 * self.window:  # on one side of the label for 2 s: a lag, not jitter
                self.shown += side
                self._off = 0

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
        """A band too wide to tell the user anything, or a face too small to read: "?" instead."""
        low, high = self.fused_band()
        return not high - low <= WIDEST_BAND or self.size < self.model.readable_px

    def fused_band(self) -> tuple[float, float]:
        """The band around the fused age (NaN before the first frame), also while uncertain."""
        if self._weight <= 0:
            return float("nan"), float("nan")
        if self._band is None:
            self._band = self.model.band(self.age, self.error)
        return self._band

    @property
    def low(self) -> float:
        """The shown band's low end, around the shown age (so the label's age lies inside its band):
        NaN until an age is shown, and while uncertain ('?', no band)."""
        return self._shown_band()[0]

    @property
    def high(self) -> float:
        return self._shown_band()[1]

    def _shown_band(self) -> tuple[float, float]:
        if not self.ready or self.uncertain:
            return float("nan"), float("nan")
        return self.model.band(self.shown, self.error)
