"""The main toolbar: the Source menu button, open, play, record (with its REC
indicator beside it while recording), snapshot and full screen."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QMenu, QStyle, QToolBar, QToolButton, QWidget

from app.recording.view import RecIndicator
from app.views.actions import WindowActions


class MainToolBar(QToolBar):
    def __init__(self, actions: WindowActions, source_menu: QMenu, parent: QWidget | None = None) -> None:
        super().__init__("Main", parent)
        self.setObjectName("main_toolbar")  # the window's saved state refers to it by name
        self.setIconSize(QSize(20, 20))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.source_button = QToolButton()
        self.source_button.setText("Source")
        self.source_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DriveNetIcon))
        self.source_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.source_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.source_button.setMenu(source_menu)
        self.rec_indicator = RecIndicator()
        self.addWidget(self.source_button)
        self.addAction(actions.open)
        self.addSeparator()
        self.addAction(actions.play)
        self.addAction(actions.record)
        self.rec_action = self.addWidget(self.rec_indicator)  # a toolbar widget hides through its action
        self.rec_action.setVisible(False)
        self.addAction(actions.snapshot)
        self.addSeparator()
        self.addAction(actions.fullscreen)

    def show_recording(self, on: bool) -> None:
        if on:
            self.rec_indicator.start()
        self.rec_action.setVisible(on)
