"""The Source menu: open a file, reopen the last one, or pick a camera.

Refilled each time it opens, so a camera plugged in meanwhile appears, and a
last file that was moved away does not.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from .cameras import list_cameras


class SourceMenu(QMenu):
    source_chosen = Signal(object)  # camera index or file path

    def __init__(self, open_action: QAction, quit_action: QAction, last_source: Callable[[], str],
                 parent: QWidget | None = None) -> None:
        super().__init__("&Source", parent)
        self._open_action, self._quit_action, self._last_source = open_action, quit_action, last_source
        self.aboutToShow.connect(self.refill)
        self.refill()

    def refill(self) -> None:
        self.clear()
        self.addAction(self._open_action)
        last = self._last_source()
        if last and not last.isdigit() and Path(last).is_file():
            self.addAction(f"Reopen {Path(last).name}", lambda: self.source_chosen.emit(last))
        self.addSection("Cameras")
        cameras = list_cameras()
        for cam in cameras:
            self.addAction(f"Camera {cam.index}: {cam.name}", lambda i=cam.index: self.source_chosen.emit(i))
        if not cameras:
            self.addAction("No cameras found").setEnabled(False)
        self.addSeparator()
        self.addAction(self._quit_action)
