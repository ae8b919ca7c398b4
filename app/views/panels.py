"""Side panels: one row per tracked face, and the debug view of a face's crops."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.views.charts import BarChart, Sparkline
from app.worker.messages import FrameReport
from c3ae.crops import CROP_SCALES
from c3ae.draw.overlay import age_text, track_colour


def qcolour(track_id: int) -> QColor:
    """The overlay's colour of a track (BGR there), so rows match the boxes."""
    b, g, r = track_colour(track_id)
    return QColor(r, g, b)


class FaceRow(QFrame):
    """ID, smoothed age, distribution chart and age sparkline of one track."""

    clicked = Signal(int)

    def __init__(self, track_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.track_id = track_id
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        colour = qcolour(track_id)
        self.id_label = QLabel(f"#{track_id}")
        self.id_label.setStyleSheet(f"background:{colour.name()}; color:#141414; padding:2px 6px;"
                                    "border-radius:3px; font-weight:bold;")
        self.age_label = QLabel("…")
        font = QFont(self.age_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.age_label.setFont(font)
        self.state_label = QLabel()
        self.state_label.setStyleSheet("color: gray;")
        self.bars = BarChart()
        self.sparkline = Sparkline()
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.addWidget(self.id_label, 0, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.age_label, 0, 1, Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(self.state_label, 0, 2, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.bars, 1, 0, 1, 3)
        grid.addWidget(self.sparkline, 2, 0, 1, 3)
        grid.setColumnStretch(1, 1)

    def show_face(self, age: float, dist: np.ndarray, missed: int, time_s: float, trained: bool,
                  band: tuple[float, float], uncertain: bool) -> None:
        """`age` and `band`: the track's fused age and calibrated band, as `--tracks` writes
        them (the band NaN until it has enough frames, and while `uncertain`: its
        evidence is poor or too thin for a useful band)."""
        colour = qcolour(self.track_id)
        if not trained:  # never present an untrained model's number as an age
            self.age_label.setText("—")
            self.age_label.setToolTip("The model is untrained: ages are hidden")
            self.bars.set_data(None, float("nan"), colour, "untrained model: no age")
        else:
            self.age_label.setText(age_text(age, band[0], band[1], uncertain))
            self.age_label.setToolTip(
                f"Likely between {band[0]:.0f} and {band[1]:.0f} years: 8 in 10 people's true age lies in their band"
                if np.isfinite(band).all() else "Too little clear evidence for a band" if uncertain else "")
            self.bars.set_data(dist, age, colour)
            self.sparkline.add(time_s, age, colour)
        self.sparkline.setVisible(trained)
        self.state_label.setText("not seen" if missed > 0 else "uncertain" if uncertain and trained else "")

    def set_selected(self, selected: bool) -> None:
        self.setLineWidth(2 if selected else 1)
        self.setStyleSheet("FaceRow { border: 2px solid palette(highlight); }" if selected else "")

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.clicked.emit(self.track_id)
        super().mousePressEvent(event)


class FacePanel(QScrollArea):
    """Rows for the tracks of the latest frame; a row goes when its track ends.
    Clicking a row selects that face (for the debug crops)."""

    selection_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: dict[int, FaceRow] = {}
        self.selected = -1
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._empty = QLabel("No faces in view")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setStyleSheet("color: gray; padding: 12px;")
        self._layout.addWidget(self._empty)
        self._layout.addStretch(1)
        self.setWidget(body)

    def show_report(self, report: FrameReport) -> None:
        faces = report.faces
        present = set()
        for i in range(len(faces)):
            tid = int(faces.track_ids[i])
            if tid < 0:
                continue
            present.add(tid)
            row = self.rows.get(tid) or self._add_row(tid)
            smoothed = faces.ages_smoothed[i]
            age = float(smoothed if np.isfinite(smoothed) else faces.ages[i])
            dist = faces.dists_smoothed[i] if np.isfinite(faces.dists_smoothed[i]).all() else faces.dists[i]
            row.show_face(age, dist, int(faces.missed[i]), report.time_s, report.trained,
                          (float(faces.ages_low[i]), float(faces.ages_high[i])), bool(faces.uncertain[i]))
        for tid in set(self.rows) - present:
            self.rows.pop(tid).deleteLater()
        self._empty.setVisible(not self.rows)
        if self.selected not in self.rows:
            self.select(min(self.rows) if self.rows else -1)

    def clear(self) -> None:
        for row in self.rows.values():
            row.deleteLater()
        self.rows.clear()
        self._empty.setVisible(True)
        self.select(-1)

    def select(self, track_id: int) -> None:
        self.selected = track_id
        for tid, row in self.rows.items():
            row.set_selected(tid == track_id)
        self.selection_changed.emit(track_id)

    def _add_row(self, track_id: int) -> FaceRow:
        row = FaceRow(track_id)
        row.clicked.connect(self.select)
        self._layout.insertWidget(self._layout.count() - 1, row)
        self.rows[track_id] = row
        return row


class CropsView(QWidget):
    """The three 64x64 crops the model sees for the selected face (debug view)."""

    SCALE = 2  # shown at 128 px so texture is visible

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Select a face")
        self.images: list[QLabel] = []
        row = QHBoxLayout()
        for scale in CROP_SCALES:
            box = QVBoxLayout()
            image = QLabel()
            image.setFixedSize(64 * self.SCALE, 64 * self.SCALE)
            image.setStyleSheet("background: #202020;")
            caption = QLabel(f"×{scale} face size")
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            box.addWidget(image)
            box.addWidget(caption)
            row.addLayout(box)
            self.images.append(image)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addStretch(1)

    def show_crops(self, track_id: int, crops: np.ndarray | None) -> None:
        """crops: (3, 64, 64, 3) RGB uint8, or None to keep the last ones greyed."""
        if crops is None:
            self.title.setText(f"Face #{track_id}: not detected in this frame" if track_id >= 0
                               else "Select a face")
            return
        self.title.setText(f"Face #{track_id}: model input")
        for label, crop in zip(self.images, crops):
            crop = np.ascontiguousarray(crop)
            h, w = crop.shape[:2]
            image = QImage(crop.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
            label.setPixmap(QPixmap.fromImage(image).scaled(label.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                            Qt.TransformationMode.FastTransformation))
