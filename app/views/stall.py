"""Measure how long the GUI event loop goes without running: its stalls.

A fast timer in the GUI thread should fire every `interval_ms`; any longer
gap is time the loop was blocked (painting, a slot, the GIL held elsewhere).
Used by the responsiveness test and shown in the debug status bar.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer


class StallMeter(QObject):
    def __init__(self, interval_ms: int = 10, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setTimerType(type(self._timer.timerType()).PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self.max_stall_ms = 0.0
        self.ticks = 0

    def start(self) -> None:
        self.reset()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def reset(self) -> None:
        self._last = time.perf_counter()
        self.max_stall_ms = 0.0
        self.ticks = 0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.max_stall_ms = max(self.max_stall_ms, (now - self._last) * 1e3 - self.interval_ms)
        self._last = now
        self.ticks += 1
