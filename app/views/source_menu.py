"""The Source menu: open a file or a network stream, reopen a recent one, or pick a camera.

Refilled each time it opens, so a camera plugged in meanwhile appears, and a
last file that was moved away does not.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QWidget

from app.views.cameras import list_cameras
from c3ae.source.address import is_stream


class SourceMenu(QMenu):
    source_chosen = Signal(object)  # camera index, file path or stream URL

    def __init__(self, open_action: QAction, quit_action: QAction, last_source: Callable[[], str],
                 parent: QWidget | None = None, recent_streams: Callable[[], list[str]] = list) -> None:
        super().__init__("&Source", parent)
        self._open_action, self._quit_action, self._last_source = open_action, quit_action, last_source
        self._recent_streams = recent_streams
        self.aboutToShow.connect(self.refill)
        self.refill()

    def refill(self) -> None:
        self.clear()
        self.addAction(self._open_action)
        self.addAction("Open network &stream…", self.ask_stream)
        last = self._last_source()
        if last and not last.isdigit() and Path(last).is_file():
            self.addAction(f"Reopen {Path(last).name}", lambda: self.source_chosen.emit(last))
        for url in self._recent_streams():
            self.addAction(f"Reopen {url}", lambda u=url: self.source_chosen.emit(u))
        self.addSection("Cameras")
        cameras = list_cameras()
        for cam in cameras:
            self.addAction(f"Camera {cam.index}: {cam.name}", lambda i=cam.index: self.source_chosen.emit(i))
        if not cameras:
            self.addAction("No cameras found").setEnabled(False)
        self.addSeparator()
        self.addAction(self._quit_action)

    def ask_stream(self) -> None:
        """Ask for a stream address (an IP camera's rtsp:// or http:// URL) and open it."""
        recent = self._recent_streams()
        url, ok = QInputDialog.getText(self.parentWidget(), "Open network stream",
                                       "Address (rtsp://, http:// or https://):", text=recent[0] if recent else "")
        url = url.strip()
        if not ok or not url:
            return
        if not is_stream(url):
            QMessageBox.warning(self.parentWidget(), "Open network stream",
                                f"{url} is not a stream address: it should start with rtsp://, http:// or https://")
            return
        self.source_chosen.emit(url)
