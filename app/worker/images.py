"""A pipeline result turned into what the window shows, built in the worker thread.

`QImage` (unlike `QPixmap`) may be made off the GUI thread, so the worker does
the colour conversion and copying, and the GUI thread only paints. A frame
larger than the view is first brought down to the view's size, here in the
worker: the GUI thread then paints it as it is, instead of smooth-scaling a
1080p picture on every frame, and the conversion and copy handle fewer pixels.
The reduction is a whole-number area average (`c3ae.downscale`) and a
bilinear step under 2x: an area average by a fractional factor costs 8-11 ms
a 1080p frame, these two 1-1.7 ms.
"""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage

from app.worker.messages import FrameReport
from c3ae.downscale import area_reduced
from c3ae.results import FrameResult


def fitted(frame: np.ndarray, fit: tuple[int, int] | None) -> np.ndarray:
    """`frame` brought down to fit within `fit` (width, height) with its aspect kept;
    as it is when it fits already, or when `fit` is None (not known yet)."""
    if fit is None:
        return frame
    h, w = frame.shape[:2]
    scale = min(fit[0] / w, fit[1] / h)
    if scale >= 1.0:
        return frame
    size = max(1, round(w * scale)), max(1, round(h * scale))
    k = int(1.0 / scale)  # a whole-number reduction first, leaving under 2x to the bilinear step
    if k >= 2:
        frame = area_reduced(frame, k)
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)


def to_qimage(frame_bgr: np.ndarray, fit: tuple[int, int] | None = None) -> QImage:
    """BGR numpy frame -> an RGB QImage that owns a copy of the pixels, no larger than `fit`."""
    rgb = np.ascontiguousarray(cv2.cvtColor(fitted(frame_bgr, fit), cv2.COLOR_BGR2RGB))
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


def frame_report(result: FrameResult, fps: float, recorded_frames: int,
                 fit: tuple[int, int] | None = None) -> FrameReport:
    """Everything the window needs about one frame, owning its pixels (the picture
    no larger than the view's `fit`; the model's crops only when the debug view
    asked the pipeline to keep them)."""
    return FrameReport(to_qimage(result.frame, fit), result.index, result.time_s, result.faces, result.timings,
                       result.trained, fps, recorded_frames, crops_by_track(result))
