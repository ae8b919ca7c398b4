"""Stop requests (Ctrl+C, SIGTERM) as recorded signals, in a module that imports
nothing heavy: `main.py annotate` installs the recorder before it imports torch,
and a batch worker before its imports, so a stop that comes during those seconds
is kept, not lost (a shell's `cmd &` starts it with SIGINT ignored) or a
KeyboardInterrupt traceback.
"""
from __future__ import annotations

import signal

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
    process; `c3ae.cli.one_file.stop_requests` shares its list."""
    recorder = StopRecorder()
    for sig in STOP_SIGNALS:
        signal.signal(sig, recorder)
    return recorder
