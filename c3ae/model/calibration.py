"""Undo the pull toward the middle: a monotone map from predicted to calibrated age.

A model trained to minimise absolute error answers, for a face it is unsure
about, something between that face's age and the ages of the bulk of the
training set: children read older and old people younger (measured on the
validation split: +5.6 years for teenagers, -7 in the 70s). If f(t) is the
mean prediction for faces of true age t, a monotone f can be inverted, and
g = f^-1 applied to every prediction makes the mean answer for each age that
age again. g is piecewise linear between knots fitted on the VALIDATION split
(`c3ae.training.calibrate`), with slope 1 beyond its ends.

The two-point distribution is moved the same way (each bin's mass goes to
the two bins around g(bin)), so the bar chart and the age band drawn from it
agree with the calibrated age. Shipped inside the TorchScript file: the engine
and the app need not know.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from c3ae.twopoint import BINS, encode


class AgeCalibration(nn.Module):
    """(age, distribution) -> calibrated (age, distribution)."""

    def __init__(self, predicted: np.ndarray, age: np.ndarray) -> None:
        super().__init__()
        predicted, age = np.asarray(predicted, np.float32), np.asarray(age, np.float32)
        if predicted.ndim != 1 or predicted.shape != age.shape or len(predicted) < 2:
            raise ValueError("calibration needs two 1-d arrays of the same length >= 2")
        if not (np.diff(predicted) > 0).all():
            raise ValueError("calibration knots must be strictly increasing")
        self.register_buffer("x", torch.from_numpy(predicted))
        self.register_buffer("y", torch.from_numpy(age))
        moved = np.clip(self.map_numpy(BINS), BINS[0], BINS[-1])
        self.register_buffer("transport", torch.from_numpy(encode(moved)))  # (12, 12): row k = bin k's mass

    def map_numpy(self, ages: np.ndarray) -> np.ndarray:
        x, y = self.x.numpy(), self.y.numpy()
        ages = np.asarray(ages, np.float32)
        out = np.interp(ages, x, y)
        return np.where(ages < x[0], y[0] + ages - x[0], np.where(ages > x[-1], y[-1] + ages - x[-1], out))

    def forward(self, age: torch.Tensor, dist: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.x, self.y
        k = torch.searchsorted(x, age.contiguous()).clamp(1, x.numel() - 1)
        x0, x1, y0, y1 = x[k - 1], x[k], y[k - 1], y[k]
        inside = y0 + (age - x0) * (y1 - y0) / (x1 - x0)
        out = torch.where(age < x[0], y[0] + age - x[0], torch.where(age > x[-1], y[-1] + age - x[-1], inside))
        return out, dist @ self.transport


class Calibrated(nn.Module):
    """A model followed by its calibration; same inputs and outputs as the model."""

    def __init__(self, model: nn.Module, calibration: AgeCalibration) -> None:
        super().__init__()
        self.model = model
        self.calibration = calibration

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        age, dist = self.model(crops)
        return self.calibration(age, dist)
