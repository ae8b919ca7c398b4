"""The frame worker: a QObject that lives in its own QThread.

It owns the source, the pipeline and the recording; the window talks to it
only by signals. A single-shot timer drives it one frame per tick, so requests
from the window (seek, pause, options) are handled between frames.

Display is latest-frame-wins: one frame at a time is in flight to the window,
and frames processed while it is being shown replace each other, so a slow
GUI never builds a queue. Files are still read frame by frame (paced to their
frame rate, every frame processed and recorded); cameras go through
`LatestFrameReader`, which drops the frames the model cannot keep up with.

Its other jobs live beside it: reading in `Capture`, the engine lifecycle in
`PipelineOwner`, pacing and the FPS figure in `FrameClock`, recording in
`Recorder`, the window's view of a frame in `images`, PNGs in `snapshot`.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.recording.recorder import Recorder
from app.worker.capture import Capture
from app.worker.clock import FrameClock
from app.worker.images import frame_report
from app.worker.messages import SourceInfo
from app.worker.pipeline_owner import STARTUP_ERRORS, PipelineOwner
from app.worker.snapshot import save_people, save_snapshot
from c3ae.errors import RecordingError, SourceError
from c3ae.options import PipelineOptions
from c3ae.results import FrameResult
from c3ae.runtime.paths import DEFAULT_WEIGHTS

if TYPE_CHECKING:
    from c3ae.model.runner import AgeEngine

CAMERA_POLL_MS = 5


class FrameWorker(QObject):
    source_opened = Signal(object)  # SourceInfo
    source_failed = Signal(str)  # the source could not be opened
    source_lost = Signal(str)  # a camera stopped mid-stream
    engine_ready = Signal(object)  # EngineInfo
    engine_failed = Signal(str)  # face model missing, corrupt weights, no CUDA
    frame_ready = Signal(object)  # FrameReport; answer with frame_shown()
    playing_changed = Signal(bool)
    ended = Signal()  # end of a file (without loop)
    truncated = Signal(str)  # a file ended before its header's frame count: why
    recording_started = Signal(str)  # video path
    recording_stopped = Signal(str, int, str)  # video path, frames written, error ('' if none)
    snapshot_saved = Signal(str)
    people_saved = Signal(str, int)  # CSV path, number of people
    error = Signal(str)  # a recoverable problem to show in the status bar
    stopped = Signal()  # shutdown finished: everything is closed

    def __init__(self, options: PipelineOptions, engine: AgeEngine | None = None,
                 weights: Path | str | None = DEFAULT_WEIGHTS) -> None:
        """`engine`: an already loaded model to use (tests share one); by default
        the first source loads `weights` here, in the worker thread."""
        super().__init__()
        self._owner = PipelineOwner(options, engine, weights)
        self._clock = FrameClock()
        self._timer = QTimer(self)  # moves to the worker thread with its parent
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)
        self._source: Capture | None = None
        self._recorder = Recorder()
        self._playing = False
        self._loop = False
        self._seek_to: int | None = None
        self._at_end = False  # a file was read to its end
        self._steps = 0
        self._last_result: FrameResult | None = None  # snapshots; shown again at a new view size while paused
        self._awaiting_ack = False
        self._undisplayed: FrameResult | None = None
        self._view_size: tuple[int, int] | None = None  # the video view's device pixels, once told

    # requests from the window ------------------------------------------------
    @Slot(object)
    def open_source(self, source: str | int) -> None:
        self._close_source()
        try:
            src = Capture(source)
        except SourceError as exc:
            self.source_failed.emit(str(exc))
            return
        try:
            if self._owner.open_for(src.video.source):
                self._emit_engine()
        except STARTUP_ERRORS as exc:
            src.close()
            self.engine_failed.emit(str(exc))
            return
        self._source = src
        self._clock.start()
        v = src.video
        self.source_opened.emit(SourceInfo(v.source, v.is_camera, v.fps, v.frame_count, v.size,
                                           self._owner.pipeline.detector.model))
        self.set_playing(True)

    @Slot(bool)
    def set_playing(self, playing: bool) -> None:
        self._playing = bool(playing) and self._source is not None
        self._steps = 0
        if self._playing and self._at_end:  # Play at the end of a file starts it again
            self._seek_to = 0
        self.playing_changed.emit(self._playing)
        if self._playing:
            self._clock.resync()
            self._timer.start(0)

    @Slot(int)
    def seek(self, index: int) -> None:
        """Show frame `index` of a file; repeated seeks collapse into the last one."""
        if self._source is None or self._source.is_camera:
            return
        self._seek_to = int(index)
        self._timer.start(0)

    @Slot(int)
    def step(self, frames: int) -> None:
        """Pause and move `frames` frames forward (or back, when negative)."""
        if self._source is None or self._source.is_camera:
            return
        self.set_playing(False)
        if frames < 0:
            self._seek_to = max(self._source.index + frames, 0)
        else:
            self._steps += frames
        self._timer.start(0)

    @Slot(bool)
    def set_loop(self, loop: bool) -> None:
        self._loop = bool(loop)

    @Slot(object)
    def set_options(self, options: PipelineOptions) -> None:
        try:
            changed = self._owner.set_options(options, self._source.video.source if self._source else None)
        except STARTUP_ERRORS as exc:
            self.error.emit(str(exc))
            changed = True  # the device label must show the engine that is really in use
        if changed:
            self._emit_engine()

    @Slot(str, bool)
    def start_recording(self, folder: str, with_csv: bool) -> None:
        if self._source is None:  # e.g. the camera was lost before this request arrived
            self.recording_stopped.emit("", 0, "there is nothing to record: open a camera or a video first")
            return
        last = self._last_result  # the recording has the size of the annotated frames
        size = self._source.video.size if last is None else (last.frame.shape[1], last.frame.shape[0])
        try:
            path = self._recorder.start(folder, self._source.video.fps, size, with_csv, self._source.is_camera)
        except RecordingError as exc:
            self.recording_stopped.emit("", 0, str(exc))
            return
        if path is not None:
            self.recording_started.emit(path)

    @Slot()
    def stop_recording(self) -> None:
        self._end_recording()

    @Slot(str)
    def snapshot(self, folder: str) -> None:
        if self._last_result is None:
            self.error.emit("No frame to save yet")
            return
        try:
            path = save_snapshot(folder, self._last_result.frame)
        except OSError as exc:
            self.error.emit(f"Snapshot failed: {exc}")
            return
        self.snapshot_saved.emit(str(path))

    @Slot(str)
    def export_people(self, folder: str) -> None:
        """The per-person table of the current source so far (ids, frames, age and band)."""
        pipeline = self._owner.pipeline
        people = pipeline.tracker.summaries() if pipeline is not None else []
        fps = self._source.video.fps if self._source is not None else 0.0
        try:
            path = save_people(folder, people, fps or 25.0, pipeline is not None and pipeline.engine.trained)
        except OSError as exc:
            self.error.emit(f"Exporting people failed: {exc}")
            return
        self.people_saved.emit(str(path), len(people))

    @Slot(int, int)
    def set_view_size(self, width: int, height: int) -> None:
        """The video view's size in device pixels: pictures for it are made no larger."""
        self._view_size = (width, height) if width > 0 and height > 0 else None
        if not self._playing and self._last_result is not None:  # a still picture: remade at the new size
            self._offer(self._last_result)

    @Slot()
    def frame_shown(self) -> None:
        """The window painted the last frame: send the newest one, if any."""
        self._awaiting_ack = False
        if self._undisplayed is not None:
            self._offer(self._undisplayed)

    @Slot()
    def shutdown(self) -> None:
        """Finalise the recording and release everything (the window is closing)."""
        self._close_source()
        self._owner.close()
        self.stopped.emit()

    # the frame loop ------------------------------------------------------------
    def _tick(self) -> None:
        if self._source is None:
            return
        if self._seek_to is not None:
            self._source.video.seek(self._seek_to)
            self._seek_to = None
            self._at_end = False  # the pipeline itself rewinds its tracks to the frame before this one
            self._clock.resync()
            if not self._playing:
                self._steps = max(self._steps, 1)
        if not (self._playing or self._steps > 0):
            return
        frame = self._source.read()
        for notice in self._source.notices():  # a stream that dropped and came back
            self.error.emit(notice)
        if frame is None:
            self._on_no_frame()
            return
        self._steps = max(self._steps - 1, 0)
        try:
            self._process(frame)
        except Exception as exc:  # noqa: BLE001 - a bad frame must pause the app, not kill the thread
            self.set_playing(False)
            self.error.emit(f"Processing failed, playback paused: {exc}")
            return
        if self._playing or self._steps > 0:
            self._schedule()

    def _on_no_frame(self) -> None:
        early_end = self._source.early_end()
        if early_end:
            self.truncated.emit(early_end)
        if self._source.is_camera:
            if self._source.lost:
                self._lose_source("The camera stopped delivering frames (unplugged or in use by another app)")
            else:
                self._timer.start(CAMERA_POLL_MS)
        elif self._loop and self._playing:
            self._seek_to = 0
            self._timer.start(0)
        else:
            self._end_recording()
            self._at_end = True
            self._steps = 0
            self.set_playing(False)
            self.ended.emit()

    def _schedule(self) -> None:
        if self._source.is_camera or not self._playing:
            self._timer.start(0)
            return
        self._timer.start(self._clock.delay_ms(self._source.video.fps))

    def _process(self, frame: np.ndarray) -> None:
        src = self._source
        # a file's frame index lets the pipeline give a frame seen again the same tracks and ages;
        # each frame is read for this call alone, so it is drawn onto without a copy
        result = self._owner.pipeline.process(frame, index=src.index, time_s=src.time_s, seekable=not src.is_camera,
                                              onto_frame=True)
        if self._playing:  # a frame stepped to while paused says nothing about the rate
            self._clock.frame_done()
        self._last_result = result
        ending = self._recorder.write(result)
        if ending is not None:
            self.recording_stopped.emit(*ending)
        self._offer(result)

    def _offer(self, result: FrameResult) -> None:
        if self._awaiting_ack:
            self._undisplayed = result
            return
        self._undisplayed = None
        self._awaiting_ack = True
        self.frame_ready.emit(frame_report(result, self._clock.fps, self._recorder.frames, self._view_size))

    # helpers ---------------------------------------------------------------------
    def _emit_engine(self) -> None:
        self.engine_ready.emit(self._owner.engine_info())

    def _end_recording(self) -> None:
        ending = self._recorder.stop()
        if ending is not None:
            self.recording_stopped.emit(*ending)

    def _lose_source(self, message: str) -> None:
        self._close_source()
        self.source_lost.emit(message)

    def _close_source(self) -> None:
        self._timer.stop()
        self._end_recording()
        if self._source is not None:
            self._source.close()
        self._source = None
        self._seek_to, self._steps, self._undisplayed, self._at_end = None, 0, None, False
        self._last_result = None
        if self._playing:
            self._playing = False
            self.playing_changed.emit(False)
