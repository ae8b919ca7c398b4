"""One frame through the whole chain: detect -> crops -> engine -> track -> draw.

Used by both the desktop app's worker thread and headless annotation, so the
two can never disagree. Each stage is timed, for the status bar and benches.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import overlay
from .crops import face_crops
from .detect import DEFAULT_MIN_SCORE, FaceDetector
from .engine import DEFAULT_WEIGHTS, AgeEngine
from .faces import Faces
from .track import FaceTracker

UNTRAINED_BANNER = "UNTRAINED MODEL - ages are not shown (weights/c3ae.pt missing or untrained)"


@dataclass
class FrameResult:
    frame: np.ndarray  # annotated BGR frame
    faces: Faces  # detected faces (missed == 0) and coasting tracks (missed > 0)
    timings: dict[str, float] = field(default_factory=dict)  # stage -> milliseconds
    crops: torch.Tensor | None = None  # (N, 3, 3, 64, 64) of the detected faces, when kept


class FramePipeline:
    """Stateful per stream (tracker, detector clock); call `reset()` after a seek."""

    def __init__(self, *, detector_model: str = "short", video: bool = True,
                 weights: Path | str | None = DEFAULT_WEIGHTS, device: str | None = None,
                 min_score: float = DEFAULT_MIN_SCORE, min_size: float = 0.0,
                 smoothing: float = 0.85, show_bars: bool = True, keep_crops: bool = False,
                 engine: AgeEngine | None = None) -> None:
        self.detector = FaceDetector(detector_model, video=video, min_score=min_score, min_size=min_size)
        self.engine = engine or AgeEngine(weights, device=device)
        self.tracker = FaceTracker(smoothing=smoothing)
        self.show_bars = show_bars
        self.keep_crops = keep_crops

    # live-adjustable options -------------------------------------------------
    @property
    def min_score(self) -> float:
        return self.detector.min_score

    @min_score.setter
    def min_score(self, value: float) -> None:
        self.detector.min_score = float(value)

    @property
    def min_size(self) -> float:
        return self.detector.min_size

    @min_size.setter
    def min_size(self, value: float) -> None:
        self.detector.min_size = float(value)

    @property
    def smoothing(self) -> float:
        return self.tracker.smoothing

    @smoothing.setter
    def smoothing(self, value: float) -> None:
        self.tracker.smoothing = float(np.clip(value, 0.0, 0.99))

    def set_device(self, device: str) -> None:
        """Move inference to another device (reloads the same weights there)."""
        self.engine = AgeEngine(self.engine.weights, device=device)

    def reset(self) -> None:
        self.tracker.reset()

    # -------------------------------------------------------------------------
    def process(self, frame: np.ndarray, draw: bool = True) -> FrameResult:
        t = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(name: str) -> None:
            nonlocal t
            now = time.perf_counter()
            timings[name] = (now - t) * 1e3
            t = now

        faces = self.detector.detect(frame)
        lap("detect")
        crops = face_crops(frame, faces)
        lap("crop")
        ages, dists = self.engine.predict(crops)
        faces = faces.replace(ages=ages, dists=dists)
        lap("infer")
        faces = self.tracker.update(faces)
        lap("track")
        out = frame
        if draw:
            out = overlay.annotate(frame.copy(), faces, trained=self.engine.trained, show_bars=self.show_bars)
            if not self.engine.trained:
                overlay.banner(out, UNTRAINED_BANNER)
            lap("draw")
        return FrameResult(out, faces, timings, crops if self.keep_crops else None)

    def close(self) -> None:
        self.detector.close()
