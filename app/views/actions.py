"""The window's commands as QActions: text, shortcuts, icon, tooltip, and which
are enabled for the current source.

The window connects their signals; menus, toolbar, transport bar and the
shortcut list all show these same objects, so a command looks and behaves
the same wherever it appears. Each action is added to the window, so its
shortcut works in full screen too, with the menus hidden.
"""
from __future__ import annotations

from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget

from app.recording.view import record_icon
from app.worker.messages import SourceInfo

Key = QKeySequence.StandardKey


class WindowActions:
    def __init__(self, window: QWidget) -> None:
        self._window = window
        icon, sp = window.style().standardIcon, QStyle.StandardPixmap
        self.open = self._make("Open video file…", ["O", Key.Open], icon(sp.SP_DialogOpenButton))
        self.play = self._make("Play", ["Space"], icon(sp.SP_MediaPlay), checkable=True, tip="Play / pause")
        self.step_back = self._make("Previous frame", [","], icon(sp.SP_MediaSeekBackward))
        self.step_forward = self._make("Next frame", ["."], icon(sp.SP_MediaSeekForward))
        self.record = self._make("Record", ["R"], record_icon(), checkable=True, tip="Record the annotated video")
        self.snapshot = self._make("Snapshot", ["S"], icon(sp.SP_DialogSaveButton),
                                   tip="Save the annotated frame as PNG")
        self.people = self._make("Export people…", ["P"], tip="Save one row per person seen so far (CSV)")
        self.fullscreen = self._make("Full screen", ["F"], icon(sp.SP_TitleBarMaxButton), checkable=True)
        self.debug = self._make("Debug view: model crops", ["D"], checkable=True,
                                tip="Show the three crops the model sees for the selected face")
        self.shortcuts = self._make("Keyboard shortcuts", [Key.HelpContents])
        self.about = self._make("About C3AE Age Estimation", [])
        self.quit = self._make("Quit", [Key.Quit])
        self.play.toggled.connect(self.show_play_state)
        self.show_play_state(False)
        self.set_source(None)

    def _make(self, text: str, shortcuts: list, icon: QIcon | None = None, checkable: bool = False,
              tip: str = "") -> QAction:
        action = QAction(text, self._window)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setCheckable(checkable)
        if icon is not None:
            action.setIcon(icon)
        keys = ", ".join(QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText) for s in shortcuts)
        action.setToolTip(f"{tip or text} ({keys})" if keys else (tip or text))
        action.setStatusTip(tip or text)  # also the shortcut list's description
        self._window.addAction(action)
        return action

    def show_play_state(self, playing: bool) -> None:
        """Play shows what a click will do: pause while playing, play while paused."""
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play.setIcon(self._window.style().standardIcon(icon))
        self.play.setText("Pause" if playing else "Play")

    def set_source(self, info: SourceInfo | None) -> None:
        """Enable what the source allows: nothing without one, no frame steps for a camera."""
        is_file = info is not None and not info.is_camera
        for action in (self.play, self.record, self.snapshot, self.people):
            action.setEnabled(info is not None)
        for action in (self.step_back, self.step_forward):
            action.setEnabled(is_file)

    @staticmethod
    def set_checked(action: QAction, checked: bool) -> None:
        """Show a state the worker reports without emitting it back as a request."""
        action.blockSignals(True)
        action.setChecked(checked)
        action.blockSignals(False)
