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
