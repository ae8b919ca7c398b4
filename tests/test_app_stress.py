"""Pause, play, seek and step at random moments, hundreds of times (issue 22).

Every request must be answered within WAIT_MS: the worker confirms play and
pause, and a seek or step shows its frame. Waiting on the worker's own signals
hung here within a few requests (see app/worker/host.py); a watchdog dumps
every thread's stack if a wait cannot even time out, before pytest-timeout would.
"""
from __future__ import annotations

import faulthandler
import os
import threading

import numpy as np
import pytest
from conftest import VIDEO_FRAMES

SEED = 22
OPS = 250
MAX_PAUSE_MS = 25  # random moment between requests: mid-frame, between frames, right after one
WAIT_MS = 5_000  # per answer; a single frame takes tens of ms even on a shared CPU
WATCHDOG_S = 100  # the whole test, under pytest-timeout's 120 s


@pytest.fixture
def watchdog(request):
    """Dump all threads' stacks and exit if the test is stuck where no timeout can fire.
    The dump goes to the terminal's stderr: pytest's capture would lose it at the exit."""
    capman = request.config.pluginmanager.getplugin("capturemanager")
    if capman is None:
        stderr = os.dup(2)
    else:
        with capman.global_and_fixture_disabled():
            stderr = os.dup(2)
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True, file=stderr)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        os.close(stderr)


class Transport:
    """Drives a window like an impatient user and waits (bounded) for each answer."""

    def __init__(self, qtbot, window) -> None:
        self.qtbot, self.window = qtbot, window
        self.shown: list[int] = []
        self.paused_on: int | None = None  # the frame shown while paused, when known exactly
        window.host.frame_shown.connect(lambda: self.shown.append(window.last_report.index))

    @property
    def playing(self) -> bool:
        return self.window.act.play.isChecked()

    def wait_frame(self, since: int, ok=lambda index: True) -> int:
        """Wait for a frame shown after `since` frames that satisfies `ok`; its index."""
        def found() -> bool:
            return any(ok(i) for i in self.shown[since:])
        self.qtbot.waitUntil(found, timeout=WAIT_MS)
        return next(i for i in self.shown[since:] if ok(i))

    def toggle_play(self) -> None:
        want = not self.playing
        mark = len(self.shown)
        with self.qtbot.waitSignal(self.window.host.playing_changed, timeout=WAIT_MS,
                                   check_params_cb=lambda playing: playing == want):
            self.window.act.play.trigger()
        self.paused_on = None
        if want:
            self.wait_frame(mark)

    def seek(self, rng: np.random.Generator) -> None:
        slider = self.window.area.transport.slider
        target = int(rng.integers(0, VIDEO_FRAMES - 12))
        if target == slider.value():
            target += 1
        mark = len(self.shown)
        slider.setValue(target)  # what dragging the seek slider does
        if self.playing:  # latest-frame-wins may skip the target itself, not the frames after it
            self.wait_frame(mark, lambda i: target <= i < target + 12)
        else:
            self.paused_on = self.wait_frame(mark, lambda i: i == target)
            self.qtbot.waitUntil(lambda: self.shown[-1] == target, timeout=WAIT_MS)

    def step(self, rng: np.random.Generator) -> None:
        """Steps pause; an exact index only when the paused frame is known (forward from an
        unknown frame could be the file's end, so that is always a step back)."""
        known = self.paused_on
        forward = known is not None and (known == 0 or (known < VIDEO_FRAMES - 1 and rng.random() < 0.5))
        action = self.window.act.step_forward if forward else self.window.act.step_back
        mark = len(self.shown)
        with self.qtbot.waitSignal(self.window.host.playing_changed, timeout=WAIT_MS,
                                   check_params_cb=lambda playing: not playing):
            action.trigger()
        if known is None:
            self.wait_frame(mark)
            return
        target = known + 1 if forward else known - 1
        self.paused_on = self.wait_frame(mark, lambda i: i == target)


def test_random_transport_requests_are_all_answered(qtbot, make_window, synthetic_video, watchdog):
    rng = np.random.default_rng(SEED)
    window = make_window(loop=True)
    transport = Transport(qtbot, window)
    window.open_source(str(synthetic_video))
    transport.wait_frame(0)
    ops = (transport.toggle_play, lambda: transport.seek(rng), lambda: transport.step(rng))
    counts = [0, 0, 0]
    for _ in range(OPS):
        qtbot.wait(int(rng.integers(0, MAX_PAUSE_MS)))
        choice = int(rng.integers(0, len(ops)))
        ops[choice]()
        counts[choice] += 1
    print(f"\n{OPS} requests answered: {counts[0]} play/pause, {counts[1]} seeks, {counts[2]} steps; "
          f"{len(transport.shown)} frames shown")
    assert min(counts) > OPS // 5


def test_answers_reach_listeners_in_the_gui_thread(qtbot, make_window, synthetic_video):
    """Any callable connected to the host, a lambda too, runs in the GUI thread."""
    window = make_window()
    threads: list[str] = []
    window.host.playing_changed.connect(lambda playing: threads.append(threading.current_thread().name))
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: len(threads) >= 1, timeout=WAIT_MS)
    window.act.play.trigger()
    qtbot.waitUntil(lambda: len(threads) >= 2, timeout=WAIT_MS)
    assert set(threads) == {threading.main_thread().name}
