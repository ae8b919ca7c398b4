"""Shot-cut detection from the frames themselves (not from the detector).

A hard cut replaces the picture between two frames, so the colour content
jumps; within a shot it drifts. Each frame is reduced to a 96x54 thumbnail
and described by a hue-saturation histogram (brightness-free, so a fade or an
exposure change hardly moves it) plus a coarse 8x8 grey layout. The distance
to the previous frame is compared with an adaptive threshold: a cut must
stand well above the recent frame-to-frame distances of this shot (busy
shots drift more) and above an absolute floor. A pan moves the layout a
little per frame and keeps the colours, so it stays under the threshold.

Frames are stretched to full brightness first, so the frames of a fade keep
the look of their shot; black frames (the middle of a fade to black) have no
usable colour and are skipped, and the first frame with picture again is compared with
the last frame before the darkness, so a fade from one shot into another
counts as one cut and a fade out and back into the same shot as none. A
new shot lasts at least `min_shot` frames: the first frames of a fade in
(only the brightest pixels lit, then more) would otherwise look like cuts.

A camera flash (one white frame) looks like a cut into a new shot; when the
frame after a cut looks again like the frame before it, `flash` is set so
that the tracker can take its tracks back.

The pipeline runs one detector per stream, once a frame and in frame order
(`ShotCutDetector.judge`), and hands its `Shot` verdict to both readers: the
detection schedule (which looks again at a frame that may start a shot) and
the tracker (which ends its tracks at a cut).
"""
from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

_THUMB = (96, 54)
_H_BINS, _S_BINS = 16, 4
_DARK_V = 24  # value (after stretching to full brightness) below which a pixel's hue is noise
_BLACK = 10  # brightest pixels below this: a black frame, nothing to compare


@dataclass(frozen=True)
class Signature:
    """What cut detection keeps of a frame; `colour` None for a frame with too
    little lit, coloured picture to compare (the middle of a fade to black)."""

    colour: np.ndarray | None  # (64,) hue-saturation histogram, L1 = 1
    layout: np.ndarray | None  # (64,) 8x8 grey means, zero-mean unit-norm

    @property
    def dark(self) -> bool:
        return self.colour is None


_DARK_FRAME = Signature(None, None)


@dataclass(frozen=True)
class Shot:
    """One frame's verdict: its signature, its distance to the last lit frame (0 for
    the first one and for dark ones), whether that change could be a cut at all
    (past the floor, and the layout moved: a change of colour alone never is,
    whatever the shot's usual drift), whether it starts a new shot, and whether
    it ended a one-frame flash (the shot from before the flash goes on)."""

    look: Signature
    distance: float
    possible: bool
    cut: bool
    flash: bool


