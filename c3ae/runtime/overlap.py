"""Stages on their own threads, results in order: `ahead` runs an iterator one
or more items in advance on a helper thread.

The native work of each stage (FFmpeg decoding, TFLite detection, OpenCV
warps, torch's forward) releases the GIL, so on two cores detecting frame n+1
really runs beside the model reading frame n. One producer thread and a FIFO
queue keep the order, so the results are those of running the stages one
after another.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


class _Failed:
    """An exception raised by the producer, re-raised in the consumer's thread."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def ahead(items: Iterable[T], depth: int = 2, name: str = "ahead", enabled: bool = True,
          until: Callable[[], bool] | None = None) -> Iterator[T]:
    """Yield `items`, produced on a helper thread up to `depth` items early.
    `enabled=False` yields them in the caller's thread (one core: no gain).
    Closing the generator stops the helper and closes `items` in its thread.
    `until`, polled twice a second while waiting, ends the iteration at once even
    when the producer is stuck (a dropped stream being reopened)."""
    if not enabled:
        yield from items
        return
    out: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if stop.is_set():
                    return
                out.put(item)
            out.put(_END)
        except BaseException as exc:  # handed to the consumer
            out.put(_Failed(exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while until is None or not until():
            try:
                item = out.get(timeout=0.5)
            except queue.Empty:
                continue
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                out.get_nowait()
            except queue.Empty:
                worker.join(0.01)
