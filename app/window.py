"""The main window: video, transport, side panels, menus; no processing.

Everything slow happens in `FrameWorker`, on the QThread that `WorkerHost`
owns. The window emits the host's request signals and reacts to its answer
signals (the worker's, relayed into the GUI thread); it never calls the worker,
so the GUI thread never waits on capture, inference or disk. The actions,
toolbar, central area, status bar, Source menu and Help boxes are their own
modules: this class wires them together and follows the source's state (none,
opening, playing, failed, lost).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox, QWidget

from app.recording.view import failure_text
from app.settings import AppSettings
from app.views.actions import WindowActions
from app.views.cameras import list_cameras
from app.views.controls import SettingsPanel
from app.views.help import about_html, shortcuts_html, show_box
from app.views.panels import CropsView, FacePanel
from app.views.source_menu import SourceMenu
from app.views.status import StatusBar
from app.views.toolbar import MainToolBar
from app.views.video_area import VideoArea
from app.views.window_layout import restore_layout, save_layout
from app.worker.host import WorkerHost
from app.worker.messages import EngineInfo, FrameReport, SourceInfo
from c3ae.options import PipelineOptions
from c3ae.runtime.paths import DEFAULT_WEIGHTS
from c3ae.source.video import parse_source

if TYPE_CHECKING:
    from c3ae.model.runner import AgeEngine

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv);;All files (*)"
SHUTDOWN_WAIT_MS = 60000  # the worker may be loading the model; a crash on exit would be worse
STATUS_REFRESH_MS = 500


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings | None = None, engine: AgeEngine | None = None,
                 weights: Path | str | None = DEFAULT_WEIGHTS) -> None:
        """`engine`: a loaded model to share (tests); by default the worker loads `weights`."""
        super().__init__()
        self.settings = settings or AppSettings()
        self.options = self.settings.options()
        self.weights = Path(weights) if weights else DEFAULT_WEIGHTS  # for the About box
        self.source_info: SourceInfo | None = None
        self._requested: str | int | None = None  # what open_source was last asked for
        self.engine_info: EngineInfo | None = None
        self.last_report: FrameReport | None = None
        self.recording_path = ""
        self.last_recording: tuple[str, int, str] | None = None  # path, frames, error
        self.setWindowTitle("C3AE Age Estimation")
        self.setAcceptDrops(True)
        self.host = WorkerHost(self.options, engine, weights, self)
        self._build_actions()
        self._build_ui()
        self._build_menus()
        self._status_timer = QTimer(self)
        self._status_timer.timeout.connect(self._refresh_status)
        self._status_timer.start(STATUS_REFRESH_MS)
        self._start_worker()
        restore_layout(self, self.settings, self.faces_dock, self.settings_dock, self.crops_dock)
        self._apply_debug(self.options.debug)
        self._show_empty("No video source", "Open a video file, or pick a camera.")

    # construction ----------------------------------------------------------------
    def _build_actions(self) -> None:
        self.act = a = WindowActions(self)
        host = self.host
        for signal, slot in ((a.open.triggered, self.choose_file), (a.play.toggled, host.play_requested),
                             (a.step_back.triggered, lambda: host.step_requested.emit(-1)),
                             (a.step_forward.triggered, lambda: host.step_requested.emit(1)),
                             (a.record.toggled, self._toggle_recording), (a.snapshot.triggered, self.snapshot),
                             (a.people.triggered, self.export_people),
                             (a.fullscreen.toggled, self._set_fullscreen), (a.debug.toggled, self._toggle_debug),
                             (a.shortcuts.triggered, self.show_shortcuts), (a.about.triggered, self.show_about),
                             (a.quit.triggered, self.close)):
            signal.connect(slot)

    def _build_ui(self) -> None:
        self.area = VideoArea(self.act, self.settings.loop)
        self.area.empty.open_file_requested.connect(self.choose_file)
        self.area.empty.camera_requested.connect(self.open_source)
        self.area.empty.reopen_requested.connect(self.open_source)
        self.area.transport.seek_requested.connect(self.host.seek_requested)
        self.area.video.resized.connect(self.host.view_size_changed)
        self.area.transport.loop_changed.connect(self._loop_changed)
        self.setCentralWidget(self.area)

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
        # shown and hidden only with the debug option, which also makes the worker keep the crops
        self.crops_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                    | QDockWidget.DockWidgetFeature.DockWidgetFloatable)

        self.source_menu = SourceMenu(self.act.open, self.act.quit, lambda: self.settings.last_source, self,
                                      recent_streams=lambda: self.settings.recent_streams)
        self.source_menu.source_chosen.connect(self.open_source)
        self.toolbar = MainToolBar(self.act, self.source_menu)
        self.addToolBar(self.toolbar)
        self.status = StatusBar()
        self.setStatusBar(self.status)

    def _dock(self, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.split(":")[0].lower() + "_dock")
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_menus(self) -> None:
        bar = self.menuBar()
        bar.addMenu(self.source_menu)
        menus = (("&Playback", (self.act.play, self.act.step_back, self.act.step_forward)),
                 ("&Output", (self.act.record, self.act.snapshot, self.act.people)),
                 ("&View", (self.act.fullscreen, self.faces_dock.toggleViewAction(),
                            self.settings_dock.toggleViewAction(), self.act.debug)),
                 ("&Help", (self.act.shortcuts, self.act.about)))
        for title, actions in menus:
            menu = bar.addMenu(title)
            for action in actions:
                menu.addAction(action)

    def _start_worker(self) -> None:
        w = self.host  # its answer signals, emitted in the GUI thread (see app/worker/host.py)
        for signal, slot in ((w.source_opened, self._on_source_opened), (w.source_failed, self._on_source_failed),
                             (w.source_lost, self._on_source_lost), (w.engine_ready, self._on_engine_ready),
                             (w.engine_failed, self._on_engine_failed), (w.frame_ready, self._on_frame),
                             (w.playing_changed, self._on_playing_changed), (w.ended, self._on_ended),
                             (w.recording_started, self._on_recording_started),
                             (w.recording_stopped, self._on_recording_stopped),
                             (w.snapshot_saved, self._on_snapshot_saved),
                             (w.people_saved, self._on_people_saved), (w.error, self.status.show_error),
                             (w.truncated, self.area.notice.show_message)):
            signal.connect(slot)
        self.host.start()
        self.host.loop_requested.emit(self.settings.loop)

    # public commands -----------------------------------------------------------------
    def open_source(self, source: str | int) -> None:
        """Open a camera index or a video file; the result arrives as a signal."""
        source = parse_source(source)
        self._requested = source
        self.faces.clear()
        name = f"camera {source}" if isinstance(source, int) else Path(source).name
        self._show_empty(f"Opening {name}…", "" if self.engine_info is not None else
                         "Loading the face detector and the age model: this takes a few seconds.", can_open=False)
        self.host.open_requested.emit(source)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open video", self.settings.open_folder, VIDEO_FILTER)
        if path:
            self.settings.open_folder = str(Path(path).parent)
            self.open_source(path)

    def snapshot(self) -> None:
        self.host.snapshot_requested.emit(self.settings.output_folder)

    def export_people(self) -> None:
        self.host.people_requested.emit(self.settings.output_folder)

    def show_shortcuts(self) -> QMessageBox:
        return show_box(self, "Keyboard shortcuts", shortcuts_html(self.actions()))

    def show_about(self) -> QMessageBox:
        status = f"{self.engine_info.status} on {self.engine_info.device.upper()}" if self.engine_info else ""
        return show_box(self, "About C3AE Age Estimation", about_html(self.weights, status))

    # worker signals --------------------------------------------------------------------
    def _on_source_opened(self, info: SourceInfo) -> None:
        self.source_info = info
        self.area.show_source(info)
        self.act.set_source(info)
        self.settings.last_source = info.source
        self.setWindowTitle(f"{Path(str(info.source)).name if not info.is_camera else info.label} "
                            f"– C3AE Age Estimation")
        self.status.showMessage(f"Opened {info.label}: {info.size[0]}x{info.size[1]} at {info.fps:.0f} fps, "
                                f"{info.detector}-range face detector", 6000)

    def _on_source_failed(self, message: str) -> None:
        title = "No camera available" if isinstance(self._requested, int) else "Cannot open the video file"
        self._show_no_source(title, message)

    def _on_source_lost(self, message: str) -> None:
        self._show_no_source("The video source was lost", message)

    def _on_ended(self) -> None:
        self.status.showMessage("End of video", 5000)

    def _on_snapshot_saved(self, path: str) -> None:
        self.status.showMessage(f"Snapshot saved: {path}", 8000)

    def _on_people_saved(self, path: str, count: int) -> None:
        self.status.showMessage(f"{count} people saved: {path}", 8000)

    def _show_no_source(self, title: str, message: str) -> None:
        self.source_info = None
        self.act.set_source(None)
        self.faces.clear()
        self._show_empty(title, message)

    def _on_engine_ready(self, info: EngineInfo) -> None:
        self.engine_info = info
        self.settings_panel.set_cuda_available(info.cuda_available)
        self.status.set_device(info.device)
        if info.trained:
            self.area.banner.hide()
        else:
            self.area.banner.show_message(f"Untrained model: ages are hidden ({info.status}). "
                                     f"Train the model or put trained weights at weights/c3ae.pt.")

    def _on_engine_failed(self, message: str) -> None:
        self._show_no_source("The age model cannot start", message)
        self.area.banner.show_message("The age model cannot start: see the message below.")

    def _on_frame(self, report: FrameReport) -> None:
        self.last_report = report
        try:
            self.area.show_frame(report)
            self.faces.show_report(report)
            if self.crops_dock.isVisible():
                self._show_selected_crops(self.faces.selected)
            self.status.frame_shown()
        finally:  # the worker sends nothing more until told: a failed paint must not freeze the video
            self.host.frame_shown.emit()

    def _on_playing_changed(self, playing: bool) -> None:
        self.act.set_checked(self.act.play, playing)
        self.act.show_play_state(playing)

    def _on_recording_started(self, path: str) -> None:
        self.recording_path = path
        self.act.set_checked(self.act.record, True)
        self.toolbar.show_recording(True)
        self.status.showMessage(f"Recording to {path}", 5000)

    def _on_recording_stopped(self, path: str, frames: int, error: str) -> None:
        self.recording_path = ""
        self.last_recording = (path, frames, error)
        self.act.set_checked(self.act.record, False)
        self.toolbar.show_recording(False)
        if error:
            self.area.notice.show_message(failure_text(path, error))
        else:
            self.status.showMessage(f"Saved {frames} frames to {path}", 10000)

    # user changes --------------------------------------------------------------------------
    def _options_changed(self, options: PipelineOptions) -> None:
        if options.debug != self.options.debug:
            self._apply_debug(options.debug)
        self.options = options
        self.settings.save_options(options)
        self.host.options_requested.emit(options)

    def _toggle_debug(self, on: bool) -> None:
        self.settings_panel.debug.setChecked(on)  # the panel emits the options, as if clicked there

    def _apply_debug(self, debug: bool) -> None:
        self.crops_dock.setVisible(debug)
        self.act.set_checked(self.act.debug, debug)
        self.status.set_debug(debug)

    def _output_folder_changed(self, folder: str) -> None:
        self.settings.output_folder = folder

    def _save_csv_changed(self, save: bool) -> None:
        self.settings.save_csv = save

    def _loop_changed(self, loop: bool) -> None:
        self.settings.loop = loop
        self.host.loop_requested.emit(loop)

    def _toggle_recording(self, on: bool) -> None:
        if on:
            self.host.record_requested.emit(self.settings.output_folder, self.settings.save_csv)
        else:
            self.host.stop_record_requested.emit()

    def _set_fullscreen(self, on: bool) -> None:
        for w in (self.menuBar(), self.toolbar, self.status, self.faces_dock, self.settings_dock):
            w.setVisible(not on)
        self.crops_dock.setVisible(not on and self.options.debug)
        self.showFullScreen() if on else self.showNormal()

    # helpers --------------------------------------------------------------------------------
    def _show_empty(self, title: str, detail: str, can_open: bool = True) -> None:
        self.area.show_message(title, detail, list_cameras(), self.settings.last_source, can_open)

    def _show_selected_crops(self, track_id: int) -> None:
        report = self.last_report
        self.crops.show_crops(track_id, report.crops.get(track_id) if report is not None else None)

    def _refresh_status(self) -> None:
        report = self.last_report
        self.status.refresh(report if self.source_info is not None else None, self.act.play.isChecked())
        if self.recording_path:
            self.toolbar.rec_indicator.show_frames(max(report.recorded_frames, 0) if report is not None else 0)

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
                and self.act.fullscreen.isChecked():
            self.act.fullscreen.setChecked(False)  # left full screen by the window manager
        super().changeEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        """Stop the worker, which finalises any recording, before the window goes."""
        if self.isFullScreen():
            self._set_fullscreen(False)
        save_layout(self, self.settings)
        self.settings.save_options(self.options)
        self.settings.sync()
        self._status_timer.stop()
        self.status.stop()
        self.host.stop(SHUTDOWN_WAIT_MS)
        super().closeEvent(event)
