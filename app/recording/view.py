"""How the window shows a recording: the record icon, the REC indicator, and
what a failed recording left on disk (said in words, so nothing is lost silently)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QRect, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QWidget

from app.views.controls import format_time


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


class RecIndicator(QLabel):
    """'● REC 00:12.3 · 370 frames' in the toolbar while recording."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet("color:#d62828; font-weight:bold; padding:0 8px;")
        self._clock = QElapsedTimer()

    def start(self) -> None:
        self._clock.start()
        self.setText("● REC 00:00.0")

    def show_frames(self, frames: int) -> None:
        self.setText(f"● REC {format_time(self._clock.elapsed() / 1000)} · {frames} frames")


def failure_text(path: str, error: str) -> str:
    """What the user must know after a recording failed: which files are on disk
    (looked up, not assumed; the sink's error says how many frames they hold), and why."""
    if not path:
        return f"Recording could not start, nothing was saved. Reason: {error}"
    video = Path(path)
    kept = [p.name for p in (video, video.with_suffix(".csv")) if p.is_file()]
    saved = f"Saved in {video.parent}: {' and '.join(kept)}" if kept else "Nothing was saved"
    return f"Recording stopped. {saved}. Reason: {error}"
