"""The processing options of `FramePipeline`: one definition, one validation.

The app builds them from its settings panel, `annotate` from its arguments;
both get the same defaults, the same documented ranges and the same error
messages. The detector's "auto" is resolved here; the device's with the model, which
imports torch (`c3ae.model.runner.resolve_device`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from c3ae.errors import OptionsError

DEFAULT_MIN_SCORE = 0.5
DETECTOR_FLOOR = 0.2  # BlazeFace reports faces from this score up; `min_score` filters above it
DEFAULT_SMOOTHING = 0.85
ANNOTATE_DETECT_EVERY = 3  # annotate's detection schedule: a new face is found within 2 frames
MIN_FRAME_SIDE = 16  # pixels: smaller frames hold no face to find, and x264 refuses 1x1 and 2x2
DEFAULT_RECONNECT_S = 30.0  # how long a dropped stream may stay away before it counts as ended
DETECTORS = ("auto", "short", "full")
DEVICES = ("auto", "cpu", "cuda")
# Tiled detection (`c3ae.detect.tiles`) for small faces in big frames. BlazeFace sees a
# frame at 192 px, so a 40 px face in 2560x1440 is lost; tiles find it, at one
# detector call per tile, a few tiles a call while small faces are in view.
# 'auto': for frames of TILES_MIN_SIDE['auto'] px or more on the long side (where
# faces get that small); 'on' (crowd mode): at any frame size, active on every
# call even before a small face is seen; 'off': never.
TILES = ("auto", "on", "off")
TILES_MIN_SIDE = {"auto": 1280, "on": 0}
# name -> (lowest, highest, what it means); the detector only reports faces
# scoring DETECTOR_FLOOR or more, so a lower threshold would change nothing
RANGES: dict[str, tuple[float, float, str]] = {
    "min_score": (DETECTOR_FLOOR, 1.0, "detector confidence a face needs"),
    "min_size": (0.0, 4096.0, "smallest face side in pixels"),
    "smoothing": (0.0, 0.99, "smoothing of the live age chart: 0 none, 0.9 ~ the last 10 frames"
                  " (a person's age fuses all their frames)"),
}


def flag(name: str) -> str:
    """The command-line spelling of an option, as users type it."""
    return "--" + name.replace("_", "-")


def default_detector_for(source: str | int) -> str:
    """A camera is a face at arm's length: 'short'; a video file may be a wide shot: 'full'."""
    return "short" if isinstance(source, int) or str(source).isdigit() else "full"


@dataclass(frozen=True)
class PipelineOptions:
    """The user's processing choices; construction refuses values out of range."""

    detector: str = "auto"  # 'auto' (short for cameras, full for files), 'short' or 'full'
    device: str = "auto"  # 'auto', 'cpu' or 'cuda'
    tiles: str = "auto"  # 'auto' (frames >= 1280 px on the long side), 'on' or 'off': see TILES
    min_score: float = DEFAULT_MIN_SCORE
    min_size: float = 0.0  # pixels
    smoothing: float = DEFAULT_SMOOTHING
    show_bars: bool = True
    debug: bool = False  # keep the three crops of each face for the debug view
    blur: bool = False  # pixelate every face in the output (recordings, snapshots, annotate)

    def __post_init__(self) -> None:
        for name, allowed in (("detector", DETECTORS), ("device", DEVICES), ("tiles", TILES)):
            if getattr(self, name) not in allowed:
                raise OptionsError(f"{flag(name)} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        for name, (low, high, meaning) in RANGES.items():
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or math.isnan(value) or not low <= value <= high:
                raise OptionsError(f"{flag(name)} ({meaning}) must be between {low:g} and {high:g}; got {value}")

    def resolved(self, source: str | int | None = None) -> PipelineOptions:
        """A copy with the detector's 'auto' replaced by the kind of `source` (a file
        when None); the device's 'auto' is the model's to resolve (`AgeEngine`)."""
        detector = self.detector if self.detector != "auto" else default_detector_for(source or "")
        return replace(self, detector=detector)


def range_text(name: str) -> str:
    """'low..high' of a numeric option, for --help."""
    low, high, _ = RANGES[name]
    return f"{low:g}..{high:g}"
