"""The per-frame JSON is streamed like the CSV: memory stays flat however long
the run, and a killed run leaves a valid document holding the frames its video holds."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from synth import count_frames, make_faces, write_clip

from c3ae.sink.results_log import COLUMNS, TRACK_COLUMNS, ResultsLog, add_tracks_to_json

ROOT = Path(__file__).resolve().parents[1]


def test_json_rows_leave_memory_once_flushed_and_the_file_is_the_same(tmp_path):
    faces = make_faces([(10, 10, 60, 70), (100, 20, 150, 80), (200, 30, 260, 100)])
    log = ResultsLog(json_path=tmp_path / "r.json")
    tracemalloc.start()
    for i in range(3000):
        log.add(i, i / 25, faces, True)
        if i % 25 == 24:
            log.flush()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    log.close()
    assert held < 1_000_000  # was: every row until the end (9.8 MB here)
    add_tracks_to_json(tmp_path / "r.json", [dict.fromkeys(TRACK_COLUMNS, 1)])
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["columns"] == COLUMNS and [f["frame"] for f in data["frames"]] == list(range(3000))
    assert len(data["frames"][7]["faces"]) == 3 and data["tracks"] == [dict.fromkeys(TRACK_COLUMNS, 1)]


def test_a_killed_run_leaves_valid_json(tmp_path):
    base = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    clip = write_clip(tmp_path / "in.mp4", [np.roll(base, 3 * i, axis=1) for i in range(500)], fps=25)
    out, json_path = tmp_path / "o.mp4", tmp_path / "o.json"
    run = subprocess.Popen([sys.executable, "main.py", "annotate", str(clip), "-o", str(out), "--json",
                            str(json_path), "--allow-untrained", "--detector", "short"], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and run.poll() is None:
            if json_path.exists() and json_path.stat().st_size > 2000:  # the first second's frames are in
                break
            time.sleep(0.05)
        assert run.poll() is None  # was: the JSON only appeared at the end of the run
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    finally:
        run.kill()
        run.wait(timeout=10)
    frames = json.loads(json_path.read_text())["frames"]  # valid, as the video and CSV are
    assert 0 < len(frames) <= count_frames(out)[0] < 500
    assert [f["frame"] for f in frames] == list(range(len(frames)))
