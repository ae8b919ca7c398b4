"""Small faces in big frames: detection on overlapping tiles, merged with the full frame.

BlazeFace sees a whole frame at 128 or 192 px, so in a 2560x1440 audience shot
a 40 px face shrinks to 3 px and is lost. `TiledDetector` adds detection on
square tiles of `tile` pixels (overlapping by `overlap`, so every face up to
that overlap lies wholly inside some tile), drops detections cut by an inner
tile edge, maps the rest back to frame pixels and merges duplicates with the
full-frame pass. Tiles cost one detector call each. They run on every frame
by default (`every` 1): the tracker drops a track missed before its third
detection, so faces seen only every few frames would never become tracks.

Tiles are 480 px: on the crowd bench's mosaic (45 px faces) the full-range
model found 48 of 48 faces with 480 or 512 px tiles, 36 with 560 and 30 with
576. A quarter overlap (120 px) keeps every face up to that size whole in some
tile; 2560x1440 takes 28 tiles.

Tiling starts only when the frame is at least `min_side` pixels on its longer
side: smaller frames gain nothing from it. The tiles' detectors are created at
the first such frame, so a small video does not pay for loading them (start-up).

A detector runs one thread (TFLite inside MediaPipe) and releases the GIL, so
`workers` detectors take tiles from one shared list at once, the calling thread
being one of them: a busy core just takes fewer tiles. The answer does not
depend on which worker took a tile. On 2 cores a 2560x1440 frame's 28 tiles
take 139-165 ms with two workers against 292-297 ms with one, and the crowd
bench detecting every frame (the app) runs at 3.6 FPS against 2.9; with
annotate's schedule the other core is already busy and nothing changes.
"""
from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from c3ae.detect.blazeface import FaceDetector
from c3ae.faces import Faces

EDGE_MARGIN = 2.0  # px: a box this close to an inner tile edge is cut by it


def tile_origins(length: int, tile: int, stride: int) -> list[int]:
    """Start positions of tiles covering [0, length), the last one flush with the end."""
    if length <= tile:
        return [0]
    n = math.ceil((length - tile) / stride) + 1
    return [min(k * stride, length - tile) for k in range(n)]


def overlap_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over the SMALLER box, (N, M): a face and a cut-off part of it score ~1."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    return inter / np.maximum(smaller, 1e-6)


def merge(parts: list[Faces], threshold: float = 0.5) -> Faces:
    """One face per place: greedy by score, dropping faces mostly inside a kept one."""
    faces = Faces.concatenate(parts)
    if len(faces) < 2:
        return faces
    order = np.argsort(-faces.scores, kind="stable")
    ratio = overlap_ratio(faces.boxes, faces.boxes)
    keep: list[int] = []
    for i in order:
        if all(ratio[i, j] < threshold for j in keep):
            keep.append(int(i))
    return faces[sorted(keep)]


class TiledDetector:
    """Same `detect(frame)` as `FaceDetector`, plus tiles for small faces in large frames."""

    def __init__(self, base: FaceDetector, tile: int = 480, overlap: float = 0.25, every: int = 1,
                 min_side: int = 1280, workers: int = 1) -> None:
        self.base = base
        self.workers = max(1, int(workers))
        self._tilers: list[FaceDetector] = []  # one per worker, made by the first tiled frame
        self._pool: ThreadPoolExecutor | None = None
        self.tile = int(tile)
        self.stride = max(1, int(round(tile * (1.0 - overlap))))
        self.every = max(1, int(every))
        self.min_side = int(min_side)
        self._frames = 0

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

    def detect(self, frame: np.ndarray) -> Faces:
        """Full-frame faces, merged with tile faces on every `every`-th large frame."""
        faces = self.base.detect(frame)
        h, w = frame.shape[:2]
        run_tiles = max(h, w) >= self.min_side and self._frames % self.every == 0
        self._frames += 1
        if not run_tiles:
            return faces
        return merge([faces, self.detect_tiles(frame)])

    def detect_tiles(self, frame: np.ndarray) -> Faces:
        """Faces found on the tiles alone, in frame pixels, without faces cut by a tile edge."""
        h, w = frame.shape[:2]
        windows = [(x0, y0, min(x0 + self.tile, w), min(y0 + self.tile, h))
                   for y0 in tile_origins(h, self.tile, self.stride)
                   for x0 in tile_origins(w, self.tile, self.stride)]
        found = [Faces.empty()] * len(windows)
        taken = iter(range(len(windows)))
        lock = threading.Lock()

        def work(detector: FaceDetector) -> None:
            while True:
                with lock:
                    k = next(taken, None)
                if k is None:
                    return
                found[k] = self._detect_tile(detector, frame, windows[k])

        first, *others = self.tilers
        helpers = [self._pool.submit(work, detector) for detector in others] if self._pool else []
        try:
            work(first)
        finally:
            for helper in helpers:
                helper.result()
        return merge(found)

    @staticmethod
    def _detect_tile(detector: FaceDetector, frame: np.ndarray, window: tuple[int, int, int, int]) -> Faces:
        """One tile's faces in frame pixels, less those an inner tile edge cuts."""
        h, w = frame.shape[:2]
        x0, y0, x1, y1 = window
        part = detector.detect(np.ascontiguousarray(frame[y0:y1, x0:x1]))
        if not len(part):
            return part
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
