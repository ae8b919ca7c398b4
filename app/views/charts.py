"""Small painted charts for the face panel: the 12-bin age distribution and
an age-over-time sparkline. Painted with QPainter so they scale with HiDPI
and cost nothing when hidden."""
from __future__ import annotations

from collections import deque

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from c3ae.twopoint import BINS


class BarChart(QWidget):
    """The two-point distribution over the age bins (0, 10, ... 110), with the
    estimated age marked; blank (with a reason) when there is nothing to show."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dist: np.ndarray | None = None
        self._age = float("nan")
        self._colour = QColor("#4aa3df")
        self._note = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(72)

    def sizeHint(self) -> QSize:
        return QSize(220, 72)

    def set_data(self, dist: np.ndarray | None, age: float, colour: QColor, note: str = "") -> None:
        self._dist = dist if dist is not None and np.isfinite(dist).all() else None
        self._age, self._colour, self._note = age, colour, note
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_h = self.fontMetrics().height()
        area = QRectF(self.rect()).adjusted(2, 2, -2, -text_h - 2)
        p.fillRect(self.rect(), self.palette().base())
        if self._dist is None:
            p.setPen(self.palette().placeholderText().color())
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._note or "no estimate yet")
            return
        n = len(self._dist)
        slot = area.width() / n
        peak = max(float(self._dist.max()), 1e-6)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._colour)
        for k, v in enumerate(self._dist):
            h = area.height() * float(v) / peak
            p.drawRect(QRectF(area.left() + k * slot + 1, area.bottom() - h, slot - 2, h))
        p.setPen(self.palette().text().color())
        for k in range(0, n, 2):  # every other bin label keeps them legible when narrow
            rect = QRectF(area.left() + k * slot - slot / 2, area.bottom() + 1, 2 * slot, text_h)
            p.drawText(rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, f"{int(BINS[k])}")
        if np.isfinite(self._age):  # the age between bins, as the two-point code places it
            x = area.left() + (self._age - BINS[0]) / (BINS[1] - BINS[0]) * slot + slot / 2
            p.setPen(QPen(self.palette().text().color(), 1.5, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))


class Sparkline(QWidget):
    """Smoothed age over the last `window_s` seconds of a track."""

    def __init__(self, window_s: float = 20.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_s = window_s
        self._points: deque[tuple[float, float]] = deque()
        self._colour = QColor("#4aa3df")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(28)

    def sizeHint(self) -> QSize:
        return QSize(220, 28)

    def add(self, time_s: float, age: float, colour: QColor) -> None:
        self._colour = colour
        if self._points and time_s < self._points[-1][0]:  # a seek back: start afresh
            self._points.clear()
        if np.isfinite(age):
            self._points.append((time_s, age))
        while self._points and self._points[0][0] < time_s - self.window_s:
            self._points.popleft()
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), self.palette().base())
        if len(self._points) < 2:
            return
        t = np.array([q[0] for q in self._points])
        a = np.array([q[1] for q in self._points])
        lo, hi = float(a.min()) - 2, float(a.max()) + 2  # +-2 years keeps a steady age flat, not noisy
        area = QRectF(self.rect()).adjusted(3, 3, -3, -3)
        span = max(t[-1] - t[0], 1e-6)
        xs = area.left() + (t - t[0]) / span * area.width()
        ys = area.bottom() - (a - lo) / (hi - lo) * area.height()
        path = QPainterPath(QPointF(xs[0], ys[0]))
        for x, y in zip(xs[1:], ys[1:]):
            path.lineTo(x, y)
        p.setPen(QPen(self._colour, 1.5))
        p.drawPath(path)
        p.setBrush(self._colour)
        p.drawEllipse(QPointF(xs[-1], ys[-1]), 2.5, 2.5)
