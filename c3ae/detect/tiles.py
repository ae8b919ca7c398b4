"""Small faces in big frames: detection on overlapping tiles, merged with the full frame.

BlazeFace sees a whole frame at 128 or 192 px, so in a 2560x1440 audience shot
a 40 px face shrinks to 3 px and is lost. `TiledDetector` adds detection on
square tiles of `tile` pixels (overlapping by `overlap`, so every face up to
that overlap lies wholly inside some tile), drops detections cut by an inner
tile edge, maps the rest back to frame pixels and merges duplicates with the
full-frame pass. Each tile costs one detector call (~5 ms), so tiles run only
where they can pay, and never all on one frame:

* **Only with small faces, and only while they pay.** A small face (under
  `SMALL_SHARE` of the frame's longer side) with a score that can start a track
  (`start_score`, the tracker's) turns the tiles on. One the full frame found
  keeps them on for one rotation (below), so every tile is looked at once
  more for faces smaller still; one only a tile found, for `ACTIVE_CALLS`
  calls: there the tiles pay. Crowd mode (`always`) keeps them on. Otherwise
  one scout tile every `SCOUT_EVERY` calls sweeps the frame, so a crowd the
  full frame cannot see is still found. The first call, and the first active
  one after `ACTIVE_CALLS` calls without a sweep, scan every tile (15 at
  1080p: ~35 ms on two cores, once), so a crowd is found at once. A webcam
  close-up or a 1080p two-shot runs no tiles after that.
* **A few a call, all of them in turn.** An active call scans `per_call` tiles
  in rotation (every tile within ceil(tiles / per_call) calls: 2 of the 15 at
  1080p, 1 of the 8 at 720p, 3 of the 28 at 1440p), plus the tiles
  that hold the small faces found on the last call, so a face found once is
  looked at on every call and its track never starves (by the whole frame,
  or by its tile where the whole frame missed it).
* **No ghosts.** A tile sees 480 px at 192, and the whole frame 1920 px at 192,
  so hands, lights and dark patches sometimes pass for tiny faces (on a
  cluttered 1080p scene with no one in it: 5-10 a frame from the tiles, and a
  light blob at score 0.6 for 7 frames from the whole frame). A small face at
  a place where no face was on the last call, whichever pass found it, is a
  candidate: it counts only when a second look at its region (a crop
  `VERIFY_CONTEXT` times its size, seen by the detector much larger) finds a
  face there with at least `VERIFY_SCORE`. A refused place is not looked at
  again for `REJECT_CALLS` calls. Faces of `SMALL_SHARE` and up, which the
  whole frame sees well, count at once.

Tiles are 480 px: on the crowd bench's mosaic (45 px faces) the full-range
model found 48 of 48 faces with 480 or 512 px tiles, 36 with 560 and 30 with
576. A quarter overlap (120 px) keeps every face up to that size whole in some
tile; 2560x1440 takes 28 tiles, 1920x1080 15, 1280x720 8.

Tiling starts only when the frame is at least `min_side` pixels on its longer
side: smaller frames gain nothing from it. The tiles' detectors are created at
the first such frame, so a small video does not pay for loading them (start-up).

A detector runs one thread (TFLite inside MediaPipe) and releases the GIL, so
`workers` detectors take tiles from one shared list at once, the calling thread
being one of them: a busy core just takes fewer tiles. The answer does not
depend on which worker took a tile.
"""
from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from c3ae.detect.blazeface import FaceDetector
from c3ae.faces import Faces, box_overlaps

EDGE_MARGIN = 2.0  # px: a box this close to an inner tile edge is cut by it
SMALL_SHARE = 0.05  # faces under this share of the frame's longer side are small (96 px at 1080p)
ACTIVE_CALLS = 30  # calls the tiles stay active after the last small face only they found
PER_CALL = 3  # at most this many tiles an active call scans in rotation, besides those holding known faces
SWEEP_CALLS = 8  # ... and no more than it takes to cover the frame in this many calls (720p: one a call)
SCOUT_EVERY = 4  # while inactive: one tile every this many calls
VERIFY_CONTEXT = 3.0  # a candidate's second look: a square crop this many face sizes wide
VERIFY_MIN_SIDE = 96  # px, the smallest such crop
VERIFY_SCORE = 0.5  # the score a face needs on the second look
START_SCORE = 0.5  # the tracker's default score to start a track
REJECT_CALLS = 30  # calls a rejected place is not looked at again
SAME_PLACE = 0.5  # overlap (of the smaller box) at which two boxes are the same face


