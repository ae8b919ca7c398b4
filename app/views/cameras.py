"""The cameras this machine has, for the source menu and the empty state.

Names come from Qt's media devices when the QtMultimedia module is installed
(it ships in PySide6-Addons, not in PySide6-Essentials); otherwise, on Linux,
from the V4L2 device names in sysfs. The position in the list is the index
OpenCV opens, which matches the /dev/videoN order on Linux.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

V4L2_SYSFS = Path("/sys/class/video4linux")


@dataclass(frozen=True)
class Camera:
    index: int  # what VideoSource / OpenCV opens
    name: str


def _qt_cameras() -> list[Camera] | None:
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return None
    return [Camera(i, d.description()) for i, d in enumerate(QMediaDevices.videoInputs())]


def _v4l2_cameras(root: Path = V4L2_SYSFS) -> list[Camera]:
    cameras = []
    for node in sorted(root.glob("video*"), key=lambda p: int(re.sub(r"\D", "", p.name) or 0)):
        index_file = node / "index"  # a camera exposes several nodes; index 0 is the capture one
        if index_file.is_file() and index_file.read_text().strip() != "0":
            continue
        name_file = node / "name"
        name = name_file.read_text().strip() if name_file.is_file() else node.name
        cameras.append(Camera(int(re.sub(r"\D", "", node.name)), name))
    return cameras


def list_cameras() -> list[Camera]:
    """Cameras found now (cheap enough to call whenever a menu opens)."""
    cameras = _qt_cameras()
    return cameras if cameras is not None else _v4l2_cameras()
