"""Stop requests (Ctrl+C, SIGTERM) as recorded signals, in a module that imports
nothing heavy: `main.py annotate` installs the recorder before it imports torch,
and a batch worker before its imports, so a stop that comes during those seconds
is kept, not lost (a shell's `cmd &` starts it with SIGINT ignored) or a
KeyboardInterrupt traceback.
"""
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


def record_stops() -> StopRecorder:
    """From now on SIGINT and SIGTERM are recorded by one recorder for the whole
    process; `stop_requests` shares its list."""
    recorder = StopRecorder()
    for sig in STOP_SIGNALS:
        signal.signal(sig, recorder)
    return recorder


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
