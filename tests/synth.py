"""Test inputs: synthetic frames and clips, and (when present) a few real faces
from ../shared/datasets, which are read in place and never copied into the repo."""
from __future__ import annotations

import numpy as np
import pytest

from c3ae.errors import NoDatasetFaces
from c3ae.faces import Faces
from c3ae.training.clips import count_frames, dataset_faces, face_clip_frames, write_clip

__all__ = ["count_frames", "face_clip_frames", "write_clip", "real_faces", "make_faces", "coordinate_frame"]


def real_faces(n: int = 2) -> list[np.ndarray]:
    """n head-and-shoulders photos from All-Age-Faces, or skip with the reason."""
    try:
        return dataset_faces(n)
    except NoDatasetFaces as exc:
        pytest.skip(str(exc))


def make_faces(boxes: list[tuple[float, float, float, float]], roll_deg: float = 0.0) -> Faces:
    """Faces with plausible keypoints for given xyxy boxes (eyes, nose, mouth, ears)."""
    kps = []
    for x1, y1, x2, y2 in boxes:
        cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
        rel = np.array([[-0.2, -0.15], [0.2, -0.15], [0, 0.05], [0, 0.25], [-0.45, -0.1], [0.45, -0.1]])
        a = np.deg2rad(roll_deg)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        kps.append(np.array([cx, cy]) + (rel * [w, h]) @ rot.T)
    return Faces(np.array(boxes, np.float32), np.array(kps, np.float32), np.full(len(boxes), 0.9))


def coordinate_frame(w: int = 640, h: int = 360) -> np.ndarray:
    """A smooth frame whose colour encodes position, so crop geometry can be read back."""
    x = np.linspace(0, 255, w)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h)[:, None].repeat(w, 1)
    return np.stack([x, y, np.full_like(x, 128)], axis=2).astype(np.uint8)
