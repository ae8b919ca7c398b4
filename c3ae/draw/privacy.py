"""Faces kept private in written video: each face box is pixelated past recognition.

Pixelating to a few cells across the face leaves too little detail for a
person (or a face matcher, which needs ~16 px between the eyes) to recognise
it; the cells are then blended smoothly, so no block edges remain that could
be mistaken for detail. The box is enlarged first, because detector boxes are
tight around eyes and mouth and leave hairline, ears and jaw readable.
"""
from __future__ import annotations

import cv2
import numpy as np

from c3ae.faces import Faces

CELLS = 6  # pixel cells across a face: unrecognisable, yet still reads as a face
MARGIN = 0.25  # box enlargement on each side, as a fraction of its size


def blur_faces(frame: np.ndarray, *face_sets: Faces) -> np.ndarray:
    """Pixelate every box of `face_sets` (detections and tracks, coasting ones
    included) in `frame`, in place; returns `frame`."""
    h, w = frame.shape[:2]
    for faces in face_sets:
        for x1, y1, x2, y2 in faces.boxes:
            mx, my = (x2 - x1) * MARGIN, (y2 - y1) * MARGIN
            left, top = max(int(x1 - mx), 0), max(int(y1 - my), 0)
            right, bottom = min(int(np.ceil(x2 + mx)), w), min(int(np.ceil(y2 + my)), h)
            if right - left < 2 or bottom - top < 2:
                continue
            region = frame[top:bottom, left:right]
            side = max(right - left, bottom - top)
            cells = (max(1, round(CELLS * (right - left) / side)), max(1, round(CELLS * (bottom - top) / side)))
            small = cv2.resize(region, cells, interpolation=cv2.INTER_AREA)
            smooth = cv2.resize(small, (right - left, bottom - top), interpolation=cv2.INTER_LINEAR)
            kernel = max(3, (side // CELLS) | 1)
            region[:] = cv2.GaussianBlur(smooth, (kernel, kernel), 0)
    return frame
