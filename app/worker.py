"""The frame worker: a QObject that lives in its own QThread.

It owns the source, the pipeline and the recording; the window talks to it
only by signals. A single-shot timer drives it one frame per tick, so requests
from the window (seek, pause, options) are handled between frames.

Display is latest-frame-wins: one frame at a time is in flight to the window,
and frames processed while it is being shown replace each other, so a slow
GUI never builds a queue. Files are still read frame by frame (paced to their
frame rate, every frame processed and recorded); cameras go through
`LatestFrameReader`, which drops the frames the model cannot keep up with.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QImage

from c3ae.detect import default_model_for
from c3ae.engine import DEFAULT_WEIGHTS, AgeEngine, WeightsError
from c3ae.face_models import FaceModelMissing
from c3ae.pipeline import FramePipeline, FrameResult
from c3ae.video import RecordingError, SourceError, VideoSource

from .capture import LatestFrameReader
from .messages import EngineInfo, FrameReport, PipelineOptions, SourceInfo
from .recording import Recording, timestamped_path

CAMERA_POLL_MS = 5
MAX_LAG_S = 0.25  # a file this far behind its clock stops trying to catch up


def to_qimage(frame_bgr: np.ndarray) -> QImage:
    """BGR numpy frame -> an RGB QImage that owns a copy of the pixels."""
    rgb = np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def crops_by_track(result: FrameResult) -> dict[int, np.ndarray]:
    """Track id -> its three crops as (3, 64, 64, 3) RGB, for detected faces only
    (the pipeline's crops follow the detections, which come first in `faces`)."""
    if result.crops is None:
        return {}
    crops = result.crops.numpy()
    detected = np.flatnonzero(result.faces.missed == 0)
    return {int(result.faces.track_ids[i]): np.ascontiguousarray(crops[i].transpose(0, 2, 3, 1)[..., ::-1])
            for i in detected if i < len(crops)}


class FrameWorker(QObject):
    source_opened = Signal(object)  # SourceInfo
    source_failed = Signal(str)  # the source could not be opened
    source_lost = Signal(str)  # a camera stopped mid-stream
    engine_ready = Signal(object)  # EngineInfo
    engine_failed = Signal(str)  # face model missing, corrupt weights, no CUDA
    frame_ready = Signal(object)  # FrameReport; answer with frame_shown()
    playing_changed = Signal(bool)
    ended = Signal()  # end of a file (without loop)
    recording_started = Signal(str)  # video path
    recording_stopped = Signal(str, int, str)  # video path, frames written, error ('' if none)
    snapshot_saved = Signal(str)
    error = Signal(str)  # a recoverable problem to show in the status bar
    stopped = Signal()  # shutdown finished: everything is closed

    def __init__(self, options: PipelineOptions, engine: AgeEngine | None = None,
                 weights: Path | str | None = DEFAULT_WEIGHTS) -> None:
        """`engine`: an already loaded model to use (tests share one); by default
        the first source loads `weights` here, in the worker thread."""
        super().__init__()
        self._options = options
        self._engine = engine
        self._weights = weights
        self._timer = QTimer(self)  # moves to the worker thread with its parent
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)
        self._pipeline: FramePipeline | None = None
        self._source: VideoSource | None = None
        self._reader: LatestFrameReader | None = None
        self._recording: Recording | None = None
        self._playing = False
        self._loop = False
        self._seek_to: int | None = None
        self._at_end = False  # a file was read to its end
        self._steps = 0
        self._index = -1  # index of the frame last processed
        self._opened_at = 0.0
        self._next_due = 0.0
        self._last_time = 0.0
        self._frame_dt = 0.0
        self._last_frame: np.ndarray | None = None
        self._awaiting_ack = False
        self._undisplayed: tuple[FrameResult, int, float] | None = None

    # requests from the window ------------------------------------------------
    @Slot(object)
    def open_source(self, source: str | int) -> None:
        self._close_source()
        try:
            src = VideoSource(source)
        except SourceError as exc:
            self.source_failed.emit(str(exc))
            return
        try:
            self._ensure_pipeline(self._detector_for(src.source))
        except (FaceModelMissing, WeightsError) as exc:
            src.release()
            self.engine_failed.emit(str(exc))
            return
        self._source = src
        self._reader = LatestFrameReader(src) if src.is_camera else None
        self._index = -1
        self._opened_at = self._next_due = time.perf_counter()
        self._frame_dt = self._last_time = 0.0
        self.source_opened.emit(SourceInfo(src.source, src.is_camera, src.fps, src.frame_count, src.size,
                                           self._pipeline.detector.model))
        self.set_playing(True)

    @Slot(bool)
    def set_playing(self, playing: bool) -> None:
        self._playing = bool(playing) and self._source is not None
        self._steps = 0
        if self._playing and self._at_end:  # Play at the end of a file starts it again
            self._seek_to = 0
        self.playing_changed.emit(self._playing)
        if self._playing:
            self._next_due = time.perf_counter()
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
            self._seek_to = max(self._index + frames, 0)
        else:
            self._steps += frames
        self._timer.start(0)

    @Slot(bool)
    def set_loop(self, loop: bool) -> None:
        self._loop = bool(loop)

    @Slot(object)
    def set_options(self, options: PipelineOptions) -> None:
        old, self._options = self._options, options
        if self._pipeline is None:
            return
        try:
            if options.device != old.device:
                self._pipeline.set_device(self._device())
                self._engine = self._pipeline.engine
                self._emit_engine()
            if self._source is not None and options.detector != old.detector:
                self._ensure_pipeline(self._detector_for(self._source.source))
        except (FaceModelMissing, WeightsError) as exc:
            self._options = replace(options, device=old.device, detector=old.detector)
            self.error.emit(str(exc))
            self._emit_engine()
        self._apply_options()

    @Slot(str, bool)
    def start_recording(self, folder: str, with_csv: bool) -> None:
        if self._recording is not None:
            return
        if self._source is None:
            self.error.emit("Nothing to record: open a camera or a video first")
            return
        size = self._source.size if self._last_frame is None else (self._last_frame.shape[1],
                                                                   self._last_frame.shape[0])
        try:
            self._recording = Recording(folder, self._source.fps, size, with_csv,
                                        realtime=self._reader is not None)
        except (RecordingError, OSError) as exc:
            self.recording_stopped.emit("", 0, str(exc))
            return
        self.recording_started.emit(str(self._recording.path))

    @Slot()
    def stop_recording(self) -> None:
        self._end_recording("")

    @Slot(str)
    def snapshot(self, folder: str) -> None:
        if self._last_frame is None:
            self.error.emit("No frame to save yet")
            return
        try:
            folder_path = Path(folder).expanduser()
            folder_path.mkdir(parents=True, exist_ok=True)
            path = timestamped_path(folder_path, "c3ae-snapshot", ".png")
            ok, png = cv2.imencode(".png", self._last_frame)
            if not ok:
                raise OSError("cannot encode the frame as PNG")
            partial = path.with_name(f".{path.name}.part")  # renamed when complete: no half-written PNG
            partial.write_bytes(png.tobytes())
            partial.replace(path)
        except OSError as exc:
            self.error.emit(f"Snapshot failed: {exc}")
            return
        self.snapshot_saved.emit(str(path))

    @Slot()
    def frame_shown(self) -> None:
        """The window painted the last frame: send the newest one, if any."""
        self._awaiting_ack = False
        if self._undisplayed is not None:
            self._offer(*self._undisplayed)

    @Slot()
    def shutdown(self) -> None:
        """Finalise the recording and release everything (the window is closing)."""
        self._close_source()
        if self._pipeline is not None:
            self._pipeline.close()
            self._pipeline = None
        self.stopped.emit()

    # the frame loop ------------------------------------------------------------
    def _tick(self) -> None:
        if self._source is None:
            return
        if self._seek_to is not None:
            self._source.seek(self._seek_to)
            self._seek_to = None
            self._at_end = False
            self._pipeline.reset()
            self._next_due = time.perf_counter()
            if not self._playing:
                self._steps = max(self._steps, 1)
        if not (self._playing or self._steps > 0):
            return
        frame = self._reader.latest() if self._reader is not None else self._source.read()
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
        if self._reader is not None:
            if self._reader.lost:
                self._lose_source("The camera stopped delivering frames (unplugged or in use by another app)")
            else:
                self._timer.start(CAMERA_POLL_MS)
        elif self._loop and self._playing:
            self._seek_to = 0
            self._timer.start(0)
        else:
            self._end_recording("")
            self._at_end = True
            self._steps = 0
            self.set_playing(False)
            self.ended.emit()

    def _schedule(self) -> None:
        if self._reader is not None or not self._playing:
            self._timer.start(0)
            return
        now = time.perf_counter()
        self._next_due += 1.0 / self._source.fps
        if self._next_due < now - MAX_LAG_S:  # slower than real time: go frame by frame
            self._next_due = now
        self._timer.start(max(0, int((self._next_due - now) * 1000)))

    def _process(self, frame: np.ndarray) -> None:
        result = self._pipeline.process(frame)
        now = time.perf_counter()
        if self._reader is not None:
            self._index += 1
            time_s = now - self._opened_at
        else:
            self._index = self._source.position - 1
            time_s = self._index / self._source.fps
        if self._last_time > 0:  # average the interval, not the rate, so one hiccup cannot spike it
            dt = now - self._last_time
            self._frame_dt = dt if self._frame_dt == 0 else 0.9 * self._frame_dt + 0.1 * dt
        self._last_time = now
        self._last_frame = result.frame
        if self._recording is not None:
            try:
                self._recording.write(result.frame, self._index, time_s, result.faces,
                                      self._pipeline.engine.trained)
            except RecordingError as exc:
                self._end_recording(str(exc))
        self._offer(result, self._index, time_s)

    def _offer(self, result: FrameResult, index: int, time_s: float) -> None:
        if self._awaiting_ack:
            self._undisplayed = (result, index, time_s)
            return
        self._undisplayed = None
        self._awaiting_ack = True
        recorded = self._recording.frames if self._recording is not None else -1
        self.frame_ready.emit(FrameReport(to_qimage(result.frame), index, time_s, result.faces,
                                          result.timings, self._pipeline.engine.trained, self.fps,
                                          recorded, crops_by_track(result)))

    @property
    def fps(self) -> float:
        """Frames processed per second, averaged over the last ~10 frames."""
        return 1.0 / self._frame_dt if self._frame_dt > 0 else 0.0

    # helpers ---------------------------------------------------------------------
    def _device(self) -> str | None:
        return None if self._options.device == "auto" else self._options.device

    def _detector_for(self, source: str | int) -> str:
        return default_model_for(source) if self._options.detector == "auto" else self._options.detector

    def _ensure_pipeline(self, model: str) -> None:
        if self._pipeline is not None and self._pipeline.detector.model == model:
            self._pipeline.reset()
            return
        pipeline = FramePipeline(detector_model=model, weights=self._weights, device=self._device(),
                                 engine=self._engine)
        if self._pipeline is not None:
            self._pipeline.close()
        self._pipeline = pipeline
        self._engine = pipeline.engine
        self._apply_options()
        self._emit_engine()

    def _apply_options(self) -> None:
        if self._pipeline is None:
            return
        o = self._options
        self._pipeline.min_score, self._pipeline.min_size = o.min_score, o.min_size
        self._pipeline.smoothing, self._pipeline.show_bars, self._pipeline.keep_crops = \
            o.smoothing, o.show_bars, o.debug

    def _emit_engine(self) -> None:
        engine = self._pipeline.engine
        self.engine_ready.emit(EngineInfo(engine.trained, engine.status, engine.device.type,
                                          torch.cuda.is_available()))

    def _end_recording(self, error: str) -> None:
        if self._recording is None:
            return
        recording, self._recording = self._recording, None
        recording.close()
        self.recording_stopped.emit(str(recording.path), recording.frames, error)

    def _lose_source(self, message: str) -> None:
        self._close_source()
        self.source_lost.emit(message)

    def _close_source(self) -> None:
        self._timer.stop()
        self._end_recording("")
        if self._reader is not None:
            self._reader.stop()
        elif self._source is not None:
            self._source.release()
        self._reader = self._source = None
        self._seek_to, self._steps, self._undisplayed, self._at_end = None, 0, None, False
        self._last_frame = None
        if self._playing:
            self._playing = False
            self.playing_changed.emit(False)
