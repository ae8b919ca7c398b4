"""The worker's Qt-free clock, driven by a fake time: pacing and the FPS figure."""
from __future__ import annotations

import pytest

from app.worker.clock import MAX_LAG_S, FrameClock


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_pacing_follows_the_frame_rate_and_gives_up_when_far_behind():
    now = FakeTime()
    clock = FrameClock(now)
    clock.start()
    assert clock.delay_ms(25.0) in (39, 40)  # the next frame of a 25 fps file is due in 40 ms (truncated)
    now.t += 0.030  # processing took 30 ms
    assert clock.delay_ms(25.0) in (49, 50)  # due at 80 ms, now at 30 ms
    now.t += 1.0  # a long stall: catching up would race through a second of video
    assert clock.delay_ms(25.0) == 0
    assert clock.delay_ms(25.0) in (39, 40)  # from now on paced again, not bursting
    assert MAX_LAG_S < 1.0


def test_fps_averages_intervals_and_ignores_pauses():
    now = FakeTime()
    clock = FrameClock(now)
    clock.start()
    assert clock.fps == 0.0  # unknown before two frames
    for _ in range(20):
        clock.frame_done()
        now.t += 0.05
    assert clock.fps == pytest.approx(20.0)
    now.t += 10.0  # paused for ten seconds
    clock.resync()
    clock.frame_done()
    now.t += 0.05
    clock.frame_done()
    assert clock.fps == pytest.approx(20.0), "the pause was counted as a slow frame"
