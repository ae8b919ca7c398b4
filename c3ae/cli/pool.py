"""Worker processes for a many-file run that stop as one and never outlive it.

A stop reaches every worker however it was sent: Ctrl+C signals the whole
process group, but SIGTERM (kill, systemd) or SIGINT may reach the parent
alone, so the parent also hands its stop to the workers through shared memory.
A stopped worker finishes the frame in hand, finalises its file and runs no
more files. A worker whose parent dies (even by SIGKILL, which nothing can
catch) stops the same way and then exits: the kernel sends it SIGTERM at once
(Linux's parent-death signal) and a watchdog thread notices the new parent
pid, in case the signal was missed or the platform has none.
"""
from __future__ import annotations

import atexit
import concurrent.futures as futures
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from c3ae.runtime.stops import STOP_SIGNALS, StopRecorder

WATCH_S = 0.1  # how often a worker looks at its parent's pid and stop
ORPHAN_GRACE_S = 3.0  # an orphaned worker's time to finalise its file before it exits anyway
MANAGER_JOIN_S = 10.0  # the most a stopped pool waits for its executor's manager thread to end
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

_stops = StopRecorder()  # in a worker: its stop requests, from a signal or from the parent
_shared: dict[str, Any] = {}  # in a worker: the pool's "stop" and "started" values
_busy = threading.Lock()  # held while a worker runs an item, so an orphan exits only after finalising it


@contextlib.contextmanager
def _stop_signals_blocked() -> Iterator[None]:
    """A process spawned meanwhile starts with SIGINT and SIGTERM blocked (the mask
    survives fork and exec), so a Ctrl+C while it imports waits for its handlers
    instead of being a KeyboardInterrupt traceback; here it waits a moment too."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _ask_for_parent_death_signal() -> None:
    """Linux: have the kernel send SIGTERM (a stop) when the parent dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _watch(parent: int, parent_stop: Any) -> None:
    """A worker's watchdog: passes on the parent's stop, and after the parent's
    death stops the worker and exits once the file in hand is finalised."""
    passed_on = False
    while os.getppid() == parent:
        if parent_stop.value and not passed_on:
            _stops.received.append(parent_stop.value)
            passed_on = True
        time.sleep(WATCH_S)
    _stops.received.append(signal.SIGTERM)
    _busy.acquire(timeout=ORPHAN_GRACE_S)
    os._exit(128 + signal.SIGTERM)


def _exit_at_once() -> None:
    """A worker's last act: skip the interpreter's teardown, which takes seconds
    with torch and TFLite loaded on a busy machine and has nothing left to save
    (its files are closed and its rows sent)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _start_worker(parent: int, parent_stop: Any, started: Any, setup: Callable[..., None],
                  setup_args: tuple) -> None:
    """A worker's initializer: stop signals are recorded from now on (they were
    blocked since its start), it dies with its parent, then `setup` runs."""
    _ask_for_parent_death_signal()  # first: nothing heavy is imported yet (see WorkerPool)
    _shared.update(stop=parent_stop, started=started)
    for sig in STOP_SIGNALS:
        signal.signal(sig, _stops)
    if os.getppid() != parent:  # it died before the request could cover it
        os._exit(128 + signal.SIGTERM)
    threading.Thread(target=_watch, args=(parent, parent_stop), name="watchdog", daemon=True).start()
    atexit.register(_exit_at_once)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    setup(*setup_args)


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    """fn(item) in a worker, or None when a stop came first (the item is not run)."""
    with _busy:
        _shared["started"].value = 1  # before looking at the stop: see WorkerPool.stop
        return None if _stops.received or _shared["stop"].value else fn(item)


class WorkerPool:
    """`workers` fresh processes (spawn: no forked torch or detector threads), each
    prepared by `setup(*setup_args)`; `stop` stops them all, `kill` ends them.
    `setup` must live in a module that imports nothing heavy (torch): a worker
    loads it before its initializer runs, and only then asks to die with its
    parent, so heavy imports come with the first item, after that request."""

    def __init__(self, workers: int, setup: Callable[..., None], setup_args: tuple = ()) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.RawValue("i", 0)  # the parent's stop signal; 0 until then
        self._started = context.RawValue("i", 0)  # 1 once a worker has taken an item
        self._workers: list = []  # the worker processes when the stop came
        self._manager: threading.Thread | None = None  # the executor's manager thread, kept by a stop
        self._executor = futures.ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker,
            initargs=(os.getpid(), self._stop, self._started, setup, setup_args))

    def submit(self, fn: Callable[[Any], Any], item: Any) -> futures.Future:
        """Run fn(item) in a worker; its result is None if the pool was stopped first."""
        with _stop_signals_blocked():  # the executor spawns its processes here
            return self._executor.submit(_call, fn, item)

    def stop(self, signum: int) -> None:
        """Queued items are cancelled and running ones stop after their current frame.
        While no worker has taken an item yet they are all still importing (seconds
        of torch), with nothing to finalise: they are killed at once, and their items
        fail with BrokenProcessPool. A worker taking one meanwhile sees the stop,
        set before `started` is read here, and runs nothing."""
        if self._stop.value:
            return
        self._stop.value = signum
        self._workers = list((self._executor._processes or {}).values())  # no public way to reach them
        # shutdown(wait=False) forgets the manager thread, so a later shutdown(wait=True) cannot join it
        self._manager = self._executor._executor_manager_thread
        self._executor.shutdown(wait=False, cancel_futures=True)
        if not self._started.value:
            self.kill()

    def kill(self) -> None:
        """SIGKILL every worker (after a stop they did not answer: a stuck decoder, a
        hung network mount); their items fail with BrokenProcessPool."""
        for process in self._workers or list((self._executor._processes or {}).values()):
            process.kill()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        """Wait for the executor, its manager thread too after a stop: left running to the
        interpreter's exit, CPython 3.11's exit hook may wake it through a pipe it is
        closing ("Exception ignored ... Bad file descriptor" after a stopped batch)."""
        self._executor.shutdown(wait=True)
        if self._manager is not None:
            self._manager.join(MANAGER_JOIN_S)
