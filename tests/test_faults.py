"""Fault injection for `annotate` and its sink: every expected failure is a
one-line message, leaves the input alone and leaves playable, consistent output.

Each test makes its own clip; the signal tests run `main.py annotate` as a real
subprocess and stop it mid-run.
"""
from __future__ import annotations

import builtins
import csv
import errno
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from synth import count_frames, face_clip_frames, real_faces, write_clip

from c3ae import pipeline as pipeline_module
from c3ae.cli.annotate import main
from c3ae.cli.exits import EXIT_ERROR, EXIT_TRUNCATED
from c3ae.errors import OptionsError
from c3ae.model import runner as engine_module
from c3ae.model.network import C3AE
from c3ae.model.weights import export
from c3ae.options import RANGES, PipelineOptions
from c3ae.sink import results_log as results_log_module
from c3ae.sink import writer as sink_module

ROOT = Path(__file__).resolve().parent.parent
FPS = 25


@pytest.fixture(autouse=True)
def fast_engine(monkeypatch):
    """In-process runs skip the engine's warm-up (picking the fastest graph), which is slow and not tested here."""
    monkeypatch.setattr(pipeline_module, "AgeEngine", functools.partial(engine_module.AgeEngine, warmup=False))


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory) -> Path:
    """12 s of two real faces at 320x180: long enough to be stopped mid-run."""
    frames = face_clip_frames(real_faces(2), n=12 * FPS, size=(320, 180), face_h=110)
    return write_clip(tmp_path_factory.mktemp("faults") / "faces.mp4", frames, fps=FPS)


@pytest.fixture(scope="module")
def placeholder(tmp_path_factory) -> list[str]:
    """Arguments for untrained weights: they load in a fraction of a second, which
    keeps the runs short where the ages do not matter."""
    weights = tmp_path_factory.mktemp("weights") / "untrained.pt"
    export(C3AE(), weights, trained=False, config={})
    return ["--weights", str(weights), "--allow-untrained"]


@pytest.fixture
def plain_clip(tmp_path) -> Path:
    return write_clip(tmp_path / "in.mp4", [np.full((120, 160, 3), 10 * i, np.uint8) for i in range(12)], fps=FPS)


def _csv_frames(path: Path) -> set[int]:
    with open(path, newline="") as f:
        return {int(row["frame"]) for row in csv.DictReader(f)}


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and "annotate:" not in line]  # not the progress bar
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


# -- paths ----------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["same name", "symbolic link", "hard link"])
def test_output_equal_to_input_is_refused_and_input_unchanged(plain_clip, tmp_path, capsys, how):
    before = plain_clip.read_bytes()
    output = {"same name": plain_clip, "symbolic link": tmp_path / "link.mp4", "hard link": tmp_path / "hard.mp4"}[how]
    if how == "symbolic link":
        output.symlink_to(plain_clip)
    elif how == "hard link":
        os.link(plain_clip, output)
    assert main([str(plain_clip), "-o", str(output), "--overwrite"]) == EXIT_ERROR
    assert "same file" in _one_error_line(capsys.readouterr().err)
    assert plain_clip.read_bytes() == before


def test_existing_output_needs_overwrite(plain_clip, tmp_path, capsys):
    output = tmp_path / "out.mp4"
    output.write_bytes(b"keep me")
    assert main([str(plain_clip), "-o", str(output), "--allow-untrained"]) == EXIT_ERROR
    assert "--overwrite" in _one_error_line(capsys.readouterr().err)
    assert output.read_bytes() == b"keep me"


def test_missing_output_folder_is_named(plain_clip, tmp_path, capsys):
    assert main([str(plain_clip), "-o", str(tmp_path / "no" / "out.mp4")]) == EXIT_ERROR
    assert "does not exist" in _one_error_line(capsys.readouterr().err)


