"""A sink on its own thread: encoding overlaps the model, and records stay in order."""
from __future__ import annotations

import queue
import threading

from c3ae.results import FrameResult
from c3ae.sink.writer import ResultsSink


class BackgroundWriter:
    """Writes records to `sink` on one helper thread, in order; an error surfaces
    on the next `write` or at `close` (which also closes the sink)."""

    def __init__(self, sink: ResultsSink, depth: int = 4) -> None:
        self._sink = sink
        self._items: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._items.get()) is not None:
            if self._error is None:
                try:
                    self._sink.write(*item)
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc

    def write(self, result: FrameResult, repeat: int = 1) -> None:
        """Queue one record (`repeat` copies of its picture, as `ResultsSink.write`); raises
        the error an earlier record met."""
        if self._error is not None:
            raise self._error
        self._items.put((result, repeat))

    def close(self) -> None:
        self._items.put(None)
        self._thread.join()
        self._sink.close()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
