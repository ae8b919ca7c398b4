"""The worker's engine lifecycle: which pipeline exists, on which device, with which options.

Qt-free, so the worker keeps only playback and back-pressure; the pipeline is
built lazily (the first source loads the model, in the worker thread) and
rebuilt only when the detector range really changes. Torch, the detector and
the pipeline are imported there too, not when the window starts: the window
is on screen before they load.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from app.worker.messages import EngineInfo
from c3ae.errors import FaceModelMissing, WeightsError
from c3ae.options import PipelineOptions
from c3ae.runtime import threads
from c3ae.runtime.paths import DEFAULT_WEIGHTS

if TYPE_CHECKING:
    from c3ae.model.runner import AgeEngine
    from c3ae.pipeline import FramePipeline

STARTUP_ERRORS = (FaceModelMissing, WeightsError)  # what a missing or bad model raises


class PipelineOwner:
    """Holds the `FramePipeline` for the current source and applies option changes to it."""

    def __init__(self, options: PipelineOptions, engine: AgeEngine | None = None,
                 weights: Path | str | None = DEFAULT_WEIGHTS) -> None:
        """`engine`: an already loaded model to share (tests); else `weights` is loaded on first use."""
        self.options = options
        self.pipeline: FramePipeline | None = None
        self._engine = engine
        self._weights = weights
        self._tiles = options.tiles  # the tiles choice the pipeline was built with

    def open_for(self, source: str | int) -> bool:
        """Make the pipeline ready for a new `source`; True when a new engine was built.
        Raises one of STARTUP_ERRORS when the face model or the weights cannot load."""
        resolved = self.options.resolved(source)
        if self.pipeline is not None and (self.pipeline.detector.model, self._tiles) == (resolved.detector,
                                                                                         resolved.tiles):
            self.pipeline.reset()
            return False
        threads.apply()  # before the first forward: a busy desktop core must not stall the model
        from c3ae.pipeline import FramePipeline  # the first source loads torch and the detector, in this thread

        pipeline = FramePipeline(self.options, source=source, weights=self._weights, engine=self._engine)
        self.close()
        self.pipeline = pipeline
        self._engine = pipeline.engine
        self._tiles = resolved.tiles
        self._apply()
        return True

    def set_options(self, options: PipelineOptions, source: str | int | None) -> bool:
        """Apply `options`; True when the engine changed (device or detector). On a
        failure the previous device and detector are kept and the error is raised."""
        old, self.options = self.options, options
        if self.pipeline is None:
            return False
        changed = False
        try:
            if options.device != old.device:
                self.pipeline.set_device(options.device)
                self._engine = self.pipeline.engine
                changed = True
            if source is not None and (options.detector, options.tiles) != (old.detector, old.tiles):
                changed = self.open_for(source) or changed
        except STARTUP_ERRORS:
            self.options = replace(options, device=old.device, detector=old.detector, tiles=old.tiles)
            raise
        finally:
            self._apply()
        return changed

    def engine_info(self) -> EngineInfo:
        import torch  # loaded with the pipeline

        engine = self.pipeline.engine
        return EngineInfo(engine.trained, engine.status, engine.device.type, torch.cuda.is_available())

    def close(self) -> None:
        if self.pipeline is not None:
            self.pipeline.close()
            self.pipeline = None

    def _apply(self) -> None:
        if self.pipeline is None:
            return
        self.pipeline.apply(self.options)
