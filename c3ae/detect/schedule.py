"""Which frames the detector looks at: every frame while faces are new or lost,
every `every`-th frame while the same faces stay put.

Detection is about half of each frame's work, and on a steady shot the tracker's
Kalman filter carries a confirmed face over a frame or two without it. A frame
that is not looked at gives the tracker no detections, so its faces come out
carried (`missed` > 0, CSV `detected` 0) with the track's age: the rows stay
honest, only fewer of them hold a fresh estimate.

The tracker drops a track that misses a frame before its third detection
(`confirm_hits`), so the schedule looks at every frame until each face it
found has been seen on `confirm` looked frames in a row, and again right after
a face it had disappears. Faces close to each other are looked at on every
frame too: when people cross, only detections keep their identities apart.
It matches faces between its own looks by place and size alone, before the
tracker runs, so it decides without waiting for the tracker's answer, which
arrives frames later when detection runs ahead (`c3ae.runtime.overlap`). For
what it cannot see (a shot cut, a track split on appearance) the pipeline
calls `hold` when the tracker starts a track, and the schedule itself
treats a frame whose cut verdict (`c3ae.cuts.Shot`, judged once per frame
and shared with the tracker) puts it far from the lit frame before, in a way
that could be a cut (its layout moved, not its colours alone), as new:
the tracker may end every track there (a cut), even where the new shot has
faces at the same places, and a look too many costs one detection.

A new face waits at most `every` - 1 frames to be found, or
`STEADY_FACTOR` x `every` - 1 while every face is steady: seen on `confirm`
looks in a row and moving less than `STEADY_MOTION` of its size a frame
between the last two looks, so that even a tracker that did not know the
motion would carry its box within a fifth of the face's size to the next look.
"""
from __future__ import annotations

import numpy as np

from c3ae.cuts import Shot
from c3ae.faces import Faces

CONFIRM = 3  # looked frames in a row a face needs: the tracker's confirm_hits
SAME_PLACE = 0.5  # centre moved less than this many face sizes between looks: the same face
SAME_SIZE = 1.5  # and its size changed less than this factor
NEAR = 2.0  # faces whose centres are closer than this many face sizes may cross: look at every frame
STEADY_MOTION = 0.03  # face sizes a frame: slower faces are steady
STEADY_FACTOR = 2  # steady faces are looked at this many times less often


def same_faces(previous: Faces, current: Faces) -> np.ndarray:
    """For each current face, the index of the previous face at the same place and
    size (greedy, nearest first), or -1."""
    match = np.full(len(current), -1, np.int64)
    if not len(previous) or not len(current):
        return match
    size = np.maximum(previous.sizes, 1.0)
    distance = np.linalg.norm(current.centres[:, None] - previous.centres[None], axis=2) / size[None]
    ratio = np.maximum(current.sizes, 1.0)[:, None] / size[None]
    distance[(distance >= SAME_PLACE) | (ratio > SAME_SIZE) | (ratio < 1 / SAME_SIZE)] = np.inf
    while np.isfinite(distance).any():
        i, j = np.unravel_index(np.argmin(distance), distance.shape)
        match[i] = j
        distance[i, :] = np.inf
        distance[:, j] = np.inf
    return match


def crowded(faces: Faces, near: float = NEAR) -> bool:
    """Whether two faces are within `near` sizes (the larger one's) of each other."""
    if len(faces) < 2:
        return False
    distance = np.linalg.norm(faces.centres[:, None] - faces.centres[None], axis=2)
    sizes = faces.sizes
    close = distance < near * np.maximum(sizes[:, None], sizes[None])
    np.fill_diagonal(close, False)
    return bool(close.any())


class DetectionSchedule:
    """`due()` before each frame says whether to detect on it; `seen(faces)` takes
    what a looked frame found. Frames must come in order (one schedule per stream)."""

    def __init__(self, every: int = 1, confirm: int = CONFIRM) -> None:
        self.every = max(1, int(every))
        self.steady_every = STEADY_FACTOR * self.every if self.every > 1 else 1  # 1: every frame, always
        self.confirm = int(confirm)
        self.reset()

    def reset(self) -> None:
        """A new source: look at the next frame."""
        self.frame = -1  # number of the frame `due` was last asked about
        self._faces = Faces.empty()
        self._streaks = np.zeros(0, np.int64)  # looked frames in a row each of `_faces` was found on
        self._crowded = False  # two of `_faces` close enough to cross
        self._steady = False  # every one of `_faces` settled and slow (see the module's docstring)
        self._since = self.every - 1  # frames since the last look: the first frame is looked at
        self._must: set[int] = set()  # frame numbers to look at whatever happens

    def hold(self, start: int | None = None, frames: int | None = None) -> None:
        """Look at `frames` frames (default `confirm`) from frame number `start`
        (default the next one). The pipeline calls it from the tracker's thread
        with a `start` far enough ahead that `due` has not passed it yet, so the
        frames looked at do not depend on how the threads interleave."""
        start = self.frame + 1 if start is None else int(start)
        self._must.update(range(start, start + (self.confirm if frames is None else int(frames))))

    def due(self, shot: Shot) -> bool:
        """Whether the next frame, with this cut verdict, is to be detected; counts it either way."""
        self.frame += 1
        self._since += 1
        # may start a shot, whatever the tracker decides; a change of colour alone never does (`c3ae.cuts`): a
        # backdrop whose hue sits on a histogram bin's edge swaps bins from frame to frame at 720p and 1080p
        if self.every > 1 and shot.possible:
            self.hold(start=self.frame)
        if self.frame in self._must:
            self._must.discard(self.frame)
            return True
        unsettled = bool((self._streaks < self.confirm).any()) or self._crowded
        return unsettled or self._since >= (self.steady_every if self._steady else self.every)

    def seen(self, faces: Faces) -> None:
        """The faces found on the frame `due` just allowed."""
        match = same_faces(self._faces, faces)
        found = match >= 0
        lost = int(found.sum()) < len(self._faces)
        streaks = np.ones(len(faces), np.int64)
        streaks[found] += self._streaks[match[found]]
        moved = (np.linalg.norm(faces.centres[found] - self._faces.centres[match[found]], axis=1)
                 / np.maximum(faces.sizes[found], 1.0) / max(self._since, 1))
        self._streaks = streaks
        self._faces = faces
        self._crowded = crowded(faces)
        self._steady = bool(len(faces) and not lost and found.all() and (streaks >= self.confirm).all()
                            and (moved < STEADY_MOTION).all())
        self._since = 0
        if lost:  # a face gone: look again at once, a brief miss stays brief
            self.hold(frames=1)
