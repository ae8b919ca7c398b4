"""A many-file run against what goes wrong around its workers: a worker that
hangs or dies, a stop that comes during start-up, a main process killed while
its workers still import. Real processes throughout; the light stand-ins of
`crashing` keep the in-process runs to a few seconds."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_batch_stop import LONG_FRAMES, ROOT, Run, _rows, _session, _wait_until, write_inputs

import c3ae.cli.batch as batch


def _jobs(names: list[str], log: Path) -> list[batch.Job]:
    return [batch.Job(f"/videos/{name}.mp4", str(log), "", "", {}) for name in names]


def test_a_stop_kills_a_worker_that_does_not_answer_and_still_reports_every_file(monkeypatch, tmp_path):
    from crashing import timed

    monkeypatch.setattr(batch, "run_job", timed)
    monkeypatch.setattr(batch, "STOP_GRACE_S", 1.0, raising=False)
    stop: list[int] = []

    def stop_once_stuck() -> None:
        _wait_until(lambda: (tmp_path / "stuck.started").exists(), 30)
        time.sleep(0.2)
        stop.append(signal.SIGTERM)

    threading.Thread(target=stop_once_stuck, daemon=True).start()
    rows: list[dict] = []
    started = time.monotonic()
    batch.run_local(_jobs(["stuck", "a", "b", "c", "d", "e", "f", "g"], tmp_path), 2, rows.append, stop)
    assert time.monotonic() - started < 15  # was: forever, until the worker got SIGCONT
    # the stopped pool's manager thread ended with it, not at the interpreter's exit (where CPython 3.11
    # may write to its closed wakeup pipe: a traceback after a stopped batch)
    assert not [t for t in threading.enumerate() if type(t).__name__ == "_ExecutorManagerThread"]
    by_name = {Path(r["input"]).stem: r for r in rows}
    assert by_name["stuck"]["status"] == "stopped" and "killed" in by_name["stuck"]["message"], rows


def test_after_a_worker_dies_the_rest_still_run_side_by_side(monkeypatch, tmp_path):
    from crashing import timed

    monkeypatch.setattr(batch, "run_job", timed)
    rows: list[dict] = []
    names = ["bad", "a", "b", "c", "d", "e", "f"]
    batch.run_local(_jobs(names, tmp_path), 2, rows.append, [])
    assert {Path(r["input"]).stem: r["status"] for r in rows} == dict.fromkeys(names, "ok")
    crash = float((tmp_path / "crashed").read_text())
    spans = sorted(tuple(map(float, (tmp_path / f"{n}.times").read_text().split())) for n in names)
    after = [s for s in spans if s[0] > crash]
    assert len(after) >= 4
    overlapping = sum(b[0] < a[1] for a, b in zip(after, after[1:]))
    assert overlapping >= len(after) // 2, after  # was: one at a time (a pool of 1 per file)


def _workers(pid: int) -> list[int]:
    """The pool's worker processes of the run whose main is `pid` (by their command line)."""
    found = []
    for child in _session(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    return write_inputs(tmp_path_factory.mktemp("in"))


@pytest.fixture
def start(inputs, tmp_path):
    processes: list[subprocess.Popen] = []

    def launch(ignore_sigint: bool = False) -> subprocess.Popen:
        out = tmp_path / "out"
        processes.append(subprocess.Popen(
            [sys.executable, "main.py", "annotate", str(inputs), "-o", f"{out}/", "--workers", "2",
             "--allow-untrained", "--detector", "short"], cwd=ROOT, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "stderr", "w"),
            # a shell's `annotate ... &` starts it with SIGINT ignored
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None))
        return processes[-1]

    yield launch
    for process in processes:
        for pid in _session(process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(timeout=30)


@pytest.mark.parametrize("ignored", [False, True], ids=["default", "started-with-SIGINT-ignored"])
def test_ctrl_c_during_start_up_ends_the_run(start, tmp_path, ignored):
    annotate = start(ignore_sigint=ignored)
    time.sleep(0.8)  # the main process is importing torch
    os.killpg(annotate.pid, signal.SIGINT)
    stopped = time.monotonic()
    code = annotate.wait(timeout=60)
    err = (tmp_path / "stderr").read_text()
    assert code == 130, err  # was: a KeyboardInterrupt traceback, or (ignored) every file run to its end
    assert time.monotonic() - stopped < 15  # its imports end first (~3 s quiet, more on a busy machine)
    assert "Traceback" not in err, err
    assert {row["status"] for row in _rows(tmp_path / "out").values()} == {"not run"}


def test_killing_the_main_while_its_workers_import_leaves_none_behind(start):
    annotate = start()
    _wait_until(lambda: len(_workers(annotate.pid)) == 2, 60)
    time.sleep(0.3)  # they are importing now
    os.kill(annotate.pid, signal.SIGKILL)
    annotate.wait(timeout=10)
    # was: 5-30 s, until their torch imports finished
    assert _wait_until(lambda: not _workers(annotate.pid), 3) < 1.5


def test_a_stop_ends_a_real_run_whose_worker_is_stuck(inputs, tmp_path):
    annotate = Run(inputs, tmp_path / "out")
    try:
        annotate.wait_for_two_files_in_progress()
        stuck = _workers(annotate.process.pid)[0]
        os.kill(stuck, signal.SIGSTOP)  # a hung decoder or network mount
        os.kill(annotate.process.pid, signal.SIGTERM)
        stopped = time.monotonic()
        assert annotate.process.wait(timeout=60) == 143, annotate.stderr()  # was: still running, until SIGCONT
        assert time.monotonic() - stopped < batch.STOP_GRACE_S + 5
        assert _wait_until(lambda: not annotate.children(), 5) < 5
        assert "Traceback" not in annotate.stderr(), annotate.stderr()
        rows = _rows(annotate.out)
        progress = [rows[name] for name in ("b.mp4", "c.mp4")]
        assert {row["status"] for row in progress} == {"stopped"}, rows
        assert all(0 < int(row["frames"]) < LONG_FRAMES for row in progress), rows
        assert any("was killed" in row["message"] for row in progress), rows
    finally:
        annotate.close()