def _thumbnail(frame: np.ndarray) -> np.ndarray:
    """The frame at about `_THUMB`: rows and columns skipped down to 2-4 times the
    thumbnail (4K costs as 360p), then the middle part that is a whole multiple of
    it averaged down, OpenCV's fast integer path (0.3 ms at 640x360 against 0.6
    for the same area resize by a fractional factor)."""
    w, h = _THUMB
    step = max(1, min(frame.shape[0] // (2 * h), frame.shape[1] // (2 * w)))
    small = frame[::step, ::step]
    k = min(small.shape[0] // h, small.shape[1] // w)
    if k >= 1:
        y, x = (small.shape[0] - k * h) // 2, (small.shape[1] - k * w) // 2
        small = small[y:y + k * h, x:x + k * w]
    small = cv2.resize(np.ascontiguousarray(small), _THUMB, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_GRAY2BGR) if small.ndim == 2 else small


def signature(frame: np.ndarray) -> Signature:
    """A frame's signature: a pure function of its pixels, so it may be computed
    on any thread ahead of the detector that compares it (`c3ae.pipeline`)."""
    small = _thumbnail(frame)
    values = small.reshape(-1)
    peak = float(np.partition(values, int(0.98 * (values.size - 1)))[int(0.98 * (values.size - 1))])
    if peak < _BLACK:
        return _DARK_FRAME
    small = cv2.convertScaleAbs(small, alpha=255.0 / peak)  # a fading frame looks like its shot
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    lit = hsv[..., 2] >= _DARK_V
    if lit.mean() < 0.15:
        return _DARK_FRAME
    hist = cv2.calcHist([hsv], [0, 1], lit.astype(np.uint8), [_H_BINS, _S_BINS], [0, 180, 0, 256]).ravel()
    grey = cv2.resize(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (8, 8), interpolation=cv2.INTER_AREA)
    layout = grey.astype(np.float32).ravel()
    layout -= layout.mean()
    return Signature(hist / max(hist.sum(), 1.0), layout / max(float(np.linalg.norm(layout)), 1e-3))


def distance(a: Signature, b: Signature) -> tuple[float, bool]:
    """(0 = same picture .. ~1 = unrelated, whether it can be a cut at all).

    The distance mixes the colour change (Hellinger) and the layout change. A
    change of light colour (stage lights, white balance) can move the colours
    as much as a cut, but hardly the layout, so a cut needs some of both."""
    colour = float(np.sqrt(max(0.0, 1.0 - np.sqrt(a.colour * b.colour).sum())))
    layout = 0.5 * (1.0 - float(a.layout @ b.layout))  # 0 same, 1 inverted
    return 0.7 * colour + 0.3 * layout, layout > 0.04


@dataclass
class ShotCutDetector:
    """`update(frame) -> True` on the first frame of a new shot.

    `floor`: no cut below this distance, whatever the shot; `ratio`: a cut
    stands this many times above the recent median distance; `window`:
    frames of recent history for that median; `min_shot`: frames after a cut
    in which no other is reported. After each `update`, `flash` says whether
    the last reported cut was a one-frame flash (this frame is the shot from
    before it again)."""

    floor: float = 0.18
    ratio: float = 4.0
    window: int = 30
    min_shot: int = 6
    _since_cut: int = 1_000_000
    _last: Signature | None = None
    _recent: deque = field(default_factory=deque)
    _after_dark: bool = False
    _before_cut: tuple | None = None  # (signature, recent, frames since the cut before) of the last cut
    flash: bool = False
    distance: float = 0.0  # the last frame's distance to the lit frame before it (0: none compared)
    possible: bool = False  # ... and whether that change could be a cut at all (see `Shot`)

    def reset(self) -> None:
        self._last, self._recent, self._after_dark, self._since_cut = None, deque(), False, 1_000_000
        self._before_cut, self.flash, self.distance, self.possible = None, False, 0.0, False

    def judge(self, frame: np.ndarray | Signature) -> Shot:
        """`update`, with the whole verdict (see `Shot`)."""
        look = frame if isinstance(frame, Signature) else signature(frame)
        cut = self.update(look)
        return Shot(look, self.distance, self.possible, cut, self.flash)

    def update(self, frame: np.ndarray | Signature) -> bool:
        """Whether this frame (or its `signature`, computed earlier) starts a new shot."""
        sig = frame if isinstance(frame, Signature) else signature(frame)
        self._since_cut += 1
        before, self._before_cut, self.flash, self.distance, self.possible = self._before_cut, None, False, 0.0, False
        if sig.dark:  # dark: keep the last lit frame as the reference
            self._after_dark = self._last is not None
            return False
        if self._last is None:
            self._last = sig
            return False
        d, can_cut = distance(self._last, sig)
        self.distance, self.possible = d, can_cut and d > self.floor
        if before is not None and self._since_cut == 1 and distance(before[0], sig)[0] < min(self.floor, 0.5 * d):
            self.flash = True  # back to the shot before the "cut": undo it
            self._last, self._recent, self._since_cut = sig, before[1], before[2] + 1
            return False
        previous, self._last = self._last, sig
        typical = statistics.median(self._recent) if len(self._recent) >= 3 else 0.02
        cut = d > max(self.floor, self.ratio * typical)
        if self._after_dark:  # a fade in: either the same shot or a new one, never a drift
            cut, self._after_dark = d > self.floor, False
        cut = cut and can_cut and self._since_cut > self.min_shot
        if cut:
            self._before_cut = (previous, self._recent, self._since_cut)
            self._recent = deque()
            self._since_cut = 0
        else:
            self._recent.append(d)
            while len(self._recent) > self.window:
                self._recent.popleft()
        return cut
