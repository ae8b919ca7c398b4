"""Test inputs: synthetic frames and clips, and (when present) a few real faces
from ../shared/datasets, which are read in place and never copied into the repo."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from c3ae.faces import Faces

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
AAF = DATASETS / "aaf-train"


def real_faces(n: int = 2) -> list[np.ndarray]:
    """n head-and-shoulders photos from All-Age-Faces, or skip with the reason."""
    files = sorted(AAF.glob("*.jpg"))[:n] if AAF.is_dir() else []
    if len(files) < n:
        pytest.skip(f"needs real face images from {AAF} (absent on this machine)")
    return [cv2.imread(str(f)) for f in files]


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


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def face_clip_frames(faces: list[np.ndarray], n: int = 24, size=(640, 360), face_h: int = 200) -> list[np.ndarray]:
    """Real portraits pasted side by side on a grey background, swaying left and right."""
    w, h = size
    out = []
    for t in range(n):
        frame = np.full((h, w, 3), 90, np.uint8)
        for k, img in enumerate(faces):
            scale = face_h / img.shape[0]
            im = cv2.resize(img, None, fx=scale, fy=scale)
            x = int(60 + k * (w // len(faces)) + 40 * np.sin(2 * np.pi * t / 100))
            y = int((h - im.shape[0]) / 2)
            ih, iw = im.shape[:2]
            iw = min(iw, w - x)
            frame[y:y + ih, x:x + iw] = im[:, :iw]
        out.append(frame)
    return out


def count_frames(path: Path) -> tuple[int, float]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n, fps
