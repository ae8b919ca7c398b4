"""A pipeline result turned into what the window shows, built in the worker thread.

`QImage` (unlike `QPixmap`) may be made off the GUI thread, so the worker does
the colour conversion and copying, and the GUI thread only paints.
"""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage

from c3ae.pipeline import FrameResult

from .messages import FrameReport


def to_qimage(frame_bgr: np.ndarray) -> QImage:
    """BGR numpy frame -> an RGB QImage that owns a copy of the pixels."""
    rgb = np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def crops_by_track(result: FrameResult) -> dict[int, np.ndarray]:
    """Track id -> its three crops as (3, 64, 64, 3) RGB, for detected faces only
    (the pipeline's crops follow the detections, which come first in `faces`)."""
    if result.crops is None:
        return {}
    crops = result.crops.numpy()
    detected = np.flatnonzero(result.faces.missed == 0)
    return {int(result.faces.track_ids[i]): np.ascontiguousarray(crops[i].transpose(0, 2, 3, 1)[..., ::-1])
            for i in detected if i < len(crops)}


def frame_report(result: FrameResult, index: int, time_s: float, trained: bool, fps: float,
                 recorded_frames: int) -> FrameReport:
    """Everything the window needs about one frame, owning its pixels."""
    return FrameReport(to_qimage(result.frame), index, time_s, result.faces, result.timings, trained, fps,
                       recorded_frames, crops_by_track(result))