def test_bad_csv_path_refuses_before_the_video_is_started(plain_clip, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    assert main([str(plain_clip), "-o", str(out), "--csv", str(tmp_path / "no" / "o.csv")]) == EXIT_ERROR
    assert "does not exist" in _one_error_line(capsys.readouterr().err)
    assert not out.exists()  # no half-written video left behind


@pytest.fixture
def read_only_folder(tmp_path, monkeypatch):
    """A read-only tmpfs when this process may mount one (root), else a folder
    that statvfs reports as read-only: root ignores permission bits."""
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True).returncode == 0
    if not mounted:
        real = os.statvfs
        monkeypatch.setattr(os, "statvfs", lambda p: os.statvfs_result(
            (*real(p)[:8], real(p).f_flag | os.ST_RDONLY, real(p).f_namemax)) if Path(p) == folder else real(p))
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)


def test_read_only_output_is_named_as_such(plain_clip, read_only_folder, capsys):
    assert main([str(plain_clip), "-o", str(read_only_folder / "out.mp4"), "--csv",
                 str(plain_clip.with_suffix(".csv"))]) == EXIT_ERROR
    assert "read-only" in _one_error_line(capsys.readouterr().err)
    assert not any(read_only_folder.iterdir()) and not plain_clip.with_suffix(".csv").exists()


# -- options ----------------------------------------------------------------------------
OUT_OF_RANGE = [("--smoothing", "-1"), ("--smoothing", "1.5"), ("--smoothing", "nan"), ("--min-score", "5"),
                ("--min-score", "0.1"), ("--min-score", "-0.5"), ("--min-size", "-3"), ("--min-size", "1e9")]


@pytest.mark.parametrize("flag,value", OUT_OF_RANGE)
def test_out_of_range_option_is_refused(plain_clip, tmp_path, capsys, flag, value):
    assert main([str(plain_clip), "-o", str(tmp_path / "o.mp4"), flag, value]) == EXIT_ERROR
    line = _one_error_line(capsys.readouterr().err)
    assert flag in line and "between" in line
    assert not (tmp_path / "o.mp4").exists()


def test_range_ends_are_accepted_and_just_past_them_refused():
    for name, (low, high, _) in RANGES.items():
        PipelineOptions(**{name: low})
        PipelineOptions(**{name: high})
        for bad in (low - 0.01, high + 0.01):
            with pytest.raises(OptionsError, match=name.replace("_", "-")):
                PipelineOptions(**{name: bad})


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_one_line(plain_clip, tmp_path, capsys):
    assert main([str(plain_clip), "-o", str(tmp_path / "o.mp4"), "--device", "cuda"]) == EXIT_ERROR
    assert "no CUDA device" in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "o.mp4").exists()


