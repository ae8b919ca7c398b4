"""Draw faces onto a frame: `draw_faces(frame, faces) -> frame`.

Each face gets its box, a label with track ID, shown age and band ("#3 29 y
(25-34)", "#3 ..." until the track has enough frames, "?" when its evidence
is poor) and a small bar chart of its fused 12-bin distribution.

Layout: labels and charts never cover another face or another label. Faces
are laid out largest first; each label tries the spots around its box
(above, below, beside) at full, then smaller text; only when none is free
does it go inside its own box (whole, smaller, or just the bare age), or is
left out. Charts are placed after all labels, beside the box or below it,
full or reduced, and are left out when nothing is free, so a crowd gets
labels only. Sizes scale with the frame height (legible from 360p to 4K) and
everything stays inside the frame. With untrained weights no age is shown.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from c3ae.faces import Faces

FONT = cv2.FONT_HERSHEY_SIMPLEX
_PALETTE = np.array([  # BGR, distinguishable on video
    (86, 180, 233), (230, 159, 0), (0, 158, 115), (240, 228, 66), (213, 94, 0),
    (204, 121, 167), (0, 114, 178), (120, 200, 120), (255, 140, 180), (180, 180, 255),
], dtype=np.int32)
_GREY = np.array((160, 160, 160))

Rect = tuple[int, int, int, int]  # x, y, w, h


def track_colour(track_id: int) -> tuple[int, int, int]:
    c = _PALETTE[int(track_id) % len(_PALETTE)] if track_id >= 0 else np.array((200, 200, 200))
    return int(c[0]), int(c[1]), int(c[2])


def age_text(age: float, low: float, high: float, uncertain: bool) -> str:
    """'29 y (25-34)': a person's shown age, '?' after it when the evidence is poor,
    and the band once there is one; '...' before the first age. The one spelling
    of an age, on the video and in the app's side panel."""
    if not np.isfinite(age):
        return "..."
    mark = "?" if uncertain else ""
    band = f" ({low:.0f}-{high:.0f})" if np.isfinite(low) and np.isfinite(high) else ""
    return f"{age:.0f} y{mark}{band}"


def label_text(faces: Faces, i: int, trained: bool = True) -> str:
    """What the label of face i says."""
    tid = f"#{faces.track_ids[i]} " if faces.track_ids[i] >= 0 else ""
    if not trained:
        return f"{tid}age: untrained model"
    if faces.track_ids[i] < 0:  # not tracked: the frame's own estimate
        return f"{faces.ages[i]:.0f} y" if np.isfinite(faces.ages[i]) else "face"
    return tid + age_text(faces.ages_smoothed[i], faces.ages_low[i], faces.ages_high[i], bool(faces.uncertain[i]))


def short_text(faces: Faces, i: int, trained: bool = True) -> str:
    """The bare age (or "..."), for a label squeezed inside its own box."""
    if not trained:
        return "?"
    age = faces.ages_smoothed[i] if faces.track_ids[i] >= 0 else faces.ages[i]
    return f"{age:.0f}" if np.isfinite(age) else "..."


@dataclass
class Placement:
    """Where face i's label (and chart) go; None = left out for lack of room."""

    text: str
    scale: float
    label: Rect | None
    bars: Rect | None = None


def _text_size(text: str, scale: float, thickness: int) -> tuple[int, int, int]:
    """(w, h, baseline-to-top) of the label's filled rectangle at this scale."""
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    pad = max(2, int(3 * scale))
    return tw + 2 * pad, th + base + 2 * pad, pad + th


