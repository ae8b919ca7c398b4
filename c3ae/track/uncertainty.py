"""How wrong each frame's age is likely to be, learned from evidence, and the band a person shows.

Hand-set quality factors tuned on sharp stills floor on compressed video (issue
33: five of six people in an ordinary audience shot were shown "?"). Instead,
each detection's expected |error| in years is a linear function of what is
known about it (`FEATURES`): the model's own distribution (its spread, the gap
between its two largest bins, its entropy), the predicted age (errors grow with
age), the face's size (with a hinge below 64 px, where wrinkles go), head turn,
detector score, and the face's sharpness relative to the whole frame's (a
compressed video is never as sharp as a still, so only a face softer than its
own frame is blurred).

`ErrorModel` is fitted on validation faces passed through what video does to
them (`c3ae.training.videobench --fit`, stored in `weights/uncertainty.json`).
A track's error is the weighted median of its last second's frame errors, and
its band is the fused age plus `low`/`high` times that error: the 10th and
90th percentiles of (true - fused age) / error on the validation people, so the
band holds the true age 8 times in 10. "?" only where even the band says
little (wider than `WIDEST_BAND`) or the face is below `readable_px`.
"""
from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from c3ae.faces import Faces
from c3ae.runtime.paths import WEIGHTS_DIR
from c3ae.track.quality import yaw
from c3ae.twopoint import BINS

UNCERTAINTY_FILE = WEIGHTS_DIR / "uncertainty.json"
FEATURES = ("spread", "top2_gap", "entropy", "age", "log2_size", "small_face", "yaw", "relative_sharpness",
            "score")
COVERAGE = 0.8  # the band's promise: this share of people's true age lies inside
WIDEST_BAND = 30.0  # years: a wider band is no statement; the age is shown with "?" instead
_BINS = BINS.astype(np.float64)


def distribution_terms(dists: np.ndarray) -> np.ndarray:
    """(N, 3) spread (years), top-2 gap and entropy (nats) of 12-bin distributions."""
    p = np.clip(np.asarray(dists, np.float64), 0, None)
    p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
    mean = p @ _BINS
    spread = np.sqrt(np.maximum(np.sum(p * (_BINS - mean[:, None]) ** 2, axis=1), 0))
    top = -np.sort(-p, axis=1)
    entropy = -np.sum(p * np.log(np.maximum(p, 1e-12)), axis=1)
    return np.stack([spread, top[:, 0] - top[:, 1], entropy], axis=1)


def frame_factors(faces: Faces, sharp: np.ndarray | None = None, frame_sharp: float | None = None,
                  turn: np.ndarray | None = None) -> np.ndarray:
    """(N, len(FEATURES)) what is known about each detection's age; `sharp` is the
    faces' `quality.sharpness`, `frame_sharp` the frame's `quality.frame_sharpness`,
    `turn` their `quality.yaw` where the caller has it already.
    The relative sharpness is 0 (as sharp as its frame) where either is missing."""
    n = len(faces)
    if not n:
        return np.zeros((0, len(FEATURES)))
    sizes = np.maximum(faces.sizes.astype(np.float64), 1.0)
    relative = np.zeros(n)
    if sharp is not None and frame_sharp is not None:
        relative = np.log((np.asarray(sharp, np.float64) + 1.0) / (frame_sharp + 1.0))
    return np.column_stack([
        distribution_terms(faces.dists),
        faces.ages.astype(np.float64) / 10.0,
        np.log2(sizes),
        np.maximum(6.0 - np.log2(sizes), 0.0),
        np.nan_to_num(yaw(faces) if turn is None else turn, nan=0.5).clip(0.0, 1.5),
        relative.clip(-4.0, 4.0),
        faces.scores.astype(np.float64),
    ])


@dataclass(frozen=True)
class ErrorModel:
    """Expected |error| of a frame's age = intercept + factors . coef (years, >= `floor`),
    or with `log_scale` exp(that) - 1: fitted to log(1 + |error|), so the factors
    scale the error rather than add to it and a few wild frames do not pull the
    line; a track's band = fused age + [low, high] x its error."""

    intercept: float = 5.0
    coef: tuple[float, ...] = field(default=(0.0,) * len(FEATURES))
    typical: float = 5.0  # a frame's error where nothing is known of it (the validation median)
    low: float = -1.3
    high: float = 1.3
    readable_px: float = 24.0  # faces smaller than this (the window's median) read "?"
    floor: float = 1.0
    log_scale: bool = False

    def frame_error(self, factors: np.ndarray) -> np.ndarray:
        """(N,) expected |error| in years of each frame's age."""
        line = self.intercept + np.asarray(factors, np.float64) @ np.asarray(self.coef)
        return np.maximum(np.expm1(np.minimum(line, 5.0)) if self.log_scale else line, self.floor)  # <= 147 y

    def band(self, age: float, error: float) -> tuple[float, float]:
        return max(float(BINS[0]), age + self.low * error), min(float(BINS[-1]), age + self.high * error)

    def to_json(self) -> dict:
        return {**asdict(self), "coef": dict(zip(FEATURES, self.coef))}

    @classmethod
    def load(cls, path: Path = UNCERTAINTY_FILE) -> ErrorModel:
        """The fitted model, or the unfitted defaults where no file is."""
        if not Path(path).is_file():
            return cls()
        data = json.loads(Path(path).read_text())
        kwargs = {f.name: type(getattr(cls, f.name))(data[f.name]) for f in fields(cls)
                  if f.name != "coef" and f.name in data}
        return cls(coef=tuple(float(data["coef"][name]) for name in FEATURES), **kwargs)


def fit_frame_error(factors: np.ndarray, errors: np.ndarray, ridge: float = 1.0) -> tuple[float, tuple[float, ...]]:
    """(intercept, coef) of the least-squares line through the frames' |errors|,
    on standardised factors with a small ridge (a few thousand correlated frames)."""
    x = np.asarray(factors, np.float64)
    y = np.asarray(errors, np.float64)
    mu, sd = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)
    z = (x - mu) / sd
    beta = np.linalg.solve(z.T @ z + ridge * np.eye(z.shape[1]), z.T @ (y - y.mean()))
    coef = beta / sd
    return float(y.mean() - mu @ coef), tuple(float(c) for c in coef)


def fit_band_scale(fused: np.ndarray, errors: np.ndarray, ages: np.ndarray,
                   coverage: float = COVERAGE) -> tuple[float, float]:
    """(low, high): the percentiles of (true - fused age) / error that hold `coverage` of these people."""
    r = (np.asarray(ages, np.float64) - np.asarray(fused, np.float64)) / np.asarray(errors, np.float64)
    tail = (1 - coverage) / 2
    return float(np.quantile(r, tail)), float(np.quantile(r, 1 - tail))


@functools.lru_cache(maxsize=1)
def fitted_model() -> ErrorModel:
    """`weights/uncertainty.json`, read once per process."""
    return ErrorModel.load()
