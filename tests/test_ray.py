"""--ray local: the same files as a local run, fanned out as Ray tasks on 2 CPUs."""
from __future__ import annotations

import csv
import os
import signal

import pytest
from synth import count_frames, face_clip_frames, real_faces, write_clip
from test_batch_stop import Run, check_stopped, write_inputs

from c3ae.cli.annotate import main

pytest.importorskip("ray", reason="ray is not installed (requirements.txt pins it)")


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_ray_local_matches_a_local_run(tmp_path, capsys):
    faces = real_faces(2)
    folder = tmp_path / "in"
    folder.mkdir()
    write_clip(folder / "one.mp4", face_clip_frames(faces, n=6, size=(480, 270), face_h=150), fps=25)
    write_clip(folder / "two.mp4", face_clip_frames(faces[::-1], n=5, size=(480, 270), face_h=150), fps=25)
    local, ray_out = tmp_path / "local", tmp_path / "ray"
    assert main([str(folder), "-o", str(local), "--workers", "1", "--device", "cpu"]) == 0
    code = main([str(folder), "-o", str(ray_out), "--ray", "local", "--device", "cpu"])
    err = capsys.readouterr().err
    if code != 0 and "Ray could not start" in err:
        pytest.skip(err.strip().splitlines()[-1])
    assert code == 0, err
    for stem, n in (("one", 6), ("two", 5)):
        assert count_frames(ray_out / f"{stem}.mp4") == count_frames(local / f"{stem}.mp4") == (n, 25.0)
        assert _rows(ray_out / f"{stem}.csv") == _rows(local / f"{stem}.csv")
        assert _rows(ray_out / f"{stem}.tracks.csv") == _rows(local / f"{stem}.tracks.csv")
        assert len(_rows(local / f"{stem}.csv")) >= 2 * n - 2  # both faces, nearly every frame
    keep = ("input", "status", "frames", "faces", "people")
    assert ([{k: r[k] for k in keep} for r in _rows(ray_out / "summary.csv")]
            == [{k: r[k] for k in keep} for r in _rows(local / "summary.csv")])


@pytest.mark.parametrize("group", [True, False], ids=["Ctrl+C to the group", "SIGTERM to the main pid"])
def test_ray_local_stops_every_task_and_shuts_down(tmp_path, group):
    (tmp_path / "in").mkdir()
    annotate = Run(write_inputs(tmp_path / "in"), tmp_path / "out", "--ray", "local")
    try:
        try:
            annotate.wait_for_two_files_in_progress()
        except AssertionError:
            if "Ray could not start" in annotate.stderr():
                pytest.skip(annotate.stderr().strip().splitlines()[-1])
            raise
        if group:
            os.killpg(annotate.process.pid, signal.SIGINT)
        else:
            os.kill(annotate.process.pid, signal.SIGTERM)
        check_stopped(annotate, 130 if group else 143)  # running tasks report their frames; Ray's processes end
    finally:
        annotate.close()
