"""What the window shows when there is no video: why, and what to do next.

Never a black box: it says what happened (no camera, file not found, model
missing) and offers the ways out: open a file, pick a camera it found, or
reopen the last file.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.views.cameras import Camera


class EmptyState(QWidget):
    open_file_requested = Signal()
    camera_requested = Signal(int)
    reopen_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("No video source")
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.title.setFont(font)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open video file…")
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.open_file_requested)
        self.reopen_button = QPushButton()
        self.reopen_button.clicked.connect(lambda: self.reopen_requested.emit(self._last))
        self.cameras_title = QLabel("Cameras")
        self.cameras_title.setStyleSheet("font-weight: bold; margin-top: 12px;")
        self.no_cameras = QLabel("No cameras found. Connect one, or open a video file.")
        self.no_cameras.setStyleSheet("color: gray;")
        self._camera_box = QVBoxLayout()
        self.hint = QLabel("Tip: drop a video file onto this window.")
        self.hint.setStyleSheet("color: gray; margin-top: 12px;")
        self._last = ""

        column = QWidget()
        column.setMaximumWidth(560)
        layout = QVBoxLayout(column)
        for w in (self.title, self.detail, self.open_button, self.reopen_button, self.cameras_title,
                  self.no_cameras):
            layout.addWidget(w)
        layout.addLayout(self._camera_box)
        layout.addWidget(self.hint)
        centred = QHBoxLayout()  # stretches, not alignment, so the wrapped text gets its full height
        centred.addStretch(1)
        centred.addWidget(column, 2)
        centred.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(centred)
        outer.addStretch(2)
        self.set_last_source("")

    def set_message(self, title: str, detail: str = "") -> None:
        self.title.setText(title)
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))

    def set_cameras(self, cameras: list[Camera]) -> None:
        while self._camera_box.count():
            self._camera_box.takeAt(0).widget().deleteLater()
        for cam in cameras:
            button = QPushButton(f"Camera {cam.index}: {cam.name}")
            button.clicked.connect(lambda _=False, i=cam.index: self.camera_requested.emit(i))
            self._camera_box.addWidget(button)
        self.no_cameras.setVisible(not cameras)

    def set_last_source(self, source: str) -> None:
        """Offer to reopen the last video file, when it still exists."""
        self._last = source
        usable = bool(source) and not source.isdigit() and Path(source).is_file()
        self.reopen_button.setText(f"Reopen {Path(source).name}" if usable else "")
        self.reopen_button.setVisible(usable)
