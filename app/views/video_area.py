"""The central area: banners on top, the video or (without one) the empty state
saying why, and the transport bar while a file is open."""
from __future__ import annotations

from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from app.views.actions import WindowActions
from app.views.banner import Banner
from app.views.cameras import Camera
from app.views.controls import TransportBar
from app.views.empty_state import EmptyState
from app.views.video_view import VideoView
from app.worker.messages import FrameReport, SourceInfo


class VideoArea(QWidget):
    def __init__(self, actions: WindowActions, loop: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = Banner("#b00020")  # the model cannot give ages: stays while that is so
        self.notice = Banner("#9a4a00", dismissable=True)  # a failed recording, a truncated file: until closed
        self.video = VideoView()
        self.empty = EmptyState()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.video)
        self.transport = TransportBar(actions.play, actions.step_back, actions.step_forward, loop)
        self.transport.set_source(None)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        for widget, stretch in ((self.banner, 0), (self.notice, 0), (self.stack, 1), (self.transport, 0)):
            column.addWidget(widget, stretch)

    def show_message(self, title: str, detail: str, cameras: list[Camera], last_source: str,
                     can_open: bool = True) -> None:
        """No video to show: say why, and offer the ways out (a file, a camera, the last file)."""
        self.transport.set_source(None)
        self.empty.set_message(title, detail)
        self.empty.open_button.setEnabled(can_open)
        self.empty.set_cameras(cameras)
        self.empty.set_last_source(last_source)
        self.stack.setCurrentWidget(self.empty)

    def show_source(self, info: SourceInfo) -> None:
        self.stack.setCurrentWidget(self.video)
        self.video.set_image(None)
        self.transport.set_source(info)

    def show_frame(self, report: FrameReport) -> None:
        self.video.set_image(report.image)
        self.transport.show_position(report.index)
