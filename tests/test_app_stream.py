"""Network streams in the app: the Source menu asks for an address and keeps
recent ones; a stream is read latest-frame-wins and its gaps are reported."""
from __future__ import annotations

import time

from PySide6.QtCore import QSettings
from streaming import ClipServer
from test_stream import _cut_in_second_fragment, _fragmented_clip

import app.views.source_menu
from app.settings import RECENT_STREAMS, AppSettings
from app.views.source_menu import SourceMenu
from app.worker.capture import Capture


def _settings(tmp_path) -> AppSettings:
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def test_recent_streams_newest_first_without_files(tmp_path):
    settings = _settings(tmp_path)
    for i in range(RECENT_STREAMS + 2):
        settings.last_source = f"rtsp://10.0.0.{i}/live"
    settings.last_source = str(tmp_path / "clip.mp4")
    settings.last_source = "rtsp://10.0.0.3/live"
    recent = settings.recent_streams
    assert recent[0] == "rtsp://10.0.0.3/live" and len(recent) == RECENT_STREAMS
    assert recent.count("rtsp://10.0.0.3/live") == 1 and all(u.startswith("rtsp://") for u in recent)
    assert _settings(tmp_path).recent_streams == recent  # remembered across runs


def test_source_menu_opens_a_network_stream(qtbot, monkeypatch):
    from PySide6.QtGui import QAction

    chosen = []
    menu = SourceMenu(QAction("Open…"), QAction("Quit"), lambda: "", recent_streams=lambda: ["http://cam/video"])
    menu.source_chosen.connect(chosen.append)
    texts = [a.text() for a in menu.actions()]
    assert "Open network &stream…" in texts and "Reopen http://cam/video" in texts
    monkeypatch.setattr(app.views.source_menu.QInputDialog, "getText", lambda *a, **k: (" rtsp://10.0.0.9/live ", True))
    menu.ask_stream()
    warned = []
    monkeypatch.setattr(app.views.source_menu.QMessageBox, "warning", lambda *a: warned.append(a[2]))
    monkeypatch.setattr(app.views.source_menu.QInputDialog, "getText", lambda *a, **k: ("clip.mp4", True))
    menu.ask_stream()
    assert chosen == ["rtsp://10.0.0.9/live"] and "not a stream address" in warned[0]


def test_stream_capture_is_latest_frame_wins_and_reports_its_gap(tmp_path):
    body = _fragmented_clip(tmp_path / "clip.mp4")
    with ClipServer(body, drops=1, cut_at=_cut_in_second_fragment(body), whole=1) as server:
        capture = Capture(server.url)
        try:
            assert capture.is_camera  # live: no seeking, newest frame only
            notices, frames, deadline = [], 0, time.monotonic() + 20
            while time.monotonic() < deadline and not any("gap" in n for n in notices):
                frames += capture.read() is not None
                notices += capture.notices()
                time.sleep(0.005)
        finally:
            capture.close()  # its reader thread stops even when an assertion fails
    assert frames > 0 and any("dropped after frame" in n for n in notices) and any("gap" in n for n in notices)
