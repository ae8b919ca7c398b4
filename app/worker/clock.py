"""The worker's sense of time: when the next file frame is due, and how fast frames go.

Qt-free, with an injectable clock, so pacing and the FPS figure can be tested
without a thread or a timer.
"""
from __future__ import annotations

import time
from collections.abc import Callable

MAX_LAG_S = 0.25  # a file this far behind its clock stops trying to catch up


class FrameClock:
    """Paces playback to a frame rate and measures the processing rate.

    The rate averages the interval between frames, not the rate itself, so one
    hiccup cannot spike it; a pause or a seek is not counted as a slow frame.
    """

    def __init__(self, now: Callable[[], float] = time.perf_counter) -> None:
        self._now = now
        self._due = now()
        self._last = 0.0
        self._dt = 0.0

    def start(self) -> None:
        """A new source: the first frame is due now and the rate is unknown."""
        self._due = self._now()
        self._last = self._dt = 0.0

    def resync(self) -> None:
        """After a pause or a seek: the next frame is due now, and the gap is not a frame interval."""
        self._due = self._now()
        self._last = 0.0

    def frame_done(self) -> None:
        """Count one processed frame in the rate."""
        now = self._now()
        if self._last > 0:
            dt = now - self._last
            self._dt = dt if self._dt == 0 else 0.9 * self._dt + 0.1 * dt
        self._last = now

    def delay_ms(self, fps: float) -> int:
        """Milliseconds until the next frame of an `fps` file is due; a file that
        fell more than MAX_LAG_S behind goes frame by frame from now on."""
        now = self._now()
        self._due += 1.0 / fps
        if self._due < now - MAX_LAG_S:
            self._due = now
        return max(0, int((self._due - now) * 1000))

    @property
    def fps(self) -> float:
        """Frames processed per second, averaged over the last ~10 frames."""
        return 1.0 / self._dt if self._dt > 0 else 0.0
