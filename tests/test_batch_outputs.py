"""A many-file run whose output folder turns read-only or fills up part-way, and
names too long for the file system: one-line messages, no traceback, and the
rows (with the frames each video holds) never lost."""
from __future__ import annotations

import csv
import errno
import io
from pathlib import Path

import numpy as np
import pytest
from synth import count_frames, write_clip

import c3ae.cli.batch as batch
from c3ae.cli.annotate import main
from c3ae.cli.job import job_from
from c3ae.model.network import C3AE
from c3ae.model.weights import export
from c3ae.sink import writer as sink_module

FPS = 25


@pytest.fixture(scope="module")
def placeholder(tmp_path_factory) -> list[str]:
    weights = tmp_path_factory.mktemp("weights") / "untrained.pt"
    export(C3AE(), weights, trained=False, config={})
    return ["--weights", str(weights), "--allow-untrained", "--detector", "short", "--workers", "1"]


def _clips(folder: Path, *names: str, frames: int = 8) -> Path:
    folder.mkdir(exist_ok=True)
    for name in names:
        write_clip(folder / name, [np.full((120, 160, 3), 3 * i % 256, np.uint8) for i in range(frames)], fps=FPS)
    return folder


def _saved(job: batch.Job) -> dict:
    return {"input": job.input, "status": "failed", "frames": 30, "video": job.video,
            "message": "Cannot write it: permission denied. Recording stopped; 30 frames are saved", "code": 2}


def _error_lines(err: str) -> list[str]:
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line.startswith("error: ")]


def _batch_whose_summary_write_fails(tmp_path, monkeypatch, capsys, placeholder, fails) -> tuple[str, Path]:
    """A two-file batch whose summary.csv writes go through `fails(rows, mode, path)`
    first (it raises where the disk refuses); the run's stderr and output folder."""
    folder, out = _clips(tmp_path / "in", "a.mp4", "b.mp4"), tmp_path / "out"
    monkeypatch.setattr(batch, "run_job", _saved)
    written = batch.SummaryFile._write

    def write(self, rows, mode, path=None):
        fails(self, rows, path)
        written(self, rows, mode, path)

    monkeypatch.setattr(batch.SummaryFile, "_write", write)
    assert main([str(folder), "-o", f"{out}/", *placeholder]) == 2  # was: a traceback
    return capsys.readouterr().err, out


def test_a_summary_that_turns_unwritable_keeps_its_rows_on_stderr(tmp_path, monkeypatch, capsys, placeholder):
    def read_only_after_the_header(summary, rows, path):
        if rows:  # the folder turned read-only (chattr +i) after the run began
            raise PermissionError(errno.EPERM, "Operation not permitted", str(path or summary.path))

    err, out = _batch_whose_summary_write_fails(tmp_path, monkeypatch, capsys, placeholder,
                                                read_only_after_the_header)
    assert _error_lines(err) == [f"error: Cannot write {out / 'summary.csv'}: permission denied; "
                                 f"the summary rows follow"]
    rows = list(csv.DictReader(io.StringIO(err[err.index("input,status"):])))
    assert [(Path(r["input"]).name, r["frames"]) for r in rows] == [("a.mp4", "30"), ("b.mp4", "30")]
    assert not (out / "summary.csv.partial").exists()


def test_a_disk_that_fills_at_the_end_keeps_the_rows_written_as_it_went(tmp_path, monkeypatch, capsys,
                                                                        placeholder):
    def full_for_the_final_table(summary, rows, path):
        if path is not None:
            open(path, "w").close()  # as the real disk did: the file made, nothing in it
            raise OSError(errno.ENOSPC, "No space left on device")

    err, out = _batch_whose_summary_write_fails(tmp_path, monkeypatch, capsys, placeholder, full_for_the_final_table)
    assert _error_lines(err) == [f"error: Cannot write {out / 'summary.csv'}: the disk is full; "
                                 f"the summary rows follow"]
    assert not (out / "summary.csv.partial").exists()  # was: left behind, 0 bytes
    with open(out / "summary.csv", newline="") as f:
        assert [r["frames"] for r in csv.DictReader(f)] == ["30", "30"]


def test_a_file_whose_disk_fills_reports_the_frames_its_video_holds(tmp_path, monkeypatch, placeholder):
    clip = _clips(tmp_path / "in", "a.mp4", frames=3 * FPS) / "a.mp4"
    checks = iter(range(1000))

    def fills_after_a_second(folder, min_free_mb):
        if next(checks) >= 3:  # two checks before the first frame, then every 30 frames: full at frame 60
            raise sink_module.RecordingError("Not enough free disk space")

    monkeypatch.setattr(sink_module, "_check_space", fills_after_a_second)
    args = main.__globals__["build_parser"]().parse_args([str(clip), "-o", "x", *placeholder])
    job = batch.plan_jobs([clip], tmp_path, job_from(args, str(clip), "x"))[0]
    row = batch.run_job(job)
    saved = count_frames(job.video)[0]
    assert row["status"] == "failed" and f"{saved} frames are saved" in row["message"]
    assert saved > 0 and row["frames"] == saved and row["video"] == job.video  # was: frames 0


def test_an_input_name_too_long_for_its_outputs_is_shortened(tmp_path, capsys, placeholder):
    long_name = "v" * 250 + ".mp4"  # 254 bytes: its .tracks.csv would be 260
    folder, out = _clips(tmp_path / "in", long_name, "b.mp4"), tmp_path / "out"
    assert main([str(folder), "-o", f"{out}/", *placeholder]) == 0  # was: an OSError traceback
    assert not _error_lines(capsys.readouterr().err)
    with open(out / "summary.csv", newline="") as f:
        rows = {Path(r["input"]).name: r for r in csv.DictReader(f)}
    assert rows[long_name]["status"] == "ok" and count_frames(rows[long_name]["video"])[0] == 8
    assert len(Path(rows[long_name]["tracks"]).name) <= 255


@pytest.mark.parametrize("where", ["output", "input"])
def test_a_path_too_long_is_one_line_and_exit_2(tmp_path, capsys, placeholder, where):
    clip = _clips(tmp_path / "in", "a.mp4") / "a.mp4"
    too_long_name = str(tmp_path / ("o" * 257 + ".mp4"))
    over_path_max = str(tmp_path / "/".join(["d" * 200] * 25) / "a.mp4")
    argv = [str(clip), "-o", too_long_name] if where == "output" else [over_path_max, "-o", str(tmp_path / "o.mp4")]
    assert main([*argv, *placeholder]) == 2  # was: an OSError traceback
    (line,) = _error_lines(capsys.readouterr().err)
    assert "limit is" in line