def tile_origins(length: int, tile: int, stride: int) -> list[int]:
    """Start positions of tiles covering [0, length), the last one flush with the end."""
    if length <= tile:
        return [0]
    n = math.ceil((length - tile) / stride) + 1
    return [min(k * stride, length - tile) for k in range(n)]


def merge(parts: list[Faces], threshold: float = 0.5) -> Faces:
    """One face per place: greedy by score, dropping faces mostly inside a kept one."""
    faces = Faces.concatenate(parts)
    if len(faces) < 2:
        return faces
    order = np.argsort(-faces.scores, kind="stable")
    ratio = box_overlaps(faces.boxes, faces.boxes)[1]
    keep: list[int] = []
    for i in order:
        if all(ratio[i, j] < threshold for j in keep):
            keep.append(int(i))
    return faces[sorted(keep)]


class TiledDetector:
    """Same `detect(frame)` as `FaceDetector`, plus tiles for small faces in large frames."""

    def __init__(self, base: FaceDetector, tile: int = 480, overlap: float = 0.25, min_side: int = 1280,
                 workers: int = 1, always: bool = False, per_call: int | None = None,
                 start_score: float = START_SCORE) -> None:
        """`always`: tiles on every call whatever the faces (crowd mode); `per_call`:
        tiles an active call scans in rotation (None: PER_CALL, or fewer where
        SWEEP_CALLS calls cover the frame with fewer); `start_score`: the score at
        which the tracker starts a track (a weaker small face only follows one)."""
        self.base = base
        self.workers = max(1, int(workers))
        self._tilers: list[FaceDetector] = []  # one per worker, made by the first tiled frame
        self._pool: ThreadPoolExecutor | None = None
        self.tile = int(tile)
        self.stride = max(1, int(round(tile * (1.0 - overlap))))
        self.min_side = int(min_side)
        self.always = bool(always)
        self.per_call = None if per_call is None else max(1, int(per_call))
        self.start_score = float(start_score)
        self._calls = 0
        self._active_until = -1  # the last call on which tiles are active
        self._swept = 0  # the last call that scanned every tile
        self._next = 0  # the next tile in rotation
        self._known = Faces.empty()  # the small faces of the last call
        self._rejected: list[tuple[np.ndarray, int]] = []  # (box, call) of candidates a second look refused
        self.scanned: list[int] = []  # the tiles the last call scanned (tests, benches)

    @property
    def model(self) -> str:
        """The base detector's range model ('short' or 'full')."""
        return self.base.model

    @property
    def tilers(self) -> list[FaceDetector]:
        """The tiles' detectors, one per worker: separate pictures, so IMAGE mode; the
        base's model and thresholds."""
        if not self._tilers:
            self._tilers = [FaceDetector(self.base.model, video=False, min_score=self.base.min_score,
                                         min_size=self.base.min_size) for _ in range(self.workers)]
            if self.workers > 1:
                self._pool = ThreadPoolExecutor(self.workers - 1, thread_name_prefix="tiles")
        return self._tilers

    @property
    def min_score(self) -> float:
        return self.base.min_score

    @min_score.setter
    def min_score(self, value: float) -> None:
        self.base.min_score = float(value)
        for tiler in self._tilers:
            tiler.min_score = float(value)

    @property
    def min_size(self) -> float:
        return self.base.min_size

    @min_size.setter
    def min_size(self, value: float) -> None:
        self.base.min_size = float(value)
        for tiler in self._tilers:
            tiler.min_size = float(value)

    def snapshot(self) -> tuple:
        """What the answer to the next frame depends on besides the frame: the rotation,
        the known faces, the refused places and the base detector's memory."""
        return (self._calls, self._active_until, self._swept, self._next, self._known, list(self._rejected),
                self.base.snapshot())

    def restore(self, state: tuple) -> None:
        """Answer the next frame as after the call `state` was taken at."""
        self._calls, self._active_until, self._swept, self._next, self._known, rejected, base = state
        self._rejected = list(rejected)
        self.base.restore(base)

    def windows(self, height: int, width: int) -> list[tuple[int, int, int, int]]:
        """The tiles of a frame of this size, (x0, y0, x1, y1), row by row."""
        return [(x0, y0, min(x0 + self.tile, width), min(y0 + self.tile, height))
                for y0 in tile_origins(height, self.tile, self.stride)
                for x0 in tile_origins(width, self.tile, self.stride)]

    def detect(self, frame: np.ndarray) -> Faces:
        """Full-frame faces, merged with what this call's tiles find (see the module's docstring)."""
        faces = self.base.detect(frame)
        h, w = frame.shape[:2]
        self.scanned = []
        if max(h, w) < self.min_side:
            return faces
        self._calls += 1
        small = max(h, w) * SMALL_SHARE
        was_active = self._calls <= self._active_until
        windows = self.windows(h, w)
        # a small face that could start a track turns the tiles on; a weaker one only follows a track
        if self.always:
            self._active_until = self._calls + ACTIVE_CALLS
        elif ((faces.sizes < small) & (faces.scores >= self.start_score)).any():
            self._active_until = max(self._active_until, self._calls + self._rotation(len(windows)) - 1)
        # the first call, and the first active one after a quiet spell, sweep every tile
        # (not soon after a sweep: the small faces it found need no second one)
        sweep = self._calls == 1 or (self._calls <= self._active_until and not was_active
                                     and self._calls - self._swept > ACTIVE_CALLS)
        if sweep:
            self._swept = self._calls
        whole = faces
        self.scanned = list(range(len(windows))) if sweep else self._choose(windows, self._unseen(faces))
        if self.scanned:
            faces = merge([faces, self.detect_tiles(frame, [windows[k] for k in self.scanned])])
        # a small face at a place where no face was on the last call is a candidate, whichever pass found it
        new = faces.sizes < small
        if new.any() and len(self._known):
            new &= box_overlaps(faces.boxes, self._known.boxes)[1].max(axis=1) < SAME_PLACE
        out = Faces.concatenate([faces[np.flatnonzero(~new)],
                                 *(self._second_look(frame, faces[[int(i)]]) for i in np.flatnonzero(new))])
        self._known = out[out.sizes < small]
        if self._tiles_paid(self._known, whole):
            self._active_until = max(self._active_until, self._calls + ACTIVE_CALLS)
        return out

    def _per_call(self, tiles: int) -> int:
        """Tiles an active call scans in rotation."""
        return self.per_call or min(PER_CALL, math.ceil(tiles / SWEEP_CALLS))

    def _rotation(self, tiles: int) -> int:
        """Active calls it takes the rotation to scan every one of `tiles` tiles."""
        return math.ceil(tiles / self._per_call(tiles))

    def _tiles_paid(self, small: Faces, whole: Faces) -> bool:
        """Whether this call's `small` faces hold one that could start a track only thanks
        to a tile (the whole frame missed it, or saw it too weakly)."""
        strong, seen = small[small.scores >= self.start_score], whole[whole.scores >= self.start_score]
        if not len(seen):
            return bool(len(strong))
        return bool((box_overlaps(strong.boxes, seen.boxes)[1].max(axis=1) < SAME_PLACE).any())

    def _unseen(self, faces: Faces) -> Faces:
        """The known small faces that the whole frame's pass (`faces`) did not find again."""
        if not len(self._known) or not len(faces):
            return self._known
        return self._known[box_overlaps(self._known.boxes, faces.boxes)[1].max(axis=1) < SAME_PLACE]

    def _choose(self, windows: list[tuple[int, int, int, int]], unseen: Faces) -> list[int]:
        """The tiles this call scans: those holding the known small faces the whole frame
        missed (`unseen`), and the next ones in rotation (`per_call` while active, one
        scout every SCOUT_EVERY calls)."""
        active = self._calls <= self._active_until
        turn = self._per_call(len(windows)) if active else int(self._calls % SCOUT_EVERY == 0)
        chosen = [(self._next + k) % len(windows) for k in range(min(turn, len(windows)))]
        self._next = (self._next + turn) % len(windows)
        if active:
            for box in unseen.boxes:
                inside = [k for k, (x0, y0, x1, y1) in enumerate(windows)
                          if box[0] >= x0 and box[1] >= y0 and box[2] <= x1 and box[3] <= y1]
                chosen += inside[:1]
        return sorted(set(chosen))

    def _second_look(self, frame: np.ndarray, candidate: Faces) -> Faces:
        """The candidate, when a crop around it holds a face with VERIFY_SCORE too;
        else empty (also while the place was refused lately)."""
        box = candidate.boxes[0]
        self._rejected = [(b, c) for b, c in self._rejected if self._calls - c <= REJECT_CALLS]
        if any(box_overlaps(box[None], b[None])[1][0, 0] >= SAME_PLACE for b, _ in self._rejected):
            return Faces.empty()
        h, w = frame.shape[:2]
        side = max(VERIFY_CONTEXT * float(candidate.sizes[0]), VERIFY_MIN_SIDE)
        cx, cy = (box[:2] + box[2:]) / 2
        x0, y0 = int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0))
        x1, y1 = int(min(cx + side / 2, w)), int(min(cy + side / 2, h))
        detector = self.tilers[0]
        floor, detector.min_score = detector.min_score, VERIFY_SCORE
        try:
            region = self._detect_window(detector, frame, (x0, y0, x1, y1), cut_edges=False)
        finally:
            detector.min_score = floor
        if len(region):
            region = region[np.flatnonzero(box_overlaps(region.boxes, box[None])[1][:, 0] >= SAME_PLACE)]
        if not len(region):
            self._rejected.append((box.copy(), self._calls))
            return Faces.empty()
        return candidate  # confirmed; its own box, like the boxes the same pass gives it on later calls

    def detect_tiles(self, frame: np.ndarray, windows: list[tuple[int, int, int, int]] | None = None) -> Faces:
        """Faces found on the tiles alone (all of them by default), in frame pixels,
        without faces cut by a tile edge."""
        if windows is None:
            windows = self.windows(*frame.shape[:2])
        found = [Faces.empty()] * len(windows)
        taken = iter(range(len(windows)))
        lock = threading.Lock()

        def work(detector: FaceDetector) -> None:
            while True:
                with lock:
                    k = next(taken, None)
                if k is None:
                    return
                found[k] = self._detect_window(detector, frame, windows[k])

        first, *others = self.tilers
        helpers = [self._pool.submit(work, detector) for detector in others] if self._pool and len(windows) > 1 \
            else []
        try:
            work(first)
        finally:
            for helper in helpers:
                helper.result()
        return merge(found)

    @staticmethod
    def _detect_window(detector: FaceDetector, frame: np.ndarray, window: tuple[int, int, int, int],
                       cut_edges: bool = True) -> Faces:
        """One window's faces in frame pixels, less those an inner edge cuts (`cut_edges`)."""
        h, w = frame.shape[:2]
        x0, y0, x1, y1 = window
        part = detector.detect(np.ascontiguousarray(frame[y0:y1, x0:x1]))
        if not len(part):
            return part
        if cut_edges:
            b = part.boxes
            # an edge that is also the frame's edge cuts nothing the other tiles would see whole
            cut = (((b[:, 0] <= EDGE_MARGIN) & (x0 > 0)) | ((b[:, 1] <= EDGE_MARGIN) & (y0 > 0))
                   | ((b[:, 2] >= x1 - x0 - EDGE_MARGIN) & (x1 < w))
                   | ((b[:, 3] >= y1 - y0 - EDGE_MARGIN) & (y1 < h)))
            part = part[np.flatnonzero(~cut)]
        shift = np.array([x0, y0], np.float32)
        return part.replace(boxes=part.boxes + np.tile(shift, 2), keypoints=part.keypoints + shift)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for tiler in self._tilers:
            tiler.close()
        self._tilers = []
        self.base.close()

    def __enter__(self) -> TiledDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
