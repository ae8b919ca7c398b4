"""Folders and many files: every video annotated into one folder with a summary;
a broken file is a row, not the end of the batch."""
from __future__ import annotations

import csv
import shutil
import signal
import threading

import numpy as np
from synth import count_frames, write_clip

from c3ae.cli.annotate import main
from c3ae.cli.batch import collect_inputs, plan_jobs, sniff_video
from c3ae.cli.job import AnnotateJob


def _clip(path, n=8, shade=0):
    return write_clip(path, [np.full((240, 320, 3), shade + 9 * i, np.uint8) for i in range(n)], fps=20)


def _summary(folder):
    with open(folder / "summary.csv", newline="") as f:
        return {row["input"].rsplit("/", 1)[-1]: row for row in csv.DictReader(f)}


def test_inputs_are_found_by_extension_and_by_content(tmp_path):
    clip = _clip(tmp_path / "a.mp4")
    shutil.copy(clip, tmp_path / "recording")  # no extension: found by its bytes
    (tmp_path / "notes.txt").write_text("not a video")
    videos, skipped = collect_inputs([str(tmp_path), str(clip), str(tmp_path / "gone.mp4")])  # clip twice: once
    assert [v.name for v in videos] == ["a.mp4", "recording"]
    assert skipped == [(str(tmp_path / "notes.txt"), "not a video"), (str(tmp_path / "gone.mp4"), "not found")]
    assert sniff_video(clip) and not sniff_video(tmp_path / "notes.txt")
    jobs = plan_jobs([clip, tmp_path / "sub" / "a.mov"], tmp_path / "out", AnnotateJob("", ""))
    assert [j.video for j in jobs] == [str(tmp_path / "out" / "a.mp4"), str(tmp_path / "out" / "a-2.mp4")]
    assert jobs[1].tracks == str(tmp_path / "out" / "a-2.tracks.csv")


def test_folder_with_a_broken_file_annotates_the_rest(tmp_path, capsys):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    _clip(folder / "first.mp4", n=8)
    _clip(folder / "second.avi", n=6, shade=40)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"garbage" * 40)
    (folder / "readme.txt").write_text("hello")
    code = main([str(folder), "-o", str(out), "--workers", "1", "--detector", "short", "--allow-untrained",
                 "--duration", "0.3"])  # 6 frames at 20 fps: the first file is cut short on purpose
    assert code == 2  # one file failed
    rows = _summary(out)
    assert rows["first.mp4"]["status"] == "ok" and rows["first.mp4"]["frames"] == "6"
    assert rows["second.avi"]["status"] == "ok" and rows["second.avi"]["frames"] == "6"
    assert rows["broken.mp4"]["status"] == "failed" and rows["broken.mp4"]["message"]
    assert rows["readme.txt"]["status"] == "skipped"
    assert float(rows["first.mp4"]["fps"]) > 0 and rows["first.mp4"]["people"] == "0"
    assert count_frames(out / "first.mp4") == (6, 20.0) and count_frames(out / "second.mp4")[0] == 6
    for name in ("first.csv", "first.tracks.csv", "second.csv", "second.tracks.csv"):
        assert (out / name).is_file()
    assert not (out / "broken.mp4").exists()
    err = capsys.readouterr().err
    assert "skipped" in err and "readme.txt" in err and "failed" in err
    # a second run refuses to overwrite before doing any work
    assert main([str(folder), "-o", str(out), "--workers", "1", "--allow-untrained"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_a_worker_process_that_dies_fails_only_its_own_file(monkeypatch):
    from crashing import crash_on_bad  # a light module: each worker process imports it again

    import c3ae.cli.batch

    monkeypatch.setattr(c3ae.cli.batch, "run_job", crash_on_bad)
    jobs = [c3ae.cli.batch.Job(f"/videos/{name}.mp4", "", "", "", {}) for name in ("a", "bad", "c", "d")]
    rows: list[dict] = []
    c3ae.cli.batch.run_local(jobs, 2, rows.append, [])
    status = {row["input"].split("/")[-1]: row["status"] for row in rows}
    assert status == {"a.mp4": "ok", "bad.mp4": "failed", "c.mp4": "ok", "d.mp4": "ok"}


def test_an_output_folder_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    _clip(folder / "a.mp4")
    taken = tmp_path / "results"
    taken.write_text("a file, not a folder")
    for output in (str(taken), f"{taken}/", str(taken / "sub") + "/"):
        assert main([str(folder), "-o", output, "--allow-untrained"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and str(taken) in err
    assert taken.read_text() == "a file, not a folder"


def test_a_stop_before_the_workers_are_ready_ends_the_run(monkeypatch):
    """More files than the pool hands out at once: the ones the stop cancels must
    not keep the run waiting (concurrent.futures.wait never counts them)."""
    from crashing import crash_on_bad

    import c3ae.cli.batch

    monkeypatch.setattr(c3ae.cli.batch, "run_job", crash_on_bad)
    jobs = [c3ae.cli.batch.Job(f"/videos/{n}.mp4", "", "", "", {}) for n in range(6)]
    rows: list[dict] = []
    run = threading.Thread(target=c3ae.cli.batch.run_local, args=(jobs, 2, rows.append, [signal.SIGINT]),
                           daemon=True)
    run.start()
    run.join(60)
    assert not run.is_alive()
    assert len(rows) <= 3  # at most the files already handed to the two workers (and one queued) ran
