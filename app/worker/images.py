"""A pipeline result turned into what the window shows, built in the worker thread.

`QImage` (unlike `QPixmap`) may be made off the GUI thread, so the worker does
the colour conversion and copying, and the GUI thread only paints.
"""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage

from app.worker.messages import FrameReport
from c3ae.results import FrameResult


def to_qimage(frame_bgr: np.ndarray) -> QImage:
    """BGR numpy frame -> an RGB QImage that owns a copy of the pixels."""
    rgb = np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def crops_by_track(result: FrameResult) -> dict[int, np.ndarray]:
    """Track id -> the three crops the model saw, as (3, 64, 64, 3) RGB, for the faces
    detected in this frame: the record's own crops, when the pipeline kept them."""
    if result.crops is None:
        return {}
    faces = result.faces
    detected = np.flatnonzero(faces.missed == 0)
    crops = result.crops.numpy()
    return {int(faces.track_ids[i]): np.ascontiguousarray(c.transpose(0, 2, 3, 1)[..., ::-1])
            for i, c in zip(detected, crops, strict=True) if faces.track_ids[i] >= 0}


def frame_report(result: FrameResult, fps: float, recorded_frames: int) -> FrameReport:
    """Everything the window needs about one frame, owning its pixels (the model's
    crops only when the debug view asked the pipeline to keep them)."""
    return FrameReport(to_qimage(result.frame), result.index, result.time_s, result.faces, result.timings,
                       result.trained, fps, recorded_frames, crops_by_track(result))
