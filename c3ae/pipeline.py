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

import copy
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from c3ae.crops.context import face_crops
from c3ae.cuts import Shot, ShotCutDetector
from c3ae.detect.blazeface import FaceDetector
from c3ae.detect.schedule import DetectionSchedule
from c3ae.detect.tiles import TiledDetector
from c3ae.draw import overlay
from c3ae.draw.privacy import blur_faces
from c3ae.faces import Faces
from c3ae.model.runner import AgeEngine
from c3ae.options import TILES_MIN_SIDE, PipelineOptions
from c3ae.results import FrameResult
from c3ae.runtime import threads
from c3ae.runtime.paths import DEFAULT_WEIGHTS
from c3ae.track.tracker import FaceTracker, TrackerState

WEAK_SCORE = 0.3  # detections from here up may continue a track
# how many frames `prepare` may run ahead of `finish` in annotate (`overlap.ahead`'s depth): a look
# costs ~10 ms against ~1 ms for a carried frame, and a deep queue lets detection get ahead on the
# cheap frames instead of stalling the model at every look (processing ~115 -> ~130 FPS on 2 cores)
PREPARE_AHEAD = 6
# `prepare` is then at most PREPARE_AHEAD + 1 frames ahead (the producer holds one more), so the
# tracker's request to look again is due this many frames on: the same frames whatever the timing
FEEDBACK_LAG = PREPARE_AHEAD + 2
UNTRAINED_BANNER = "UNTRAINED MODEL - ages are not shown (weights/c3ae.pt missing or untrained)"


@dataclass
class Prepared:
    """A frame after the cut verdict and detection, the stages that need nothing from
    the tracker: `FramePipeline.prepare` may run them ahead on a helper thread. The
    crops are cut by `finish`, beside the model: detection is the longer of the two
    threads' work (at 720p, ~11 ms a frame against ~8), and crops grow with the face's
    pixels (1-2 ms at 1080p)."""

    frame: np.ndarray
    faces: Faces  # this frame's detections
    timings: dict[str, float]  # detect: milliseconds
    number: int  # the frame's number in the detection schedule
    looked: bool  # whether the detector ran on it (else `faces` is empty by schedule)
    shot: Shot  # the cut detector's verdict, read by the schedule and the tracker (`c3ae.cuts`)
    index: int  # see `FrameResult`
    time_s: float


