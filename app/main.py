"""`python main.py [--source 0|clip.mp4]`: start the desktop app."""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from app.settings import APPLICATION, ORGANIZATION, AppSettings
from app.window import MainWindow
from c3ae.options import DETECTORS, DEVICES
from c3ae.runtime.paths import DEFAULT_WEIGHTS

ICON = Path(__file__).resolve().parent.parent / "resources" / "icon.svg"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Real-time age estimation (C3AE) desktop app. "
                                     "`main.py annotate ...` annotates a video without a window.")
    parser.add_argument("--source", default="0", help="camera index (default 0) or a video file")
    parser.add_argument("--detector", choices=DETECTORS,
                        help="face detector range (default: short for cameras, full for files)")
    parser.add_argument("--device", choices=DEVICES, help="inference device (default: auto)")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="TorchScript C3AE weights")
    return parser


def launch_options(args: argparse.Namespace) -> dict[str, str]:
    """The processing options given on the command line: for this launch only."""
    return {k: v for k, v in (("detector", args.detector), ("device", args.device)) if v}


def app_icon() -> QIcon:
    return QIcon(str(ICON))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # fractional scale factors (125 %, 150 %) as the screen asks, instead of rounding
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("C3AE Age Estimation")
    app.setDesktopFileName("c3ae-age")
    app.setWindowIcon(app_icon())

    settings = AppSettings()
    settings.override_for_this_launch(**launch_options(args))
    window = MainWindow(settings, weights=args.weights)
    window.show()
    window.open_source(args.source)
    close_on_signals(window)
    return app.exec()


def close_on_signals(window: MainWindow) -> None:
    """Ctrl+C or a kill from the terminal closes the window the normal way, so a
    recording in progress is finalised. Python only runs signal handlers between
    bytecodes, so an idle timer gives it the chance while Qt's loop is waiting."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: window.close())
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)
