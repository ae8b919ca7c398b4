"""The thread owner: a `FrameWorker` moved to its own QThread, reached only by signals.

As in Qt for Python's threading examples, the worker is a QObject moved to a
QThread; the window emits this object's request signals (queued across the
thread boundary) and connects to this object's answer signals, which relay the
worker's in the GUI thread.

The threading rule (issue 22): the GUI thread never blocks on another thread
(no blocking connection, lock, `wait()` or `result()`) except in `stop` at
exit, with a bounded wait; and no code of the GUI side runs in another thread.
Hence the answer signals: PySide6 runs a callable that is not a QObject's
method (a lambda, pytest-qt's `waitSignal`) in the thread that emits. On the
worker's own signal, `waitSignal`'s slot ran in the worker thread, stopped the
GUI's timeout QTimer from there (refused, yet the timer forgot its id, so the
timeout never fired) and quit the QEventLoop just before the GUI thread entered
`exec()` (lost): the GUI thread then waited in that loop for ever. This object
lives in the GUI thread, so whatever listens to it runs there.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QThread, Signal

from app.worker.frame_worker import FrameWorker
from c3ae.options import PipelineOptions

if TYPE_CHECKING:
    from c3ae.model.runner import AgeEngine


class WorkerHost(QObject):
    """Starts the worker thread, forwards requests to it, relays its answers, and stops it at exit."""

    # requests: emitted by the window, handled in the worker thread
    open_requested = Signal(object)  # camera index or file path
    play_requested = Signal(bool)
    seek_requested = Signal(int)
    step_requested = Signal(int)
    loop_requested = Signal(bool)
    options_requested = Signal(object)  # PipelineOptions
    record_requested = Signal(str, bool)  # folder, with CSV
    stop_record_requested = Signal()
    snapshot_requested = Signal(str)  # folder
    people_requested = Signal(str)  # folder
    frame_shown = Signal()  # the last frame is painted: the worker may send the next
    view_size_changed = Signal(int, int)  # the video view's device pixels
    _shutdown_requested = Signal()

    # answers: the worker's signals of the same names (see FrameWorker), emitted here in the GUI thread
    source_opened = Signal(object)
    source_failed = Signal(str)
    source_lost = Signal(str)
    engine_ready = Signal(object)
    engine_failed = Signal(str)
    frame_ready = Signal(object)
    playing_changed = Signal(bool)
    ended = Signal()
    truncated = Signal(str)
    recording_started = Signal(str)
    recording_stopped = Signal(str, int, str)
    snapshot_saved = Signal(str)
    people_saved = Signal(str, int)
    error = Signal(str)
    ANSWERS = ("source_opened", "source_failed", "source_lost", "engine_ready", "engine_failed", "frame_ready",
               "playing_changed", "ended", "truncated", "recording_started", "recording_stopped",
               "snapshot_saved", "people_saved", "error")

    def __init__(self, options: PipelineOptions, engine: AgeEngine | None, weights: Path | str | None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread(self)
        self.thread.setObjectName("frame-worker")
        self._worker = w = FrameWorker(options, engine, weights)
        w.moveToThread(self.thread)
        for request, slot in ((self.open_requested, w.open_source), (self.play_requested, w.set_playing),
                              (self.seek_requested, w.seek), (self.step_requested, w.step),
                              (self.loop_requested, w.set_loop), (self.options_requested, w.set_options),
                              (self.record_requested, w.start_recording),
                              (self.stop_record_requested, w.stop_recording),
                              (self.snapshot_requested, w.snapshot), (self.people_requested, w.export_people),
                              (self.frame_shown, w.frame_shown), (self.view_size_changed, w.set_view_size),
                              (self._shutdown_requested, w.shutdown)):
            request.connect(slot)
        for name in self.ANSWERS:  # this object lives in the GUI thread: queued, re-emitted there
            getattr(w, name).connect(getattr(self, name))
        # runs in the worker thread, so it works while the GUI thread waits in stop()
        w.stopped.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(w.deleteLater)

    def start(self) -> None:
        """Start the thread; connect to the answer signals first, so none is missed."""
        self.thread.start()

    def stop(self, wait_ms: int) -> None:
        """Ask the worker to finalise any recording and release everything, and wait
        for it (bounded): only at exit, where a half-written file would be worse."""
        if self.thread.isRunning():
            self._shutdown_requested.emit()
            self.thread.wait(wait_ms)
