"""Stop requests: Ctrl+C and SIGTERM ask a run to stop after the current frame,
so its outputs are finalised as after the last one."""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRecorder:
    """A signal handler that only records the signal: the loop polls `received`
    and stops after the current frame, so the outputs are finalised."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def __call__(self, signum: int, _frame: object) -> None:
        self.received.append(signum)


@contextlib.contextmanager
def stop_requests() -> Iterator[list[int]]:
    """Ctrl+C (SIGINT) and SIGTERM (kill, timeout, systemd, docker) both ask the
    loop to stop after the current frame: the list receives the signal numbers,
    and the outputs are finalised as after the last frame. Nested in an outer
    one (a batch, a batch worker), it shares the outer list, so a stop that came
    before this run started still counts."""
    outer = signal.getsignal(signal.SIGINT)
    if isinstance(outer, StopRecorder):
        yield outer.received
        return
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield []
        return
    recorder = StopRecorder()
    previous = {sig: signal.signal(sig, recorder) for sig in STOP_SIGNALS}
    try:
        yield recorder.received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
