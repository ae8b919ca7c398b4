"""The main window: video, transport, side panels, status bar; no processing.

Everything slow happens in `FrameWorker` on its own QThread. The window sends
it requests through its own signals (queued across threads) and reacts to the
worker's signals; it never calls the worker directly, so the GUI thread never
waits on capture, inference or disk.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QEvent, QRect, QSize, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from c3ae.engine import DEFAULT_WEIGHTS, AgeEngine
from c3ae.video import parse_source

from .cameras import list_cameras
from .controls import SettingsPanel, TransportBar, format_time
from .empty_state import EmptyState
from .messages import EngineInfo, FrameReport, PipelineOptions, SourceInfo
from .panels import CropsView, FacePanel
from .settings import AppSettings
from .stall import StallMeter
from .video_view import VideoView
from .worker import FrameWorker

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv);;All files (*)"
SHUTDOWN_WAIT_MS = 60000  # the worker may be loading the model; a crash on exit would be worse


def record_icon(diameter: int = 32) -> QIcon:
    """A red dot, the universal 'record' sign."""
    pixmap = QPixmap(diameter, diameter)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#d62828"))
    p.drawEllipse(QRect(4, 4, diameter - 8, diameter - 8))
    p.end()
    return QIcon(pixmap)


class MainWindow(QMainWindow):
    # requests to the worker ------------------------------------------------------
    open_requested = Signal(object)
    play_requested = Signal(bool)
    seek_requested = Signal(int)
    step_requested = Signal(int)
    loop_requested = Signal(bool)
    options_requested = Signal(object)
    record_requested = Signal(str, bool)
    stop_record_requested = Signal()
    snapshot_requested = Signal(str)
    frame_shown = Signal()
    shutdown_requested = Signal()

    def __init__(self, settings: AppSettings | None = None, engine: AgeEngine | None = None,
                 weights: Path | str | None = DEFAULT_WEIGHTS) -> None:
        """`engine`: a loaded model to share (tests); by default the worker loads `weights`."""
        super().__init__()
        self.settings = settings or AppSettings()
        self.options = self.settings.options()
        self.source_info: SourceInfo | None = None
        self._requested: str | int | None = None  # what open_source was last asked for
        self.engine_info: EngineInfo | None = None
        self.last_report: FrameReport | None = None
        self.recording_path = ""
        self.last_recording: tuple[str, int, str] | None = None  # path, frames, error
        self._recording_clock = QElapsedTimer()
        self._shown = 0  # frames painted since the last status refresh
        self._shown_since = time.perf_counter()
        self.display_fps = 0.0
        self.setWindowTitle("C3AE Age Estimation")
        self.setAcceptDrops(True)
        self._build_actions()
        self._build_ui()
        self._build_menus()
        self.stall_meter = StallMeter(parent=self)
        self._status_timer = QTimer(self)
        self._status_timer.timeout.connect(self._refresh_status)
        self._status_timer.start(500)
        self._start_worker(engine, weights)
        self._restore_geometry()
        self._apply_debug(self.options.debug)
        self._show_empty("No video source", "Open a video file, or pick a camera.")

    # construction ----------------------------------------------------------------
    def _action(self, text: str, shortcuts: list, slot, icon: QIcon | None = None,
                checkable: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setCheckable(checkable)
        if icon is not None:
            action.setIcon(icon)
        keys = ", ".join(QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText) for s in shortcuts)
        action.setToolTip(f"{tip or text} ({keys})" if keys else (tip or text))
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)  # shortcuts work in fullscreen too, with menus hidden
        return action

    def _build_actions(self) -> None:
        style = self.style()
        sp = QStyle.StandardPixmap
        self.open_action = self._action("Open video file…", ["O", QKeySequence.StandardKey.Open],
                                        self.choose_file, style.standardIcon(sp.SP_DialogOpenButton))
        self.play_action = self._action("Play", ["Space"], self.play_requested,
                                        style.standardIcon(sp.SP_MediaPlay), checkable=True, tip="Play / pause")
        self.step_back_action = self._action("Previous frame", [","], lambda: self.step_requested.emit(-1),
                                             style.standardIcon(sp.SP_MediaSeekBackward))
        self.step_forward_action = self._action("Next frame", ["."], lambda: self.step_requested.emit(1),
                                                style.standardIcon(sp.SP_MediaSeekForward))
        self.record_action = self._action("Record", ["R"], self._toggle_recording, record_icon(),
                                          checkable=True, tip="Record the annotated video")
        self.snapshot_action = self._action("Snapshot", ["S"], self.snapshot,
                                            style.standardIcon(sp.SP_DialogSaveButton),
                                            tip="Save the annotated frame as PNG")
        self.fullscreen_action = self._action("Full screen", ["F"], self._set_fullscreen,
                                              style.standardIcon(sp.SP_TitleBarMaxButton), checkable=True)
        self.quit_action = self._action("Quit", [QKeySequence.StandardKey.Quit], self.close)
        self.play_action.toggled.connect(self._show_play_state)
        self._show_play_state(False)
        self._set_source_actions(None)

    def _build_ui(self) -> None:
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#b00020; color:white; padding:6px 10px; font-weight:bold;")
        self.banner.hide()
        self.video = VideoView()
        self.empty = EmptyState()
        self.empty.open_file_requested.connect(self.choose_file)
        self.empty.camera_requested.connect(self.open_source)
        self.empty.reopen_requested.connect(self.open_source)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.video)
        self.transport = TransportBar(self.play_action, self.step_back_action, self.step_forward_action,
                                      self.settings.loop)
        self.transport.seek_requested.connect(self.seek_requested)
        self.transport.loop_changed.connect(self._loop_changed)
        self.transport.set_source(None)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.stack, 1)
        column.addWidget(self.transport)
        self.setCentralWidget(central)

        self.faces = FacePanel()
        self.faces.selection_changed.connect(self._show_selected_crops)
        self.settings_panel = SettingsPanel(self.options, self.settings.output_folder, self.settings.save_csv)
        self.settings_panel.options_changed.connect(self._options_changed)
        self.settings_panel.output_folder_changed.connect(self._output_folder_changed)
        self.settings_panel.save_csv_changed.connect(self._save_csv_changed)
        self.crops = CropsView()
        self.faces_dock = self._dock("Faces", self.faces)
        self.settings_dock = self._dock("Settings", self.settings_panel)
        self.crops_dock = self._dock("Debug: model crops", self.crops)

        self.source_button = QToolButton()
        self.source_button.setText("Source")
        self.source_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DriveNetIcon))
        self.source_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.source_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.source_menu = QMenu("&Source", self)
        self.source_menu.aboutToShow.connect(self._fill_source_menu)
        self.source_button.setMenu(self.source_menu)
        self.rec_indicator = QLabel()
        self.rec_indicator.setStyleSheet("color:#d62828; font-weight:bold; padding:0 8px;")
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setIconSize(QSize(20, 20))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addWidget(self.source_button)
        toolbar.addAction(self.open_action)
        toolbar.addSeparator()
        toolbar.addAction(self.play_action)
        toolbar.addAction(self.record_action)
        self.rec_indicator_action = toolbar.addWidget(self.rec_indicator)  # toolbar widgets hide via their action
        self.rec_indicator_action.setVisible(False)
        toolbar.addAction(self.snapshot_action)
        toolbar.addSeparator()
        toolbar.addAction(self.fullscreen_action)
        self.toolbar = toolbar

        self.fps_label = QLabel("FPS –")
        self.latency_label = QLabel("detect – · infer – · draw –")
        self.device_label = QLabel("device –")
        self.faces_label = QLabel("0 faces")
        self.stall_label = QLabel()
        for label in (self.stall_label, self.fps_label, self.latency_label, self.device_label, self.faces_label):
            label.setContentsMargins(6, 0, 6, 0)
            self.statusBar().addPermanentWidget(label)

    def _dock(self, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.split(":")[0].lower() + "_dock")
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_menus(self) -> None:
        bar = self.menuBar()
        bar.addMenu(self.source_menu)
        playback = bar.addMenu("&Playback")
        for action in (self.play_action, self.step_back_action, self.step_forward_action):
            playback.addAction(action)
        output = bar.addMenu("&Output")
        output.addAction(self.record_action)
        output.addAction(self.snapshot_action)
        view = bar.addMenu("&View")
        view.addAction(self.fullscreen_action)
        for dock in (self.faces_dock, self.settings_dock):
            view.addAction(dock.toggleViewAction())
        self._fill_source_menu()

    def _fill_source_menu(self) -> None:
        menu = self.source_menu
        menu.clear()
        menu.addAction(self.open_action)
        last = self.settings.last_source
        if last and not last.isdigit() and Path(last).is_file():
            menu.addAction(f"Reopen {Path(last).name}", lambda: self.open_source(last))
        menu.addSection("Cameras")
        cameras = list_cameras()
        for cam in cameras:
            menu.addAction(f"Camera {cam.index}: {cam.name}", lambda i=cam.index: self.open_source(i))
        if not cameras:
            menu.addAction("No cameras found").setEnabled(False)
        menu.addSeparator()
        menu.addAction(self.quit_action)

    def _start_worker(self, engine: AgeEngine | None, weights: Path | str | None) -> None:
        self.thread = QThread(self)
        self.thread.setObjectName("frame-worker")
        self.worker = FrameWorker(self.options, engine, weights)
        self.worker.moveToThread(self.thread)
        w = self.worker
        for request, slot in ((self.open_requested, w.open_source), (self.play_requested, w.set_playing),
                              (self.seek_requested, w.seek), (self.step_requested, w.step),
                              (self.loop_requested, w.set_loop), (self.options_requested, w.set_options),
                              (self.record_requested, w.start_recording),
                              (self.stop_record_requested, w.stop_recording),
                              (self.snapshot_requested, w.snapshot), (self.frame_shown, w.frame_shown),
                              (self.shutdown_requested, w.shutdown)):
            request.connect(slot)
        # bound methods only: a lambda has no thread affinity and would run in the worker thread
        w.source_opened.connect(self._on_source_opened)
        w.source_failed.connect(self._on_source_failed)
        w.source_lost.connect(self._on_source_lost)
        w.engine_ready.connect(self._on_engine_ready)
        w.engine_failed.connect(self._on_engine_failed)
        w.frame_ready.connect(self._on_frame)
        w.playing_changed.connect(self._on_playing_changed)
        w.ended.connect(self._on_ended)
        w.recording_started.connect(self._on_recording_started)
        w.recording_stopped.connect(self._on_recording_stopped)
        w.snapshot_saved.connect(self._on_snapshot_saved)
        w.error.connect(self._on_error)
        # runs in the worker thread, so it works while the GUI thread waits in closeEvent
        w.stopped.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(w.deleteLater)
        self.thread.start()
        self.loop_requested.emit(self.settings.loop)

    def _restore_geometry(self) -> None:
        geometry, state = self.settings.geometry(), self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen() or QGuiApplication.primaryScreen()
            area = screen.availableGeometry()
            size = QSize(min(int(area.width() * 0.8), 1600), min(int(area.height() * 0.85), 1000))
            self.resize(size)
            self.move(area.center() - self.rect().center())
        if state is not None:
            self.restoreState(state)
        else:  # first start: the face rows get the height, settings only what they need
            self.resizeDocks([self.faces_dock, self.settings_dock, self.crops_dock], [520, 260, 220],
                             Qt.Orientation.Vertical)
            self.resizeDocks([self.faces_dock], [380], Qt.Orientation.Horizontal)
        self.crops_dock.setVisible(self.options.debug)

    # public commands -----------------------------------------------------------------
    def open_source(self, source: str | int) -> None:
        """Open a camera index or a video file; the result arrives as a signal."""
        source = parse_source(source)
        self._requested = source
        self.faces.clear()
        name = f"camera {source}" if isinstance(source, int) else Path(source).name
        self._show_empty(f"Opening {name}…", "" if self.engine_info is not None else
                         "Loading the face detector and the age model: this takes a few seconds.")
        self.empty.open_button.setEnabled(False)
        self.open_requested.emit(source)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open video", self.settings.open_folder, VIDEO_FILTER)
        if path:
            self.settings.open_folder = str(Path(path).parent)
            self.open_source(path)

    def snapshot(self) -> None:
        self.snapshot_requested.emit(self.settings.output_folder)

    # worker signals --------------------------------------------------------------------
    def _on_source_opened(self, info: SourceInfo) -> None:
        self.source_info = info
        self.stack.setCurrentWidget(self.video)
        self.video.set_image(None)
        self.transport.set_source(info)
        self._set_source_actions(info)
        self.settings.last_source = info.source
        self.setWindowTitle(f"{Path(str(info.source)).name if not info.is_camera else info.label} "
                            f"– C3AE Age Estimation")
        self.statusBar().showMessage(f"Opened {info.label}: {info.size[0]}x{info.size[1]} at {info.fps:.0f} fps, "
                                     f"{info.detector}-range face detector", 6000)

    def _on_source_failed(self, message: str) -> None:
        title = "No camera available" if isinstance(self._requested, int) else "Cannot open the video file"
        self._show_no_source(title, message)

    def _on_source_lost(self, message: str) -> None:
        self._show_no_source("The video source was lost", message)

    def _on_ended(self) -> None:
        self.statusBar().showMessage("End of video", 5000)

    def _on_snapshot_saved(self, path: str) -> None:
        self.statusBar().showMessage(f"Snapshot saved: {path}", 8000)

    def _show_no_source(self, title: str, message: str) -> None:
        self.source_info = None
        self._set_source_actions(None)
        self.transport.set_source(None)
        self.faces.clear()
        self._show_empty(title, message)

    def _on_engine_ready(self, info: EngineInfo) -> None:
        self.engine_info = info
        self.settings_panel.set_cuda_available(info.cuda_available)
        self.device_label.setText(f"device {info.device.upper()}")
        if info.trained:
            self.banner.hide()
        else:
            self._show_banner(f"Untrained model: ages are hidden ({info.status}). "
                              f"Train the model or put trained weights at weights/c3ae.pt.")

    def _on_engine_failed(self, message: str) -> None:
        self.source_info = None
        self._set_source_actions(None)
        self.transport.set_source(None)
        self._show_banner("The age model cannot start: see the message below.")
        self._show_empty("The age model cannot start", message)

    def _on_frame(self, report: FrameReport) -> None:
        self.last_report = report
        self.video.set_image(report.image)
        self.faces.show_report(report)
        self.transport.show_position(report.index)
        if self.crops_dock.isVisible():
            self._show_selected_crops(self.faces.selected)
        self._shown += 1
        self.frame_shown.emit()  # lets the worker send the next (newest) frame

    def _on_playing_changed(self, playing: bool) -> None:
        self.play_action.blockSignals(True)
        self.play_action.setChecked(playing)
        self.play_action.blockSignals(False)
        self._show_play_state(playing)

    def _on_recording_started(self, path: str) -> None:
        self.recording_path = path
        self._recording_clock.start()
        self._set_checked(self.record_action, True)
        self.rec_indicator.setText("● REC 00:00.0")
        self.rec_indicator_action.setVisible(True)
        self.statusBar().showMessage(f"Recording to {path}", 5000)

    def _on_recording_stopped(self, path: str, frames: int, error: str) -> None:
        self.recording_path = ""
        self.last_recording = (path, frames, error)
        self._set_checked(self.record_action, False)
        self.rec_indicator_action.setVisible(False)
        if error:
            self._on_error(f"Recording stopped: {error}")
        else:
            self.statusBar().showMessage(f"Saved {frames} frames to {path}", 10000)

    def _on_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)
        self.statusBar().setToolTip(message)

    # user changes --------------------------------------------------------------------------
    def _options_changed(self, options: PipelineOptions) -> None:
        if options.debug != self.options.debug:
            self._apply_debug(options.debug)
        self.options = options
        self.settings.save_options(options)
        self.options_requested.emit(options)

    def _apply_debug(self, debug: bool) -> None:
        self.crops_dock.setVisible(debug)
        self.stall_label.setVisible(debug)
        if debug:
            self.stall_meter.start()
        else:
            self.stall_meter.stop()

    def _output_folder_changed(self, folder: str) -> None:
        self.settings.output_folder = folder

    def _save_csv_changed(self, save: bool) -> None:
        self.settings.save_csv = save

    def _loop_changed(self, loop: bool) -> None:
        self.settings.loop = loop
        self.loop_requested.emit(loop)

    def _toggle_recording(self, on: bool) -> None:
        if on:
            self.record_requested.emit(self.settings.output_folder, self.settings.save_csv)
        else:
            self.stop_record_requested.emit()

    def _set_fullscreen(self, on: bool) -> None:
        for w in (self.menuBar(), self.toolbar, self.statusBar(), self.faces_dock, self.settings_dock):
            w.setVisible(not on)
        self.crops_dock.setVisible(not on and self.options.debug)
        self.showFullScreen() if on else self.showNormal()

    # helpers --------------------------------------------------------------------------------
    def _show_empty(self, title: str, detail: str) -> None:
        self.empty.set_message(title, detail)
        self.empty.open_button.setEnabled(True)
        self.empty.set_cameras(list_cameras())
        self.empty.set_last_source(self.settings.last_source)
        self.stack.setCurrentWidget(self.empty)

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    def _show_selected_crops(self, track_id: int) -> None:
        report = self.last_report
        self.crops.show_crops(track_id, report.crops.get(track_id) if report is not None else None)

    def _show_play_state(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_action.setIcon(self.style().standardIcon(icon))
        self.play_action.setText("Pause" if playing else "Play")

    def _set_source_actions(self, info: SourceInfo | None) -> None:
        is_file = info is not None and not info.is_camera
        for action in (self.play_action, self.record_action, self.snapshot_action):
            action.setEnabled(info is not None)
        for action in (self.step_back_action, self.step_forward_action):
            action.setEnabled(is_file)

    @staticmethod
    def _set_checked(action: QAction, checked: bool) -> None:
        action.blockSignals(True)
        action.setChecked(checked)
        action.blockSignals(False)

    def _refresh_status(self) -> None:
        now = time.perf_counter()
        rate = self._shown / max(now - self._shown_since, 1e-6)
        self.display_fps = rate if self.display_fps == 0 else 0.5 * self.display_fps + 0.5 * rate
        self._shown, self._shown_since = 0, now
        report = self.last_report
        if report is not None and self.source_info is not None:
            t = report.timings
            self.fps_label.setText(f"FPS {report.fps:.1f} (shown {self.display_fps:.1f})")
            self.latency_label.setText(f"detect {t.get('detect', 0):.1f} ms · "
                                       f"infer {t.get('crop', 0) + t.get('infer', 0):.1f} ms · "
                                       f"draw {t.get('draw', 0):.1f} ms")
            self.latency_label.setToolTip(" · ".join(f"{k} {v:.2f} ms" for k, v in t.items()))
            detected = int((report.faces.missed == 0).sum())
            self.faces_label.setText(f"{detected} face{'s' if detected != 1 else ''}")
        if self.recording_path:
            frames = report.recorded_frames if report is not None and report.recorded_frames >= 0 else 0
            self.rec_indicator.setText(f"● REC {format_time(self._recording_clock.elapsed() / 1000)} "
                                       f"· {frames} frames")
        if self.stall_meter.ticks:
            self.stall_label.setText(f"UI stall max {self.stall_meter.max_stall_ms:.0f} ms")

    # Qt events ---------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt name
        path = event.mimeData().urls()[0].toLocalFile()
        self.settings.open_folder = str(Path(path).parent)
        self.open_source(path)
        event.acceptProposedAction()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.WindowStateChange and not self.isFullScreen() \
                and self.fullscreen_action.isChecked():
            self.fullscreen_action.setChecked(False)  # left full screen by the window manager
        super().changeEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        """Stop the worker, which finalises any recording, before the window goes."""
        if self.isFullScreen():
            self._set_fullscreen(False)
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.save_options(self.options)
        self.settings.sync()
        self._status_timer.stop()
        self.stall_meter.stop()
        if self.thread.isRunning():
            self.shutdown_requested.emit()
            self.thread.wait(SHUTDOWN_WAIT_MS)  # bounded; only at exit, after the last frame
        super().closeEvent(event)