class _Room:
    """The frame's free space: face boxes and placed rectangles are taken.

    Taken rectangles are filed in a coarse grid of cells, so a candidate is
    checked only against those sharing its cells: a handful for two faces or a
    crowd of fifty alike, in plain Python (numpy's per-call cost is larger than
    the whole check at these sizes)."""

    def __init__(self, boxes: np.ndarray, frame_w: int, frame_h: int, cell: int) -> None:
        self.fw, self.fh = frame_w, frame_h
        self.cell = max(1, cell)
        self.taken: list[tuple[float, float, float, float]] = []  # xyxy; the faces' boxes first
        self.cells: dict[tuple[int, int], list[int]] = {}
        for x1, y1, x2, y2 in np.asarray(boxes, np.float64).tolist():
            self._file(x1, y1, x2, y2)

    def _span(self, x1: float, y1: float, x2: float, y2: float) -> list[tuple[int, int]]:
        """The cells a rectangle inside the frame covers."""
        c = self.cell
        rows = range(int(y1 // c), int(y2 // c) + 1)
        return [(cx, cy) for cx in range(int(x1 // c), int(x2 // c) + 1) for cy in rows]

    def _file(self, x1: float, y1: float, x2: float, y2: float) -> None:
        """Take a rectangle; a face's box reaching out of the frame is filed by its part inside."""
        index = len(self.taken)
        self.taken.append((x1, y1, x2, y2))
        right, bottom = self.fw - 1, self.fh - 1
        for key in self._span(min(max(x1, 0), right), min(max(y1, 0), bottom), min(max(x2, 0), right),
                              min(max(y2, 0), bottom)):
            self.cells.setdefault(key, []).append(index)

    def clear(self, rect: Rect, own: int = -1) -> bool:
        """No taken rectangle overlaps `rect`, which lies inside the frame, but
        number `own`: face `own`'s box, for a label squeezed inside it."""
        x, y, w, h = rect
        x2, y2 = x + w, y + h
        cells = self.cells
        for key in self._span(x, y, x2, y2):
            for k in cells.get(key, ()):
                tx1, ty1, tx2, ty2 = self.taken[k]
                if k != own and tx1 < x2 and x < tx2 and ty1 < y2 and y < ty2:
                    return False
        return True

    def first_free(self, spots: Iterable[tuple[float, float]], w: int, h: int) -> Rect | None:
        """The first of the w x h rectangles at these spots (moved inside the frame)
        that is clear of every face and placed rectangle."""
        for x, y in spots:
            rect = self.clamp(x, y, w, h)
            if rect[0] + w <= self.fw and rect[1] + h <= self.fh and self.clear(rect):
                return rect
        return None

    def take(self, rect: Rect) -> None:
        x, y, w, h = rect
        self._file(x, y, x + w, y + h)

    def clamp(self, x: float, y: float, w: int, h: int) -> Rect:
        return int(min(max(x, 0), max(self.fw - w, 0))), int(min(max(y, 0), max(self.fh - h, 0))), w, h


def _label_spots(box: np.ndarray, w: int, h: int, gap: int) -> list[tuple[float, float]]:
    x1, y1, x2, y2 = box
    return [(x1, y1 - h - gap), (x1, y2 + gap), (x2 - w, y1 - h - gap), (x2 - w, y2 + gap),
            (x2 + gap, y1), (x1 - w - gap, y1), (x2 + gap, y2 - h), (x1 - w - gap, y2 - h)]


def layout(faces: Faces, frame_shape: tuple[int, ...], texts: list[str], shorts: list[str] | None = None, *,
           bars: bool = True) -> list[Placement]:
    """Place every face's label and chart without covering other faces or labels;
    `shorts` are the labels' bare forms for when only their own box has room."""
    fh, fw = frame_shape[:2]
    unit = max(fh, 240) / 720.0  # 1.0 at 720p
    scale = max(0.45, 0.6 * unit)
    thickness = max(1, int(round(unit)))
    gap = max(1, int(2 * unit))
    room = _Room(faces.boxes, fw, fh, cell=int(64 * unit))
    out = [Placement(t, scale, None) for t in texts]
    for i in np.argsort(-faces.sizes, kind="stable"):
        short = shorts[i] if shorts else ""
        out[i] = _place_label(room, faces.boxes[i], int(i), texts[i], short, scale, thickness, gap)
    if bars:
        chart_w = 12 * max(3, int(round(4 * unit))) + 13 * max(1, int(round(unit)))
        for i in np.argsort(-faces.sizes, kind="stable"):
            out[i].bars = _place_bars(room, faces.boxes[i], chart_w, unit, gap)
    return out


def _place_label(room: _Room, box: np.ndarray, i: int, text: str, short: str, scale: float, thickness: int,
                 gap: int) -> Placement:
    for s in (scale, 0.8 * scale, 0.65 * scale):
        w, h, _ = _text_size(text, s, thickness)
        rect = room.first_free(_label_spots(box, w, h, gap), w, h)
        if rect is not None:
            room.take(rect)
            return Placement(text, s, rect)
    # inside its own box (a face filling the frame, or boxed in by others):
    # it covers only its own face; the whole label if it fits, else the bare age
    x1, y1 = max(box[0], 0), max(box[1], 0)
    x2, y2 = min(box[2], room.fw), min(box[3], room.fh)
    for t, s in ((text, scale), (text, 0.65 * scale), (short, 0.65 * scale)):
        w, h, _ = _text_size(t, s, thickness)
        rect = (int(x1 + gap), int(y1 + gap), w, h)
        if t and x2 - x1 >= w + 2 * gap and y2 - y1 >= h + 2 * gap and room.clear(rect, i):
            room.take(rect)
            return Placement(t, s, rect)
    return Placement(text, scale, None)


def _place_bars(room: _Room, box: np.ndarray, chart_w: int, unit: float, gap: int) -> Rect | None:
    x1, y1, x2, y2 = box
    full_h = int(max(24 * unit, min(0.6 * (y2 - y1), 60 * unit)))
    for w, h in ((chart_w, full_h), (int(chart_w * 0.6), int(max(16 * unit, full_h * 0.6)))):
        spots = ((x2 + gap, y1), (x1 - w - gap, y1), (x2 + gap, y2 - h), (x1 - w - gap, y2 - h),
                 (x1, y2 + gap), (x2 - w, y2 + gap))
        rect = room.first_free(spots, w, h)
        if rect is not None:
            room.take(rect)
            return rect
    return None


@functools.lru_cache(maxsize=512)
def _label_patch(text: str, scale: float, colour: tuple[int, int, int], thickness: int) -> np.ndarray:
    """The label as pixels (its filled rectangle with the text), drawn once and
    reused while the label stays the same: a held age's label does not change
    from frame to frame, and putText is most of a crowd's drawing."""
    w, h, baseline_y = _text_size(text, scale, thickness)
    patch = np.empty((h, w, 3), np.uint8)
    patch[:] = colour
    pad = max(2, int(3 * scale))
    cv2.putText(patch, text, (pad, baseline_y), FONT, scale, (20, 20, 20), thickness, cv2.LINE_AA)
    patch.flags.writeable = False
    return patch


def _draw_label(frame: np.ndarray, p: Placement, colour: tuple[int, int, int], thickness: int) -> None:
    x, y, w, h = p.label
    frame[y:y + h, x:x + w] = _label_patch(p.text, p.scale, colour, thickness)


def _draw_bars(frame: np.ndarray, dist: np.ndarray, rect: Rect, colour: tuple[int, int, int], unit: float) -> None:
    x, y, w, h = rect
    gap = max(1, int(round(unit)))
    bar_w = max(1, (w - 13 * gap) // 12)
    roi = frame[y:y + h, x:x + w]
    cv2.convertScaleAbs(roi, roi, alpha=0.45)  # darkened backdrop keeps bars readable on any scene
    peak = max(float(dist.max()), 1e-6)
    heights = np.rint((h - 2 * gap) * dist / peak).astype(int).tolist()
    bottom = y + h - gap + 1
    for k, bh in enumerate(heights):  # each bar from the baseline up, at least one row
        bx = x + gap + k * (bar_w + gap)
        frame[bottom - 1 - bh:bottom, bx:bx + bar_w] = colour


def draw_faces(frame: np.ndarray, faces: Faces, *, trained: bool = True, show_bars: bool = True) -> np.ndarray:
    """Draw every face onto `frame` in place and return it."""
    fh, fw = frame.shape[:2]
    unit = max(fh, 240) / 720.0
    thickness = max(1, int(round(2 * unit)))
    texts = [label_text(faces, i, trained) for i in range(len(faces))]
    shorts = [short_text(faces, i, trained) for i in range(len(faces))]
    places = layout(faces, frame.shape, texts, shorts, bars=show_bars and trained)
    for i, p in enumerate(places):
        box = faces.boxes[i]
        colour = track_colour(faces.track_ids[i])
        if faces.uncertain[i]:  # poor evidence: a washed-out colour
            colour = tuple(int(c) for c in (np.array(colour) + _GREY) // 2)
        x1, y1, x2, y2 = box.tolist()
        p1 = (int(min(max(x1, 0), fw - 1)), int(min(max(y1, 0), fh - 1)))
        p2 = (int(min(max(x2, 0), fw - 1)), int(min(max(y2, 0), fh - 1)))
        cv2.rectangle(frame, p1, p2, colour, thickness if faces.missed[i] == 0 else 1, cv2.LINE_AA)
        if p.label is not None:
            _draw_label(frame, p, colour, max(1, int(round(unit))))
        dist = faces.dists_smoothed[i] if np.isfinite(faces.dists_smoothed[i]).all() else faces.dists[i]
        if p.bars is not None and np.isfinite(dist).all():
            _draw_bars(frame, dist, p.bars, colour, unit)
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