# -- weights ----------------------------------------------------------------------------
def test_missing_weights_file_is_one_line_in_a_real_run(plain_clip, tmp_path):
    """A subprocess, so what reaches the terminal is checked: no traceback, no
    'Exception ignored in FaceDetector.__del__', no native log lines."""
    out = tmp_path / "o.mp4"
    proc = subprocess.run([sys.executable, "main.py", "annotate", str(plain_clip), "-o", str(out),
                           "--weights", str(tmp_path / "gone.pt")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == EXIT_ERROR
    assert "does not exist" in _one_error_line(proc.stderr)
    assert not out.exists()


def test_missing_default_weights_are_refused_unless_allowed(plain_clip, tmp_path, monkeypatch, capsys):
    missing = tmp_path / "c3ae.pt"
    monkeypatch.setattr(engine_module, "DEFAULT_WEIGHTS", missing)  # as if weights/c3ae.pt were deleted
    out = tmp_path / "o.mp4"
    assert main([str(plain_clip), "-o", str(out), "--weights", str(missing)]) == EXIT_ERROR
    assert "--allow-untrained" in _one_error_line(capsys.readouterr().err)
    assert not out.exists()


def test_untrained_weights_leave_the_age_columns_empty(tmp_path, placeholder):
    clip = write_clip(tmp_path / "in.mp4", face_clip_frames(real_faces(2), n=8), fps=FPS)
    out, csv_path = tmp_path / "o.mp4", tmp_path / "o.csv"
    assert main([str(clip), "-o", str(out), "--csv", str(csv_path), *placeholder]) == 0
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(r["age"] == r["age_smoothed"] == r["p0"] == "" and r["trained"] == "0" for r in rows)
    assert count_frames(out)[0] == 8


# -- input -----------------------------------------------------------------------------
def test_truncated_input_says_so_and_fails(tmp_path, capsys, placeholder):
    path = tmp_path / "cut.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:  # index first, then data
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(60):
            image = av.VideoFrame.from_ndarray(rng.integers(0, 255, (120, 160, 3), np.uint8), format="bgr24")
            container.mux(stream.encode(image))
        container.mux(stream.encode())
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
    out = tmp_path / "o.mp4"
    assert main([str(path), "-o", str(out), *placeholder]) == EXIT_TRUNCATED
    err = capsys.readouterr().err
    assert "of the 60 frames" in err and "truncated" in err
    done = count_frames(out)[0]
    assert 0 < done < 60 and f"ended after {done} of the 60" in err


# -- disk full ---------------------------------------------------------------------------
def test_disk_filling_mid_run_keeps_what_was_written(face_clip, tmp_path, monkeypatch, capsys, placeholder):
    """The video file's writes fail with ENOSPC once its first second is on disk."""

    class FillingDisk:
        def __init__(self, path, mode):
            self._file = builtins.open(path, mode)
            self._flushed = False

        def write(self, data):
            if self._flushed:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self._file.write(data)

        def flush(self):
            self._file.flush()
            self._flushed = True

        def __getattr__(self, name):
            return getattr(self._file, name)

    monkeypatch.setattr(sink_module, "open", FillingDisk, raising=False)
    out, csv_path = tmp_path / "o.mp4", tmp_path / "o.csv"
    assert main([str(face_clip), "-o", str(out), "--csv", str(csv_path), *placeholder]) == EXIT_ERROR
    line = _one_error_line(capsys.readouterr().err)
    assert "disk is full" in line and f"{FPS} frames are saved" in line
    assert count_frames(out)[0] == FPS
    assert max(_csv_frames(csv_path)) < FPS


def test_csv_disk_full_mid_run_names_the_csv(face_clip, tmp_path, monkeypatch, capsys, placeholder):
    """The CSV's first flush (after the video's first second) fails with ENOSPC."""

    class FullAtFlush:
        def __init__(self, path, mode, **kwargs):
            self._file = builtins.open(path, mode, **kwargs)

        def flush(self):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self._file, name)

    monkeypatch.setattr(results_log_module, "open", FullAtFlush, raising=False)
    out, csv_path = tmp_path / "o.mp4", tmp_path / "o.csv"
    assert main([str(face_clip), "-o", str(out), "--csv", str(csv_path), *placeholder]) == EXIT_ERROR
    line = _one_error_line(capsys.readouterr().err)
    assert f"Cannot write {csv_path}: the disk is full" in line and f"{FPS} frames are saved" in line
    assert count_frames(out)[0] >= FPS


# -- signals -----------------------------------------------------------------------------
def _start(clip: Path, out: Path, csv_path: Path, placeholder: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "main.py", "annotate", str(clip), "-o", str(out), "--csv",
                             str(csv_path), *placeholder], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_rows(proc: subprocess.Popen, csv_path: Path, timeout: float = 90.0) -> None:
    """Until the CSV holds rows: the run is past its first second of video."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if csv_path.exists() and len(csv_path.read_text().splitlines()) > 1:
            return
        time.sleep(0.05)
    proc.kill()
    pytest.fail("annotate wrote no rows in time")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_signal_mid_run_leaves_playable_video_matching_the_csv(face_clip, tmp_path, sig, placeholder):
    out, csv_path = tmp_path / "o.mp4", tmp_path / "o.csv"
    proc = _start(face_clip, out, csv_path, placeholder)
    _wait_for_rows(proc, csv_path)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == (143 if sig == signal.SIGTERM else -signal.SIGKILL)
    frames, fps = count_frames(out)
    csv_frames = _csv_frames(csv_path)
    assert fps == FPS and frames < 12 * FPS  # it really stopped mid-run
    assert frames >= max(csv_frames) + 1 - FPS  # at most one second of the CSV's frames is missing
    if sig == signal.SIGTERM:
        assert "stopped by SIGTERM" in stdout and frames > max(csv_frames)  # finalised: nothing lost
        assert not [line for line in stderr.splitlines() if line.strip() and "annotate:" not in line], stderr
