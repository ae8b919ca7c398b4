"""Saving the annotated frame as a PNG: a whole file or none.

Qt-free, so the worker calls it in its own thread and tests call it directly.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .recording import timestamped_path


def save_snapshot(folder: str | Path, frame_bgr: np.ndarray) -> Path:
    """Write `frame_bgr` to folder/c3ae-snapshot-<time>.png (creating the folder);
    raises OSError. The PNG is renamed into place when complete, so a full disk
    never leaves a half-written image under the final name."""
    folder_path = Path(folder).expanduser()
    folder_path.mkdir(parents=True, exist_ok=True)
    path = timestamped_path(folder_path, "c3ae-snapshot", ".png")
    ok, png = cv2.imencode(".png", frame_bgr)
    if not ok:
        raise OSError("cannot encode the frame as PNG")
    partial = path.with_name(f".{path.name}.part")
    try:
        partial.write_bytes(png.tobytes())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path
