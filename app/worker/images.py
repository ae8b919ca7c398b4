"""A pipeline result turned into what the window shows, built in the worker thread.

`QImage` (unlike `QPixmap`) may be made off the GUI thread, so the worker does
the colour conversion and copying, and the GUI thread only paints.
"""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage

from app.worker.messages import FrameReport
from c3ae.crops.context import face_crops
from c3ae.faces import Faces
from c3ae.pipeline import FrameResult


def to_qimage(frame_bgr: np.ndarray) -> QImage:
    """BGR numpy frame -> an RGB QImage that owns a copy of the pixels."""
    rgb = np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def crops_by_track(frame_bgr: np.ndarray, faces: Faces) -> dict[int, np.ndarray]:
    """Track id -> the three crops the model saw, as (3, 64, 64, 3) RGB, for the faces
    detected in this frame. Cut again from the unannotated frame by the model's own
    crop function, so each matches its face by construction: the pipeline's crops
    follow the detector's order, and the tracker drops weak detections it cannot match."""
    detected = np.flatnonzero((faces.missed == 0) & (faces.track_ids >= 0))
    if not len(detected):
        return {}
    crops = face_crops(frame_bgr, faces[detected]).numpy()
    return {int(faces.track_ids[i]): np.ascontiguousarray(c.transpose(0, 2, 3, 1)[..., ::-1])
            for i, c in zip(detected, crops)}


def frame_report(result: FrameResult, frame_bgr: np.ndarray | None, index: int, time_s: float, trained: bool,
                 fps: float, recorded_frames: int) -> FrameReport:
    """Everything the window needs about one frame, owning its pixels; `frame_bgr`,
    the unannotated frame, only when the debug view wants the model's crops."""
    crops = crops_by_track(frame_bgr, result.faces) if frame_bgr is not None else {}
    return FrameReport(to_qimage(result.frame), index, time_s, result.faces, result.timings, trained, fps,
                       recorded_frames, crops)
