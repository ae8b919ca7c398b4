"""The per-frame record that travels from the pipeline to every consumer.

A light module on the ground floor: sinks, the recorder and the window name the
type without loading the model or the detector.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from c3ae.faces import Faces

if TYPE_CHECKING:
    import torch


@dataclass
class FrameResult:
    """One frame's record, all a consumer needs (sinks, recorder, window, benches):
    the annotated picture, the faces with track IDs and ages, where the frame sits
    in its source, and how each stage went."""

    frame: np.ndarray  # annotated BGR frame (the source frame itself when not drawn)
    faces: Faces  # detected faces (missed == 0) and coasting tracks (missed > 0)
    index: int = 0  # the frame's position in its source (files), or its count since the start
    time_s: float = 0.0  # its presentation time in the source, seconds
    trained: bool = True  # whether the ages come from trained weights (else they are placeholders)
    looked: bool = True  # whether the detector ran on it (else the tracker carried its faces)
    timings: dict[str, float] = field(default_factory=dict)  # stage -> milliseconds
    # the model's three crops of each detected face (`faces.missed == 0`, in that order), when
    # the pipeline keeps them (the debug view): (N, 3, 3, 64, 64) uint8 BGR
    crops: torch.Tensor | None = None

    @property
    def detected(self) -> int:
        """Faces the detector found on this frame (the carried ones not counted)."""
        return int((self.faces.missed == 0).sum())
