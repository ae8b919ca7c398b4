"""Short test and benchmark clips built from dataset portraits, read in place.

Used by the tests and by `bench/`; the clips go to temporary folders and are
never committed (the faces come from research datasets)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from c3ae.errors import NoDatasetFaces
from c3ae.runtime.paths import DATASETS

AAF = DATASETS / "aaf-train"


def dataset_faces(n: int = 2) -> list[np.ndarray]:
    """n head-and-shoulders photos from All-Age-Faces."""
    files = sorted(AAF.glob("*.jpg"))[:n] if AAF.is_dir() else []
    if len(files) < n:
        raise NoDatasetFaces(f"needs real face images from {AAF} (absent on this machine)")
    return [cv2.imread(str(f)) for f in files]


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


def crowd_frames(faces: list[np.ndarray], n: int = 60, grid: tuple[int, int] = (4, 4),
                 cell: tuple[int, int] = (640, 360), per_cell: int = 3,
                 face_h: int = 100) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
    """A crowd in a big frame, one frame at a time (a 4K clip held whole would take
    gigabytes): (mosaic, cells), the mosaic being `grid` (rows, cols) shots of
    `cell` pixels, each `per_cell` portraits `face_h` px tall swaying on grey,
    different people and phases per shot. `cells` are the shots alone, the
    reference for what a detector finds in the mosaic."""
    rows, cols = grid
    w, h = cell
    small = [cv2.resize(img, None, fx=face_h / img.shape[0], fy=face_h / img.shape[0]) for img in faces]
    slot = w // per_cell
    for t in range(n):
        cells = []
        for k in range(rows * cols):
            frame = np.full((h, w, 3), 90, np.uint8)
            for j in range(per_cell):
                im = small[(k * per_cell + j) % len(small)]
                ih, iw = im.shape[:2]
                iw = min(iw, slot)
                x = int((slot - iw) / 2 + j * slot + 0.2 * (slot - iw) * np.sin(2 * np.pi * (t + 9 * k) / 80))
                y = int((h - ih) / 2 + 20 * np.sin(2 * np.pi * (k + j) / 5))
                frame[y:y + ih, x:x + iw] = im[:, :iw]
            cells.append(frame)
        mosaic = np.concatenate([np.concatenate(cells[r * cols:(r + 1) * cols], axis=1) for r in range(rows)])
        yield mosaic, cells
