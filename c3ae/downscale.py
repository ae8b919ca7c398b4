"""Exact whole-number reductions of a picture: k x k block averages.

OpenCV's area resize has a fast path for a whole-number factor (0.5-0.9 ms for
a 1080p frame halved) and a slow one for a fractional factor (8-11 ms from 1080p
to a window's size), and the fast one needs sides that are whole multiples of
the factor. The detector's halved look at a big frame and the window's picture
both reduce through this one function.
"""
from __future__ import annotations

import cv2
import numpy as np


def area_reduced(picture: np.ndarray, k: int) -> np.ndarray:
    """`picture` averaged over k x k blocks; the last h % k rows and w % k columns
    (fewer than k) are left out, so the fast path applies."""
    h, w = picture.shape[:2]
    h, w = h - h % k, w - w % k
    return cv2.resize(picture[:h, :w], (w // k, h // k), interpolation=cv2.INTER_AREA)
