"""A coloured line above the video for what must not be missed: it stays until
the situation ends or, when dismissable, until the user closes it (status-bar
messages time out, and a failed recording must not go unnoticed)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget


class Banner(QFrame):
    def __init__(self, colour: str, dismissable: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(f"Banner {{ background:{colour}; }} QLabel, QToolButton {{ color:white; }}")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet("padding:6px 10px; font-weight:bold;")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(self.label, 1)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        self.close_button.setVisible(dismissable)
        layout.addWidget(self.close_button)
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()
