"""Plain data the worker sends to the window by signal.

Kept free of Qt widgets so the worker can build them off the GUI thread;
`QImage` is safe to hand across threads (unlike `QPixmap`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtGui import QImage

from c3ae.faces import Faces


@dataclass(frozen=True)
class SourceInfo:
    """What the window needs to set up its transport controls for a source."""

    source: str | int
    is_camera: bool
    fps: float
    frame_count: int  # 0 for cameras
    size: tuple[int, int]
    detector: str  # 'short' or 'full'

    @property
    def label(self) -> str:
        return f"camera {self.source}" if self.is_camera else str(self.source)


@dataclass(frozen=True)
class EngineInfo:
    trained: bool
    status: str  # e.g. "c3ae.pt (trained)" or why it is a placeholder
    device: str  # 'cpu' or 'cuda'
    cuda_available: bool


@dataclass
class FrameReport:
    """One processed frame, as shown: the annotated image plus per-face results."""

    image: QImage  # annotated frame, RGB888, owns its pixels
    index: int  # frame index in the source (cameras: frames processed so far)
    time_s: float  # position in the file, or seconds since the camera opened
    faces: Faces
    timings: dict[str, float]  # stage -> ms, from the pipeline
    trained: bool
    fps: float  # frames processed per second (moving average)
    recorded_frames: int = -1  # frames in the current recording, -1 when not recording
    crops: dict[int, np.ndarray] = field(default_factory=dict)  # track id -> (3, 64, 64, 3) RGB
