import csv
import json

import numpy as np
import pytest
from synth import count_frames, face_clip_frames, real_faces, write_clip

from c3ae.cli.annotate import main
from c3ae.sink.results_log import COLUMNS


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_clip_with_two_real_faces(tmp_path, capsys):
    clip = write_clip(tmp_path / "in.mp4", face_clip_frames(real_faces(2), n=20), fps=24)
    out, csv_path, json_path = tmp_path / "out.mp4", tmp_path / "out.csv", tmp_path / "out.json"
    code = main([str(clip), "-o", str(out), "--csv", str(csv_path), "--json", str(json_path), "--device", "cpu"])
    assert code == 0
    assert count_frames(out) == (20, 24.0)
    rows = _rows(csv_path)
    assert list(rows[0].keys()) == COLUMNS
    per_frame = {}
    for r in rows:
        per_frame.setdefault(int(r["frame"]), set()).add(int(r["track_id"]))
        assert 0 < float(r["w"]) < 640
        if r["detected"] == "0":  # not detected on this frame (the schedule skipped it): no estimate of its own
            assert r["age"] == r["p0"] == r["score"] == ""
            continue
        probs = np.array([float(r[c]) for c in COLUMNS if c.startswith("p")])
        assert probs.sum() == pytest.approx(1.0, abs=1e-3)
        assert 0 <= float(r["age"]) <= 110
    assert len(per_frame) >= 18  # nearly every frame has both faces
    assert set().union(*per_frame.values()) == {1, 2}  # two people, two stable IDs
    data = json.loads(json_path.read_text())
    assert len(data["frames"]) == 20
    assert "20 frames" in capsys.readouterr().out


def test_faceless_clip_keeps_frame_count_and_writes_a_header(tmp_path):
    frames = [np.full((360, 640, 3), 40 + 5 * i, np.uint8) for i in range(15)]
    clip = write_clip(tmp_path / "in.mp4", frames, fps=30)
    out, csv_path = tmp_path / "out.mp4", tmp_path / "out.csv"
    assert main([str(clip), "-o", str(out), "--csv", str(csv_path), "--detector", "short"]) == 0
    assert count_frames(out) == (15, 30.0)
    assert csv_path.read_text().splitlines() == [",".join(COLUMNS)]


def test_unreadable_input_is_a_message_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"garbage" * 50)
    assert main([str(bad), "-o", str(tmp_path / "o.mp4")]) == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()


def test_disk_filling_up_stops_cleanly_with_a_playable_file(tmp_path, monkeypatch, capsys):
    import shutil
    from collections import namedtuple

    frames = [np.full((240, 320, 3), 3 * i, np.uint8) for i in range(45)]
    clip = write_clip(tmp_path / "in.mp4", frames, fps=30)
    usage = namedtuple("usage", "total used free")
    calls = {"n": 0}

    def shrinking_disk(path):
        calls["n"] += 1
        return usage(10**9, 0, 10**9 if calls["n"] <= 2 else 2**20)  # full from the check at frame 30

    monkeypatch.setattr(shutil, "disk_usage", shrinking_disk)
    out = tmp_path / "out.mp4"
    assert main([str(clip), "-o", str(out), "--detector", "short"]) == 2
    assert "frames are saved" in capsys.readouterr().err
    assert count_frames(out)[0] == 30  # every frame up to the failed space check, playable
