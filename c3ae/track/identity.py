"""What a face looks like, so the tracker keeps two neighbours from swapping identities.

`appearance` is a small hue-saturation histogram of the face-with-hair crop,
cheap enough for every face of every frame; `similarity` compares them.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from c3ae.track.quality import crop_images

_HIST_BINS = (8, 4)  # hue x saturation
# Brightest level (of an 8x8 thumbnail) below which a crop is too dark to compare: deep in a
# fade a face spans a few dozen grey levels, and stretched to full brightness its hue and
# saturation are mostly quantisation and compression noise (a face at 11% of its brightness
# matched itself at 0.39 at 1080p, under the tracker's veto, and at 0.68 at 360p).
TOO_DARK = 40


def appearance(crops: torch.Tensor) -> np.ndarray:
    """(N, 32) L1-normalised hue-saturation histograms of the face-with-hair crop.

    The crop is first stretched to full brightness, and hue/saturation ignore
    brightness, so a fade or an exposure change leaves the histogram alone;
    dark and grey pixels, whose hue is noise, are left out. A crop with too
    few usable pixels, or too dark as a whole (`TOO_DARK`), gets an all-zero
    row: "unknown", never a mismatch."""
    out = np.zeros((len(crops), _HIST_BINS[0] * _HIST_BINS[1]), np.float32)
    if not len(crops):
        return out
    for i, bgr in enumerate(crop_images(crops, min(1, crops.shape[1] - 1))):
        peak = float(cv2.resize(bgr, (8, 8), interpolation=cv2.INTER_AREA).max())  # bright, but not one pixel
        if peak < TOO_DARK:  # black or nearly: nothing to compare
            continue
        bgr = cv2.convertScaleAbs(bgr, alpha=255.0 / peak)
        hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
        mask = cv2.inRange(hsv, (0, 20, 40), (180, 255, 255))
        if cv2.countNonZero(mask) < mask.size // 5:
            continue
        hist = cv2.calcHist([hsv], [0, 1], mask, list(_HIST_BINS), [0, 180, 0, 256]).ravel()
        out[i] = hist / hist.sum()
    return out


def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Histogram intersection between every row of a (M, D) and b (N, D): 1 =
    same colours; 1 as well where either row is unknown (all zero)."""
    inter = np.minimum(a[:, None, :], b[None, :, :]).sum(axis=2)
    unknown = (a.sum(axis=1)[:, None] <= 0) | (b.sum(axis=1)[None, :] <= 0)
    return np.where(unknown, 1.0, inter)
