"""The status bar's figures: processing and display FPS, stage times, device, faces, UI stalls.

Refreshed by the window on a timer, not per frame, so a fast source cannot
flood the GUI thread with text layout. While playback is paused the FPS is
said to be paused instead of showing the last figure, which would go stale.
"""
from __future__ import annotations

import time

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.views.stall import StallMeter
from app.worker.messages import FrameReport

ERROR_MS = 15000


class StatusBar(QStatusBar):
    """Permanent labels on the right, transient messages on the left."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fps_label = QLabel("FPS –")
        self.latency_label = QLabel("detect – · infer – · draw –")
        self.device_label = QLabel("device –")
        self.faces_label = QLabel("0 faces")
        self.stall_label = QLabel()
        for label in (self.stall_label, self.fps_label, self.latency_label, self.device_label, self.faces_label):
            label.setContentsMargins(6, 0, 6, 0)
            self.addPermanentWidget(label)
        self.stall_meter = StallMeter(parent=self)
        self.display_fps = 0.0
        self._shown = 0  # frames painted since the last refresh
        self._shown_since = time.perf_counter()

    def frame_shown(self) -> None:
        """Count a painted frame for the 'shown' rate."""
        self._shown += 1

    def set_device(self, device: str) -> None:
        self.device_label.setText(f"device {device.upper()}")

    def set_debug(self, on: bool) -> None:
        """The UI stall figure is a debugging aid: measured and shown only in debug mode."""
        self.stall_label.setVisible(on)
        self.stall_meter.start() if on else self.stall_meter.stop()

    def show_error(self, message: str) -> None:
        self.showMessage(message, ERROR_MS)
        self.setToolTip(message)

    def refresh(self, report: FrameReport | None, playing: bool) -> None:
        """Show the latest report (None: no source) and the rate frames were painted at."""
        now = time.perf_counter()
        rate = self._shown / max(now - self._shown_since, 1e-6)
        if not playing:  # nothing is painted while paused: start afresh on resume
            self.display_fps = 0.0
        else:
            self.display_fps = rate if self.display_fps == 0 else 0.5 * (self.display_fps + rate)
        self._shown, self._shown_since = 0, now
        if report is not None:
            t = report.timings
            self.fps_label.setText(f"FPS {report.fps:.1f} (shown {self.display_fps:.1f})" if playing
                                   else "FPS – (paused)")
            self.latency_label.setText(f"detect {t.get('detect', 0):.1f} ms · "
                                       f"infer {t.get('crop', 0) + t.get('infer', 0):.1f} ms · "
                                       f"draw {t.get('draw', 0):.1f} ms")
            self.latency_label.setToolTip(" · ".join(f"{k} {v:.2f} ms" for k, v in t.items()))
            # every face drawn, not only those detected on this very frame: the detector skips
            # frames while the tracks carry their faces, and the count would flicker to 0 there
            shown, detected = len(report.faces), int((report.faces.missed == 0).sum())
            self.faces_label.setText(f"{shown} face{'s' if shown != 1 else ''}")
            self.faces_label.setToolTip(f"{detected} detected on this frame, {shown - detected} carried by "
                                        f"their tracks")
        if self.stall_meter.ticks:
            self.stall_label.setText(f"UI stall max {self.stall_meter.max_stall_ms:.0f} ms")

    def stop(self) -> None:
        self.stall_meter.stop()
