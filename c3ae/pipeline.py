"""One frame through the whole chain: detect -> crops -> engine -> track -> draw.

Used by both the desktop app's worker thread and headless annotation, so the
two can never disagree. Each stage is timed, for the status bar and benches.

The detector passes faces down to `WEAK_SCORE`; only those above `min_score`
start tracks, the weaker ones can only keep an existing track alive (a face
half covered by a hand), as in ByteTrack. Given frame indices, `process`
keeps the tracker's state per frame, so a player that steps or seeks back
gets the same tracks and ages as the first pass.

`detect_every` > 1 (headless annotation, where speed is throughput) skips
detection on frames where the same confirmed faces stay put
(`c3ae.detect.schedule`): those frames carry the tracks (`missed` > 0). It is
for one pass in order (the schedule's state is not part of the seek history).
The app keeps 1: a live view should not show "not seen" between looks, and
its frame rate is the camera's.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from c3ae.crops.context import face_crops
from c3ae.cuts import Signature, signature
from c3ae.detect.blazeface import FaceDetector
from c3ae.detect.schedule import DetectionSchedule
from c3ae.detect.tiles import TiledDetector
from c3ae.draw import overlay
from c3ae.draw.privacy import blur_faces
from c3ae.engine.runner import DEFAULT_WEIGHTS, AgeEngine
from c3ae.faces import Faces
from c3ae.options import TILES_MIN_SIDE, PipelineOptions
from c3ae.runtime import threads
from c3ae.track.tracker import FaceTracker, StateHistory

WEAK_SCORE = 0.3  # detections from here up may continue a track
ANNOTATE_DETECT_EVERY = 3  # annotate's schedule: a new face is found within 2 frames
# how many frames `prepare` may run ahead of `finish` in annotate (`overlap.ahead`'s depth): a look
# costs ~10 ms against ~1 ms for a carried frame, and a deep queue lets detection get ahead on the
# cheap frames instead of stalling the model at every look (processing ~115 -> ~130 FPS on 2 cores)
PREPARE_AHEAD = 6
# `prepare` is then at most PREPARE_AHEAD + 1 frames ahead (the producer holds one more), so the
# tracker's request to look again is due this many frames on: the same frames whatever the timing
FEEDBACK_LAG = PREPARE_AHEAD + 2
UNTRAINED_BANNER = "UNTRAINED MODEL - ages are not shown (weights/c3ae.pt missing or untrained)"


@dataclass
class FrameResult:
    frame: np.ndarray  # annotated BGR frame
    faces: Faces  # detected faces (missed == 0) and coasting tracks (missed > 0)
    timings: dict[str, float] = field(default_factory=dict)  # stage -> milliseconds
    crops: torch.Tensor | None = None  # (N, 3, 3, 64, 64) of the detected faces, when kept


@dataclass
class Prepared:
    """A frame after detection and cropping, the stages that need nothing from the
    tracker: `FramePipeline.prepare` may run them ahead on a helper thread."""

    frame: np.ndarray
    faces: Faces  # this frame's detections
    crops: torch.Tensor  # (N, 3, 3, 64, 64)
    timings: dict[str, float]  # detect, crop: milliseconds
    number: int  # the frame's number in the detection schedule
    looked: bool  # whether the detector ran on it (else `faces` is empty by schedule)
    look: Signature  # what the schedule and the tracker's cut detection compare (`c3ae.cuts`)


class FramePipeline:
    """Stateful per stream (tracker, detector clock): call `reset()` for a new
    source, and pass `frame_index` to `process` for files that can seek."""

    def __init__(self, options: PipelineOptions = PipelineOptions(), *, source: str | int | None = None,
                 video: bool = True, weights: Path | str | None = DEFAULT_WEIGHTS,
                 engine: AgeEngine | None = None, detect_every: int = 1) -> None:
        """`options` with 'auto' resolved for `source` (a file when None); `engine`:
        an already loaded model to share, else `weights` are loaded; `detect_every`:
        detect at least every that many frames (see the module's docstring)."""
        options = options.resolved(source)
        # the engine first: weights that fail to load then leave no native detector behind
        self.engine = engine or AgeEngine(weights, device=options.device)
        self.detector = FaceDetector(options.detector, video=video, min_score=min(WEAK_SCORE, options.min_score),
                                     min_size=options.min_size)
        if options.tiles != "off":  # small faces in big frames: tiles every few frames, tracks carry them between
            self.detector = TiledDetector(self.detector, min_side=TILES_MIN_SIDE[options.tiles],
                                          workers=threads.current().tile_workers)
        self.tracker = FaceTracker(smoothing=options.smoothing, high_score=options.min_score)
        self.schedule = DetectionSchedule(detect_every, confirm=self.tracker.confirm_hits)
        self._newest_track = 0  # the highest track ID the tracker has given out
        self.history = StateHistory()
        self._last_index: int | None = None
        self.show_bars = options.show_bars
        self.keep_crops = options.debug
        self.blur = options.blur

    def apply(self, options: PipelineOptions) -> None:
        """Take the options that change live (thresholds, smoothing, drawing); the
        detector range and the device need a new pipeline or `set_device`."""
        self.min_score, self.min_size, self.smoothing = options.min_score, options.min_size, options.smoothing
        self.show_bars, self.keep_crops, self.blur = options.show_bars, options.debug, options.blur

    # live-adjustable options -------------------------------------------------
    @property
    def min_score(self) -> float:
        return self.tracker.high_score

    @min_score.setter
    def min_score(self, value: float) -> None:
        self.tracker.high_score = float(value)
        self.detector.min_score = min(WEAK_SCORE, float(value))

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
        """Forget tracks and their per-frame history (a new source)."""
        self.tracker.reset()
        self.history.clear()
        self._last_index = None
        self.schedule.reset()
        self._newest_track = 0

    def _rewind(self, frame_index: int) -> None:
        """Before a frame that does not follow the last one: continue from the
        state the first pass had after the frame before it, or from nothing."""
        if self._last_index is None or frame_index == self._last_index + 1:
            return
        state = self.history.get(frame_index - 1)
        if state is not None:
            self.tracker.restore(state)
        else:
            self.tracker.reset()

    # -------------------------------------------------------------------------
    def process(self, frame: np.ndarray, draw: bool = True, frame_index: int | None = None) -> FrameResult:
        """Run one frame. `frame_index` (files): its position in the file, for seeking."""
        return self.finish(self.prepare(frame), draw, frame_index)

    def prepare(self, frame: np.ndarray) -> Prepared:
        """Detect and crop. May run ahead of `finish` on another thread (`c3ae.runtime.overlap`):
        the detector keeps its own clock, so frames must reach it in order, and
        `finish` must take them in that order; the results are then `process`'s."""
        t0 = time.perf_counter()
        look = signature(frame)
        looked = self.schedule.due(look)
        if looked:
            faces = self.detector.detect(frame)
            self.schedule.seen(faces)
        else:  # the tracker carries this frame's faces
            faces = Faces.empty()
        t1 = time.perf_counter()
        crops = face_crops(frame, faces)
        t2 = time.perf_counter()
        return Prepared(frame, faces, crops, {"detect": (t1 - t0) * 1e3, "crop": (t2 - t1) * 1e3},
                        self.schedule.frame, looked, look)

    def finish(self, prepared: Prepared, draw: bool = True, frame_index: int | None = None) -> FrameResult:
        """Model, tracker and drawing for a prepared frame, in frame order (see `process`)."""
        frame, crops = prepared.frame, prepared.crops
        t = time.perf_counter()
        timings = dict(prepared.timings)

        def lap(name: str) -> None:
            nonlocal t
            now = time.perf_counter()
            timings[name] = (now - t) * 1e3
            t = now

        faces = detected = prepared.faces
        ages, dists = self.engine.predict(crops)
        faces = faces.replace(ages=ages, dists=dists)
        lap("infer")
        if frame_index is not None:
            self._rewind(frame_index)
        faces = self.tracker.update(faces, frame, crops, frame_index, look=prepared.look)
        self._hold_for_new_tracks(faces, prepared.number)
        if frame_index is not None:
            self.history.put(frame_index, self.tracker.snapshot())
            self._last_index = frame_index
        lap("track")
        out = frame
        if draw:
            out = frame.copy()
            if self.blur:  # before drawing, so labels and charts stay sharp
                blur_faces(out, detected, faces)
            out = overlay.draw_faces(out, faces, trained=self.engine.trained, show_bars=self.show_bars)
            if not self.engine.trained:
                overlay.banner(out, UNTRAINED_BANNER)
            lap("draw")
        return FrameResult(out, faces, timings, crops if self.keep_crops else None)

    def _hold_for_new_tracks(self, faces: Faces, number: int) -> None:
        """A track the tracker just started must be detected until it is confirmed,
        also where the schedule saw no new face (a shot cut, a split on appearance)."""
        ids = faces.track_ids[faces.missed == 0]
        if len(ids) and ids.max() > self._newest_track:
            self._newest_track = int(ids.max())
            self.schedule.hold(start=number + FEEDBACK_LAG)

    def close(self) -> None:
        self.detector.close()
