"""Two-point encoding of an age over the C3AE bins 0, 10, ..., 110.

An age y between bins b_k <= y < b_{k+1} becomes a 12-vector with mass
(b_{k+1} - y)/10 on bin k and (y - b_k)/10 on bin k+1, whose expectation over
the bin centres is exactly y. This is the target of the cascade's KL term.
"""
from __future__ import annotations

import warnings

import numpy as np

BIN_WIDTH = 10.0
BINS = np.arange(12, dtype=np.float32) * BIN_WIDTH  # 0, 10, ..., 110
MIN_AGE = float(BINS[0])
MAX_AGE = float(BINS[-1])


def encode(ages: np.ndarray | float) -> np.ndarray:
    """Ages (any shape) -> two-point distributions (..., 12), float32.

    Ages outside [0, 110] are clamped to the range with a warning, since the
    bins cannot represent them.
    """
    y = np.asarray(ages, dtype=np.float64)
    outside = (y < MIN_AGE) | (y > MAX_AGE) | ~np.isfinite(y)
    if outside.any():
        warnings.warn(
            f"{int(outside.sum())} age(s) outside [{MIN_AGE:g}, {MAX_AGE:g}] clamped to the bin range",
            stacklevel=2,
        )
    y = np.clip(np.nan_to_num(y, nan=MIN_AGE), MIN_AGE, MAX_AGE)
    pos = (y - MIN_AGE) / BIN_WIDTH
    lower = np.minimum(np.floor(pos).astype(np.int64), len(BINS) - 2)
    upper_weight = pos - lower
    out = np.zeros(y.shape + (len(BINS),), dtype=np.float64)
    np.put_along_axis(out, lower[..., None], (1.0 - upper_weight)[..., None], axis=-1)
    np.put_along_axis(out, lower[..., None] + 1, upper_weight[..., None], axis=-1)
    return out.astype(np.float32)


def decode(dists: np.ndarray) -> np.ndarray:
    """Distributions (..., 12) -> ages (...): the expectation over bin centres."""
    d = np.asarray(dists, dtype=np.float64)
    return (d @ BINS.astype(np.float64)).astype(np.float32)
