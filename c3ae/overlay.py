"""Draw faces onto a frame: `annotate(frame, faces) -> frame`.

Each face gets its box, track ID, smoothed age and a small bar chart of the
12-bin two-point distribution. Sizes scale with the frame height so labels
stay legible from 360p to 1080p, and every element is placed so that it stays
inside the frame. With untrained weights no age is shown at all.
"""
from __future__ import annotations

import cv2
import numpy as np

from .faces import Faces

FONT = cv2.FONT_HERSHEY_SIMPLEX
_PALETTE = np.array([  # BGR, distinguishable on video
    (86, 180, 233), (230, 159, 0), (0, 158, 115), (240, 228, 66), (213, 94, 0),
    (204, 121, 167), (0, 114, 178), (120, 200, 120), (255, 140, 180), (180, 180, 255),
], dtype=np.int32)


def track_colour(track_id: int) -> tuple[int, int, int]:
    c = _PALETTE[int(track_id) % len(_PALETTE)] if track_id >= 0 else np.array((200, 200, 200))
    return int(c[0]), int(c[1]), int(c[2])


def _clamp_origin(x: float, y: float, w: int, h: int, frame_w: int, frame_h: int) -> tuple[int, int]:
    return int(min(max(x, 0), max(frame_w - w, 0))), int(min(max(y, 0), max(frame_h - h, 0)))


def _label(frame: np.ndarray, text: str, box: np.ndarray, colour, scale: float, thickness: int) -> None:
    fh, fw = frame.shape[:2]
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    pad = max(2, int(3 * scale))
    w, h = tw + 2 * pad, th + base + 2 * pad
    y = box[1] - h if box[1] - h >= 0 else box[3]  # above the box, else below it
    x, y = _clamp_origin(box[0], y, w, h, fw, fh)
    cv2.rectangle(frame, (x, y), (x + w, y + h), colour, cv2.FILLED)
    cv2.putText(frame, text, (x + pad, y + pad + th), FONT, scale, (20, 20, 20), thickness, cv2.LINE_AA)


def _bars(frame: np.ndarray, dist: np.ndarray, box: np.ndarray, colour, unit: float) -> None:
    fh, fw = frame.shape[:2]
    bar_w = max(3, int(round(4 * unit)))
    gap = max(1, int(round(unit)))
    w = 12 * bar_w + 11 * gap + 2 * gap
    h = int(max(24 * unit, min(0.6 * (box[3] - box[1]), 60 * unit)))
    margin = max(2, int(4 * unit))
    x = box[2] + margin if box[2] + margin + w <= fw else box[0] - margin - w  # right, else left
    x, y = _clamp_origin(x, box[1], w, h, fw, fh)
    roi = frame[y:y + h, x:x + w]
    roi[:] = (roi * 0.45).astype(np.uint8)  # darkened backdrop keeps bars readable on any scene
    peak = float(np.nanmax(dist)) if np.isfinite(dist).any() else 1.0
    for k, p in enumerate(np.nan_to_num(dist)):
        bh = int(round((h - 2 * gap) * p / max(peak, 1e-6)))
        bx = x + gap + k * (bar_w + gap)
        cv2.rectangle(frame, (bx, y + h - gap - bh), (bx + bar_w - 1, y + h - gap), colour, cv2.FILLED)


def annotate(frame: np.ndarray, faces: Faces, *, trained: bool = True, show_bars: bool = True) -> np.ndarray:
    """Draw every face onto `frame` in place and return it."""
    fh, fw = frame.shape[:2]
    unit = max(fh, 240) / 720.0  # 1.0 at 720p
    thickness = max(1, int(round(2 * unit)))
    font_scale = max(0.45, 0.6 * unit)
    for i in range(len(faces)):
        box = faces.boxes[i]
        colour = track_colour(faces.track_ids[i])
        p1 = (int(np.clip(box[0], 0, fw - 1)), int(np.clip(box[1], 0, fh - 1)))
        p2 = (int(np.clip(box[2], 0, fw - 1)), int(np.clip(box[3], 0, fh - 1)))
        cv2.rectangle(frame, p1, p2, colour, thickness if faces.missed[i] == 0 else 1, cv2.LINE_AA)
        age = faces.ages_smoothed[i] if np.isfinite(faces.ages_smoothed[i]) else faces.ages[i]
        tid = f"#{faces.track_ids[i]} " if faces.track_ids[i] >= 0 else ""
        if not trained:
            text = f"{tid}age: untrained model"
        elif np.isfinite(age):
            text = f"{tid}{age:.0f} y"
        else:
            text = tid.strip() or "face"
        _label(frame, text, box, colour, font_scale, max(1, thickness - 1))
        dist = faces.dists_smoothed[i] if np.isfinite(faces.dists_smoothed[i]).all() else faces.dists[i]
        if show_bars and trained and np.isfinite(dist).all():
            _bars(frame, dist, box, colour, unit)
    return frame


def banner(frame: np.ndarray, text: str) -> np.ndarray:
    """A warning strip across the top of the frame (e.g. untrained weights)."""
    fh, fw = frame.shape[:2]
    unit = max(fh, 240) / 720.0
    scale, thickness = max(0.45, 0.6 * unit), max(1, int(round(unit)))
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    h = min(fh, th + base + int(12 * unit))
    frame[:h] = (frame[:h] * 0.3 + np.array((0, 0, 160)) * 0.7).astype(np.uint8)
    cv2.putText(frame, text, (max(2, (fw - tw) // 2), min(h - base - 2, th + int(6 * unit))), FONT, scale,
                (255, 255, 255), thickness, cv2.LINE_AA)
    return frame