@dataclass
class SeekHistory:
    """The tracker's and the cut detector's state after each frame index; the oldest
    are dropped once they hold more than `budget` track states (about 3 kB each: the
    default keeps ~120 MB, e.g. 20 minutes at 25 fps of two faces, or 3 minutes of ten).

    Lets a file player step or seek back and continue from exactly the state
    the first pass had after the previous frame (see `FramePipeline.process`)."""

    budget: int = 40_000
    _states: OrderedDict = field(default_factory=OrderedDict)
    _held: int = 0  # track states (plus one per frame) in _states

    @staticmethod
    def _size(state: tuple[TrackerState, ShotCutDetector, tuple]) -> int:
        return len(state[0].tracks) + 1

    def put(self, frame_index: int, state: tuple[TrackerState, ShotCutDetector, tuple]) -> None:
        old = self._states.pop(frame_index, None)
        if old is not None:
            self._held -= self._size(old)
        self._states[frame_index] = state
        self._held += self._size(state)
        while self._held > self.budget and len(self._states) > 1:
            self._held -= self._size(self._states.popitem(last=False)[1])

    def get(self, frame_index: int) -> tuple[TrackerState, ShotCutDetector, tuple] | None:
        return self._states.get(frame_index)

    def clear(self) -> None:
        self._states.clear()
        self._held = 0


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
        if options.tiles != "off":  # small faces in big frames: tiles where they can pay (c3ae.detect.tiles)
            self.detector = TiledDetector(self.detector, min_side=TILES_MIN_SIDE[options.tiles],
                                          workers=threads.current().tile_workers, always=options.tiles == "on",
                                          start_score=options.min_score)
        self.tracker = FaceTracker(smoothing=options.smoothing, high_score=options.min_score)
        self.cuts = ShotCutDetector()  # judges each frame once, for the schedule and the tracker
        self._fresh_detector = self.detector.snapshot()  # a new source starts from it
        self.schedule = DetectionSchedule(detect_every, confirm=self.tracker.confirm_hits)
        self._newest_track = 0  # the highest track ID the tracker has given out
        self.history = SeekHistory()
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
        if isinstance(self.detector, TiledDetector):  # a small face that can start a track turns tiles on
            self.detector.start_score = float(value)

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
        self.cuts.reset()
        self.detector.restore(self._fresh_detector)
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
            self.tracker.restore(state[0])
            self.cuts = copy.deepcopy(state[1])
            self.detector.restore(state[2])
        else:
            self.tracker.reset()
            self.cuts.reset()
            self.detector.restore(self._fresh_detector)

    # -------------------------------------------------------------------------
    def process(self, frame: np.ndarray, draw: bool = True, *, index: int | None = None,
                time_s: float | None = None, seekable: bool = False, onto_frame: bool = False) -> FrameResult:
        """Run one frame (`index`, `time_s`: where it sits in its source, see `prepare`).
        `seekable` (files): `index` is its position in the file, and a frame seen again
        after a seek gets the tracks and ages of the first pass. `onto_frame`: see `finish`."""
        if seekable and index is not None:
            self._rewind(index)
        result = self.finish(self.prepare(frame, index, time_s), draw, onto_frame=onto_frame)
        if seekable and index is not None:
            self.history.put(index, (self.tracker.snapshot(), copy.deepcopy(self.cuts), self.detector.snapshot()))
            self._last_index = index
        return result

    def prepare(self, frame: np.ndarray, index: int | None = None, time_s: float | None = None) -> Prepared:
        """Cut verdict and detection. May run ahead of `finish` on another thread
        (`c3ae.run`): the cut detector and the detector keep their own clocks, so
        frames must reach them in order, and `finish` must take them in that order;
        the results are then `process`'s. `index` and `time_s` default to the
        frame's count since the start and nothing known (NaN)."""
        t0 = time.perf_counter()
        shot = self.cuts.judge(frame)
        looked = self.schedule.due(shot)
        if looked:
            faces = self.detector.detect(frame)
            self.schedule.seen(faces)
        else:  # the tracker carries this frame's faces
            faces = Faces.empty()
        number = self.schedule.frame
        return Prepared(frame, faces, {"detect": (time.perf_counter() - t0) * 1e3}, number, looked,
                        shot, number if index is None else index, math.nan if time_s is None else time_s)

    def finish(self, prepared: Prepared, draw: bool = True, *, onto_frame: bool = False) -> FrameResult:
        """Crops, model, tracker and drawing for a prepared frame, in frame order (see `process`).
        `onto_frame`: draw onto the frame itself, for a caller that owns it and needs
        no clean copy (a decoded frame of `c3ae.run`: a 1080p copy is 0.6 ms)."""
        frame = prepared.frame
        t = time.perf_counter()
        timings = dict(prepared.timings)

        def lap(name: str) -> None:
            nonlocal t
            now = time.perf_counter()
            timings[name] = (now - t) * 1e3
            t = now

        faces = detected = prepared.faces
        crops = face_crops(frame, faces)
        lap("crop")
        ages, dists = self.engine.predict(crops)
        faces = faces.replace(ages=ages, dists=dists)
        lap("infer")
        faces = self.tracker.update(faces, frame, crops, prepared.index, shot=prepared.shot)
        self._hold_for_new_tracks(faces, prepared.number)
        lap("track")
        out = frame
        trained = self.engine.trained
        if draw:
            out = frame if onto_frame else frame.copy()
            if self.blur:  # before drawing, so labels and charts stay sharp
                blur_faces(out, detected, faces)
            out = overlay.draw_faces(out, faces, trained=trained, show_bars=self.show_bars)
            if not trained:
                overlay.banner(out, UNTRAINED_BANNER)
            lap("draw")
        kept = crops[self.tracker.last_kept] if self.keep_crops else None  # aligned to faces[missed == 0]
        return FrameResult(out, faces, prepared.index, prepared.time_s, trained, prepared.looked, timings, kept)

    def _hold_for_new_tracks(self, faces: Faces, number: int) -> None:
        """A track the tracker just started must be detected until it is confirmed,
        also where the schedule saw no new face (a shot cut, a split on appearance)."""
        ids = faces.track_ids[faces.missed == 0]
        if len(ids) and ids.max() > self._newest_track:
            self._newest_track = int(ids.max())
            self.schedule.hold(start=number + FEEDBACK_LAG)

    def close(self) -> None:
        self.detector.close()
