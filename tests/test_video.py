import threading

import numpy as np
import pytest
from synth import write_clip

from c3ae.errors import SourceError
from c3ae.source.video import VideoSource


def _frames(n, w=320, h=240):
    return [np.full((h, w, 3), (i * 20) % 250, np.uint8) for i in range(n)]


def test_source_reads_every_frame_and_seeks(tmp_path):
    path = write_clip(tmp_path / "clip.mp4", _frames(12), fps=20)
    src = VideoSource(str(path))
    assert src.fps == 20 and src.frame_count == 12 and not src.is_camera and src.size == (320, 240)
    frames = []
    while (f := src.read()) is not None:
        frames.append(f)
    assert len(frames) == 12
    src.seek(5)
    assert src.position == 5
    assert abs(int(src.read()[0, 0, 0]) - 100) <= 8  # frame 5; its neighbours are 80 and 120
    src.release()


def test_missing_and_corrupt_files_are_clear_errors(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        VideoSource(str(tmp_path / "nope.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(SourceError):
        VideoSource(str(junk))


def test_missing_camera_is_a_clear_error():
    with pytest.raises(SourceError, match="camera 97"):
        VideoSource(97)


class _BlockingCapture:
    """Stands in for a capture whose read blocks (a stalled stream): notes whether
    it was released while a read was in progress."""

    def __init__(self) -> None:
        self.reading, self.go = threading.Event(), threading.Event()
        self.in_read = self.released_mid_read = False

    def read(self):
        self.in_read = True
        self.reading.set()
        self.go.wait(10)
        self.in_read = False
        return False, None

    def release(self) -> None:
        self.released_mid_read |= self.in_read


def test_release_on_another_thread_waits_for_the_read_in_progress(tmp_path):
    """Freeing the native capture under a read is a crash or a hang; a stop
    (Ctrl+C, --duration, the app closing a stream) releases from another thread."""
    src = VideoSource(str(write_clip(tmp_path / "clip.mp4", _frames(3))))
    src.read()  # the first frame, read when opening
    src._cap.release()
    src._cap = blocking = _BlockingCapture()
    results = []
    reader = threading.Thread(target=lambda: results.append(src.read()), name="reader")
    closer = threading.Thread(target=src.release, name="closer")
    try:
        reader.start()
        assert blocking.reading.wait(5)
        closer.start()
        closer.join(0.3)
        assert closer.is_alive()  # waiting for the read
    finally:
        blocking.go.set()
        reader.join(5)
        closer.join(5)
    assert results == [None] and not blocking.released_mid_read and not closer.is_alive()
