"""Whether a source is a network address: a light module (no OpenCV), so the
command line and the window can tell before the video stack loads."""
from __future__ import annotations

import re

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")


def is_stream(source: str | int) -> bool:
    """True for a network address such as rtsp://host/path or http://host:8080/video."""
    match = re.match(r"^([a-z][a-z0-9+.-]*)://", str(source).strip(), re.IGNORECASE)
    return match is not None and match.group(1).lower() in STREAM_SCHEMES
