"""The sink: playable H.264 that survives being cut off, CSV in step, paths checked first."""
import csv
import os
import shutil
from collections import namedtuple
from pathlib import Path

import cv2
import numpy as np
import pytest
from synth import count_frames, make_faces

from c3ae.errors import OutputExists, RecordingError
from c3ae.results import FrameResult
from c3ae.sink import writer as sink_module
from c3ae.sink.writer import ResultsSink, check_output

usage = namedtuple("usage", "total used free")


def _frames(n, w=320, h=240):
    return [np.full((h, w, 3), (i * 20) % 250, np.uint8) for i in range(n)]


def _write(sink, frames, faces=None):
    for i, f in enumerate(frames):
        sink.write(FrameResult(f, faces if faces is not None else make_faces([]), i, i / 25))


def test_writes_playable_h264(tmp_path):
    path = tmp_path / "rec.mp4"
    with ResultsSink(path, 25, (320, 240)) as sink:
        _write(sink, _frames(17))
    assert count_frames(path) == (17, 25.0)
    cap = cv2.VideoCapture(str(path))
    assert int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little") in (b"avc1", b"h264")
    cap.release()


def test_odd_frame_size_is_cropped_to_even(tmp_path):
    path = tmp_path / "odd.mp4"
    with ResultsSink(path, 25, (321, 241)) as sink:
        _write(sink, _frames(3, 321, 241))
    cap = cv2.VideoCapture(str(path))
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (320, 240)
    cap.release()


def test_unclosed_file_holds_every_complete_second_and_csv_agrees(tmp_path):
    """What a killed process leaves: the file as it is on disk, never closed."""
    path, csv_path = tmp_path / "cut.mp4", tmp_path / "cut.csv"
    sink = ResultsSink(path, 25, (320, 240), csv_path=csv_path)
    _write(sink, _frames(70), make_faces([(10, 10, 60, 60)]))
    shutil.copy(path, tmp_path / "copy.mp4")
    shutil.copy(csv_path, tmp_path / "copy.csv")
    sink.close()
    with open(tmp_path / "copy.csv", newline="") as f:
        csv_frames = {int(r["frame"]) for r in csv.DictReader(f)}
    assert count_frames(tmp_path / "copy.mp4")[0] == 50 == len(csv_frames)  # two whole seconds
    assert count_frames(path)[0] == 70


def test_falls_back_to_mp4v_with_a_note(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sink_module, "h264_encoder", lambda: None)
    path = tmp_path / "old.mp4"
    with ResultsSink(path, 25, (320, 240)) as sink:
        _write(sink, _frames(5))
    assert "no H.264 encoder" in capsys.readouterr().err
    assert count_frames(path) == (5, 25.0)


def test_disk_nearly_full_stops_and_keeps_a_playable_file(tmp_path, monkeypatch):
    path = tmp_path / "rec.mp4"
    sink = ResultsSink(path, 25, (320, 240))
    _write(sink, _frames(30))
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9, 10 * 2**20))
    with pytest.raises(RecordingError, match="30 frames are saved"):
        _write(sink, _frames(30))
    assert count_frames(path)[0] == 30


def test_no_space_at_start_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sink_module.shutil, "disk_usage", lambda p: usage(10**9, 10**9, 0))
    with pytest.raises(RecordingError, match="free disk space"):
        ResultsSink(tmp_path / "x.mp4", 25, (320, 240))
    assert not any(tmp_path.iterdir())


def test_no_frames_leaves_no_files(tmp_path):
    ResultsSink(tmp_path / "x.mp4", 25, (320, 240), csv_path=tmp_path / "x.csv").close()
    assert not any(tmp_path.iterdir())


def test_paths_are_checked_for_the_real_problem(tmp_path):
    source = tmp_path / "in.mp4"
    source.write_bytes(b"video")
    (tmp_path / "link.mp4").symlink_to(source)
    os.link(source, tmp_path / "hard.mp4")
    for same in ("in.mp4", "link.mp4", "hard.mp4"):
        with pytest.raises(RecordingError, match="same file"):
            check_output(tmp_path / same, inputs=[source], overwrite=True)
    with pytest.raises(OutputExists):
        check_output(source, overwrite=False)
    with pytest.raises(RecordingError, match="does not exist"):
        check_output(tmp_path / "nope" / "o.mp4")
    with pytest.raises(RecordingError, match="is a folder"):
        check_output(tmp_path)
    with pytest.raises(RecordingError, match="not a regular file"):
        check_output(Path("/dev/null"), overwrite=True)
    assert source.read_bytes() == b"video"
