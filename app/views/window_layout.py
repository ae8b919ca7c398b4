"""The window's size, position and dock layout between runs.

Restored from the settings when they hold a usable layout; otherwise the first
start gets a size that fits the screen and docks sized for what they show.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow

from app.settings import AppSettings


def restore_layout(window: QMainWindow, settings: AppSettings, faces: QDockWidget, options: QDockWidget,
                   crops: QDockWidget) -> None:
    geometry, state = settings.geometry(), settings.window_state()
    if geometry is None or not window.restoreGeometry(geometry):
        screen = window.screen() or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        window.resize(QSize(min(int(area.width() * 0.8), 1600), min(int(area.height() * 0.85), 1000)))
        window.move(area.center() - window.rect().center())
    if state is not None:
        window.restoreState(state)
    else:  # first start: the face rows get the height, settings only what they need
        window.resizeDocks([faces, options, crops], [520, 260, 220], Qt.Orientation.Vertical)
        window.resizeDocks([faces], [380], Qt.Orientation.Horizontal)


def save_layout(window: QMainWindow, settings: AppSettings) -> None:
    settings.save_window(window.saveGeometry(), window.saveState())
