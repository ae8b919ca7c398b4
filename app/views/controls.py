"""Control widgets: processing settings and the transport bar for files."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QWidget,
)

from app.worker.messages import SourceInfo
from c3ae.options import DETECTORS, DEVICES, PipelineOptions

# names for the choices c3ae.options defines (the values and their order come from there)
DETECTOR_NAMES = {"auto": "Automatic", "short": "Short range (webcam)", "full": "Full range (wide shots)"}
DEVICE_NAMES = {"auto": "Automatic", "cpu": "CPU", "cuda": "CUDA"}


def _combo(values: tuple[str, ...], names: dict[str, str]) -> QComboBox:
    combo = QComboBox()
    for value in values:
        combo.addItem(names.get(value, value), value)
    return combo


def _select(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    combo.setCurrentIndex(max(index, 0))


class SettingsPanel(QWidget):
    """Detector, device, thresholds, smoothing, display toggles and output options.
    Every change is emitted at once as a whole `PipelineOptions`."""

    options_changed = Signal(object)  # PipelineOptions
    output_folder_changed = Signal(str)
    save_csv_changed = Signal(bool)

    def __init__(self, options: PipelineOptions, output_folder: str, save_csv: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detector = _combo(DETECTORS, DETECTOR_NAMES)
        self.detector.setToolTip("Short range suits a webcam at arm's length; full range finds small faces")
        self.device = _combo(DEVICES, DEVICE_NAMES)
        self.min_score = QDoubleSpinBox()  # useful parts of the ranges in c3ae.options (tested to stay inside)
        self.min_score.setRange(0.2, 0.95)
        self.min_score.setSingleStep(0.05)
        self.min_score.setToolTip("Detector confidence a face needs to be shown")
        self.min_size = QSpinBox()
        self.min_size.setRange(0, 400)
        self.min_size.setSuffix(" px")
        self.min_size.setToolTip("Ignore faces smaller than this (their age is unreliable)")
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 95)
        self.smoothing_label = QLabel()
        self.show_bars = QCheckBox("Bar charts on the video")
        self.debug = QCheckBox("Debug view: model crops of the selected face")
        self.blur = QCheckBox("Blur faces (view, recordings and snapshots)")
        self.blur.setToolTip("Pixelate every face past recognition; ages and charts stay, CSV rows are unchanged")
        self.folder = QLineEdit(output_folder)
        self.folder.setReadOnly(True)
        folder_button = QToolButton()
        folder_button.setText("…")
        folder_button.setToolTip("Choose the folder for recordings and snapshots")
        folder_button.clicked.connect(self._choose_folder)
        self.save_csv = QCheckBox("Save per-frame CSV with recordings")
        self.save_csv.setChecked(save_csv)
        self.save_csv.toggled.connect(self.save_csv_changed)

        smoothing_row = QHBoxLayout()
        smoothing_row.addWidget(self.smoothing, 1)
        smoothing_row.addWidget(self.smoothing_label)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(folder_button)
        form = QFormLayout(self)
        form.addRow("Face detector", self.detector)
        form.addRow("Device", self.device)
        form.addRow("Confidence", self.min_score)
        form.addRow("Min face size", self.min_size)
        form.addRow("Smoothing", smoothing_row)
        form.addRow(self.show_bars)
        form.addRow(self.debug)
        form.addRow(self.blur)
        form.addRow("Save to", folder_row)
        form.addRow(self.save_csv)

        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.set_options(options)
        for signal in (self.detector.currentIndexChanged, self.device.currentIndexChanged,
                       self.min_score.valueChanged, self.min_size.valueChanged, self.smoothing.valueChanged,
                       self.show_bars.toggled, self.debug.toggled, self.blur.toggled):
            signal.connect(self._changed)

    def options(self) -> PipelineOptions:
        # by name: c3ae.options may gain fields (tiles has no widget here: the value given is kept)
        return PipelineOptions(detector=self.detector.currentData(), device=self.device.currentData(),
                               tiles=self._tiles, min_score=round(self.min_score.value(), 2),
                               min_size=float(self.min_size.value()), smoothing=self.smoothing.value() / 100.0,
                               show_bars=self.show_bars.isChecked(), debug=self.debug.isChecked(),
                               blur=self.blur.isChecked())

    def set_options(self, o: PipelineOptions) -> None:
        """Show `o` without emitting (used at start-up and when the worker reverts a choice)."""
        self._tiles = o.tiles
        widgets = (self.detector, self.device, self.min_score, self.min_size, self.smoothing,
                   self.show_bars, self.debug, self.blur)
        for w in widgets:
            w.blockSignals(True)
        _select(self.detector, o.detector)
        _select(self.device, o.device)
        self.min_score.setValue(o.min_score)
        self.min_size.setValue(int(o.min_size))
        self.smoothing.setValue(int(round(o.smoothing * 100)))
        self.show_bars.setChecked(o.show_bars)
        self.debug.setChecked(o.debug)
        self.blur.setChecked(o.blur)
        for w in widgets:
            w.blockSignals(False)
        self._update_smoothing_label()

    def set_cuda_available(self, available: bool) -> None:
        item = self.device.model().item(self.device.findData("cuda"))
        item.setEnabled(available)
        item.setToolTip("" if available else "No CUDA device found")

    def _update_smoothing_label(self) -> None:
        self.smoothing_label.setText(f"{self.smoothing.value() / 100:.2f}")

    def _changed(self) -> None:
        self._update_smoothing_label()
        self.options_changed.emit(self.options())

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save recordings and snapshots to", self.folder.text())
        if folder:
            self.folder.setText(folder)
            self.output_folder_changed.emit(folder)


def format_time(seconds: float) -> str:
    minutes, secs = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes):02d}:{secs:04.1f}"


class SeekSlider(QSlider):
    """A click on the groove jumps there, as in video players (QSlider's own click
    only steps a page towards it); the press then goes on as a drag of the handle."""

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            option = QStyleOptionSlider()
            self.initStyleOption(option)
            style, cc = self.style(), QStyle.ComplexControl.CC_Slider
            handle = style.subControlRect(cc, option, QStyle.SubControl.SC_SliderHandle, self)
            if not handle.contains(event.position().toPoint()):
                groove = style.subControlRect(cc, option, QStyle.SubControl.SC_SliderGroove, self)
                span = max(groove.width() - handle.width(), 1)
                x = int(event.position().x() - groove.x() - handle.width() / 2)
                self.setValue(QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x, span,
                                                             option.upsideDown))
        super().mousePressEvent(event)


class TransportBar(QWidget):
    """Play/pause, frame step, seek slider, position and loop: for files only."""

    seek_requested = Signal(int)
    loop_changed = Signal(bool)

    def __init__(self, play: QAction, step_back: QAction, step_forward: QAction, loop: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._info: SourceInfo | None = None
        self._programmatic = False
        buttons = []
        for action in (step_back, play, step_forward):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep Space for the window shortcut
            buttons.append(button)
        self.slider = SeekSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(self._slider_moved)
        self.position = QLabel("--:--")
        self.position.setMinimumWidth(self.position.fontMetrics().horizontalAdvance("00:00.0 / 00:00.0 · "
                                                                                     "00000/00000"))
        self.slider.setMinimumWidth(120)
        self.loop = QCheckBox("Loop")
        self.loop.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.loop.setChecked(loop)
        self.loop.toggled.connect(self.loop_changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for b in buttons:
            layout.addWidget(b)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.position)
        layout.addWidget(self.loop)

    def set_source(self, info: SourceInfo | None) -> None:
        self._info = info
        is_file = info is not None and not info.is_camera and info.frame_count > 0
        self.setVisible(is_file)
        if is_file:
            self._set_slider(0, info.frame_count - 1)

    def show_position(self, index: int) -> None:
        info = self._info
        if info is None or info.is_camera:
            return
        if not self.slider.isSliderDown():
            self._set_slider(index)
        total = max(info.frame_count, 1)
        self.position.setText(f"{format_time(index / info.fps)} / {format_time(total / info.fps)}  "
                              f"· {index + 1}/{total}")
        self.position.setToolTip(f"frame {index + 1} of {total}")

    def _set_slider(self, value: int, maximum: int | None = None) -> None:
        self._programmatic = True
        if maximum is not None:
            self.slider.setRange(0, max(maximum, 0))
        self.slider.setValue(value)
        self._programmatic = False

    def _slider_moved(self, value: int) -> None:
        if not self._programmatic:
            self.seek_requested.emit(value)
