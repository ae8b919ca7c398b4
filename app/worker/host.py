"""The thread owner: a `FrameWorker` moved to its own QThread, reached only by signals.

As in Qt for Python's threading examples, the worker is a QObject moved to a
QThread; the window emits this object's request signals (queued across the
thread boundary) and connects slots to `worker`'s signals, so the GUI thread
never calls the worker and never waits on capture, inference or disk.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal

from app.worker.frame_worker import FrameWorker
from c3ae.engine.runner import AgeEngine
from c3ae.options import PipelineOptions


class WorkerHost(QObject):
    """Starts the worker thread, forwards requests to it, and stops it at exit."""

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
    _shutdown_requested = Signal()

    def __init__(self, options: PipelineOptions, engine: AgeEngine | None, weights: Path | str | None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread(self)
        self.thread.setObjectName("frame-worker")
        self.worker = FrameWorker(options, engine, weights)
        self.worker.moveToThread(self.thread)
        w = self.worker
        for request, slot in ((self.open_requested, w.open_source), (self.play_requested, w.set_playing),
                              (self.seek_requested, w.seek), (self.step_requested, w.step),
                              (self.loop_requested, w.set_loop), (self.options_requested, w.set_options),
                              (self.record_requested, w.start_recording),
                              (self.stop_record_requested, w.stop_recording),
                              (self.snapshot_requested, w.snapshot), (self.people_requested, w.export_people),
                              (self.frame_shown, w.frame_shown),
                              (self._shutdown_requested, w.shutdown)):
            request.connect(slot)
        # runs in the worker thread, so it works while the GUI thread waits in stop()
        w.stopped.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(w.deleteLater)

    def start(self) -> None:
        """Start the thread; connect to `worker`'s signals first, so none is missed."""
        self.thread.start()

    def stop(self, wait_ms: int) -> None:
        """Ask the worker to finalise any recording and release everything, and wait
        for it (bounded): only at exit, where a half-written file would be worse."""
        if self.thread.isRunning():
            self._shutdown_requested.emit()
            self.thread.wait(wait_ms)
