"""Many videos in one run: `annotate DIR|FILE... -o OUTDIR`.

Each input becomes OUTDIR/<stem>.mp4, <stem>.csv and <stem>.tracks.csv, and
OUTDIR/summary.csv gets one row per input (skipped and failed ones too), so a
batch of hundreds of recordings can be checked at a glance. Files run in
separate processes (`--workers`), or as Ray tasks (`--ray`) on this machine or
a cluster; either way one file's failure is its row's status, never the end
of the batch. Each process follows `c3ae.runtime.threads` for its share of the cores
(one core each: one torch thread), as whole files side by side use the cores
better than threads inside one small model. A stop (Ctrl+C, SIGTERM) reaches
every worker or task: files in progress are finalised and reported `stopped`
with their frames, queued ones `not run` (`c3ae.cli.pool`).
"""
from __future__ import annotations

import argparse
import concurrent.futures as futures
import contextlib
import csv
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from c3ae.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_TRUNCATED
from c3ae.cli.job import AnnotateJob
from c3ae.cli.one_input import annotate_file
from c3ae.cli.pool import WorkerPool
from c3ae.errors import BatchError
from c3ae.runtime import threads
from c3ae.runtime.paths import name_limit
from c3ae.runtime.stops import STOP_SIGNALS, StopRecorder
from c3ae.sink.writer import check_outputs, describe_os_error, frames_in

VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".mts",
                              ".m2ts", ".wmv", ".asf", ".flv", ".3gp", ".ogv", ".mjpeg", ".mjpg", ".y4m"})
SUMMARY_COLUMNS = ["input", "status", "frames", "faces", "people", "seconds", "fps", "video_seconds", "video",
                   "csv", "tracks", "message"]
LOCAL_RAY_CPUS = 2
POLL_S = 0.2  # how often the parent looks for finished files and a stop request
STOP_GRACE_S = 5.0  # after a stop, how long a worker gets to finalise its file before it is killed
LOST_LIMIT = 2  # a file lost with its pool this often runs alone next
RAY_STOP_WAIT_S = 10.0  # after a stop, how long Ray tasks get to finalise their files and report
RAY_RETRIES = 3  # a file whose worker dies (node lost, out of memory) is run again up to this often


@dataclass(frozen=True)
class Job:
    """One input and where its results go; `template` holds the run's other choices."""

    input: str
    video: str
    csv: str
    tracks: str
    template: AnnotateJob

    def annotate_job(self) -> AnnotateJob:
        """The one-input run of this file: its own outputs, no JSON, quiet, replacing outputs (checked first)."""
        return replace(self.template, input=self.input, output=self.video, csv=self.csv, json=None,
                       tracks=self.tracks, overwrite=True, progress=False)


def sniff_video(path: Path) -> bool:
    """True when the first bytes are a video container's signature (MP4/MOV, AVI,
    Matroska/WebM, MPEG program or transport stream, FLV, ASF, Ogg, Y4M), so
    a video with a wrong or missing extension is still found."""
    try:
        with open(path, "rb") as f:
            head = f.read(400)
    except OSError:
        return False
    return (head[4:8] == b"ftyp" or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
            or head.startswith((b"\x1aE\xdf\xa3", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3", b"FLV",
                                b"0&\xb2u\x8ef\xcf\x11", b"OggS", b"YUV4MPEG2"))
            or (len(head) > 376 and head[0] == head[188] == head[376] == 0x47))


def collect_inputs(paths: Iterable[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Videos among `paths` (a folder: its files, not its subfolders), by
    extension or content, and the (path, reason) of everything skipped."""
    videos: list[Path] = []
    skipped: list[tuple[str, str]] = []
    seen: set[Path] = set()  # a file named twice (itself and in its folder) is annotated once
    for given in paths:
        path = Path(given)
        if path.is_dir():
            candidates = sorted(p for p in path.iterdir() if p.is_file())
        elif path.is_file():
            candidates = [path]
        else:
            skipped.append((given, "not found"))
            continue
        for file in candidates:
            if file.resolve() in seen:
                continue
            seen.add(file.resolve())
            if file.suffix.lower() in VIDEO_EXTENSIONS or sniff_video(file):
                videos.append(file)
            else:
                skipped.append((str(file), "not a video"))
    return videos, skipped


def _shortened(stem: str, room: int) -> str:
    """`stem` cut to `room` bytes of its file system encoding, whole characters only."""
    encoded = os.fsencode(stem)
    return stem if len(encoded) <= room else encoded[:room].decode(sys.getfilesystemencoding(), "ignore")


def plan_jobs(videos: list[Path], outdir: Path, template: AnnotateJob) -> list[Job]:
    """Output names OUTDIR/<stem>.*; a stem taken by an earlier input gets -2, -3...
    and one too long for the folder's file system (with its longest suffix and
    such a number) is shortened."""
    jobs, taken = [], set()
    room = name_limit(outdir) - len(".tracks.csv") - len("-999")
    for video in videos:
        base_stem = _shortened(video.stem, room)
        stem, n = base_stem, 1
        while stem in taken:
            n += 1
            stem = f"{base_stem}-{n}"
        taken.add(stem)
        base = outdir / stem
        jobs.append(Job(str(video), f"{base}.mp4", f"{base}.csv", f"{base}.tracks.csv", template))
    return jobs


def run_job(job: Job) -> dict:
    """Annotate one file; a summary row whose status says how it went (never raises
    for a bad input, so the batch goes on)."""
    started = time.perf_counter()
    try:
        code, summary, message = annotate_file(job.annotate_job())
    except Exception as exc:  # noqa: BLE001 - whatever one file does wrong (a decoder error), the batch goes on
        code, summary, message = EXIT_ERROR, {}, f"{type(exc).__name__}: {exc}"
    seconds = summary.get("seconds", time.perf_counter() - started)
    frames = summary.get("frames", 0)
    status = {0: "ok", 1: "truncated", EXIT_ERROR: "failed"}.get(code, "stopped")
    return {"input": job.input, "status": status, "frames": frames, "faces": summary.get("faces", 0),
            "people": summary.get("people", 0), "seconds": f"{seconds:.2f}",
            "fps": f"{frames / seconds:.2f}" if seconds > 0 else "", "video_seconds":
            f"{summary['video_seconds']:.2f}" if "video_seconds" in summary else "",
            "video": job.video if frames else "", "csv": job.csv if frames else "",
            "tracks": job.tracks if frames else "", "message": message, "code": code}


def _lost(job: Job, why: str) -> dict:
    """The summary row of a file whose worker died before it could say how it went."""
    return {"input": job.input, "status": "failed", "message": why, "code": EXIT_ERROR}


def _run_job_on_one_core(job: Job) -> dict:
    """A Ray task: it holds one CPU of its node. The file runs on a helper thread
    because `ray.cancel` raises KeyboardInterrupt in the task's main thread at
    any point: here it only turns into a stop request, so the file is finalised
    and its row reports the frames done."""
    threads.apply_share(1)
    recorder = StopRecorder()  # the file's own stop_requests shares its list (and sees a Ctrl+C to the group)
    previous = signal.signal(signal.SIGINT, recorder)
    rows: list[dict] = []
    runner = threading.Thread(target=lambda: rows.append(run_job(job)), name="file")
    runner.start()
    try:
        while runner.is_alive():
            runner.join(POLL_S)
    except KeyboardInterrupt:
        recorder.received.append(signal.SIGINT)
        runner.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    return rows[0]


def _killed(job: Job) -> dict:
    """The row of a file whose worker did not answer a stop and was killed: its
    video holds the fragments written before (counted), or it had not begun."""
    frames = frames_in(job.video) if job.video and Path(job.video).is_file() else 0
    held = f"the video holds {frames} frames" if frames else "no frame was written"
    return {"input": job.input, "status": "stopped", "frames": frames, "video": job.video if frames else "",
            "message": f"its worker did not stop within {STOP_GRACE_S:g} s and was killed; {held}",
            "code": EXIT_TRUNCATED}


def _run_in_pool(jobs: list[Job], workers: int, share: int, done: Callable[[dict], None],
                 stop: list[int]) -> list[Job]:
    """Run `jobs` in a pool of `workers` processes, calling `done` with each row; a
    stop request stops every worker, and those still running STOP_GRACE_S later
    are killed (their files get `_killed` rows). Returns the jobs lost to a
    process that died (which breaks the pool: its other files come back too)."""
    broken, stopped_at, killed = [], None, False
    with WorkerPool(workers, threads.apply_share, (share,)) as pool:
        pending = {pool.submit(run_job, job): job for job in jobs}
        while pending:
            futures.wait(pending, timeout=POLL_S, return_when=futures.FIRST_COMPLETED)
            # done(), not wait's answer: wait never counts a future that the stop's shutdown cancelled
            for future in [f for f in pending if f.done()]:
                job = pending.pop(future)
                try:
                    row = future.result()
                except futures.CancelledError:  # stopped while queued: a 'not run' row
                    continue
                except futures.process.BrokenProcessPool:
                    if killed:
                        done(_killed(job))
                    elif not stop:
                        broken.append(job)
                    continue
                if row is not None:  # None: its worker was stopped before it began
                    done(row)
            if stop and stopped_at is None:
                stopped_at = time.monotonic()
                pool.stop(stop[0])
            elif stop and not killed and time.monotonic() - stopped_at > STOP_GRACE_S:
                killed = True
                pool.kill()
    return broken


def run_local(jobs: list[Job], workers: int, done: Callable[[dict], None], stop: list[int]) -> None:
    """Run `jobs` in `workers` processes (here, when 1), calling `done` with each row;
    after a stop request nothing new starts and the running files are finalised.
    A worker that dies takes its pool's files with it: they run again in a new
    pool of `workers`, and a file lost LOST_LIMIT times runs alone, so its crash
    is surely its own (a failed row) and the rest keep `workers` at once."""
    share = max(1, threads.usable_cores() // workers)
    if workers <= 1:
        threads.apply_share(share)
        for job in jobs:
            if stop:
                break
            done(run_job(job))
        return
    losses: dict[str, int] = {}
    todo = jobs
    while todo and not stop:
        lost = _run_in_pool(todo, min(workers, len(todo)), share, done, stop)
        for job in lost:
            losses[job.input] = losses.get(job.input, 0) + 1
        todo = [job for job in lost if losses[job.input] < LOST_LIMIT]
        for job in (job for job in lost if losses[job.input] >= LOST_LIMIT):
            if stop:
                break
            if _run_in_pool([job], 1, share, done, stop):
                done(_lost(job, "its worker process died (a crash decoding it?)"))


def run_ray(jobs: list[Job], address: str, done: Callable[[dict], None], stop: list[int]) -> None:
    """Run `jobs` as Ray tasks, one CPU each, retried when their worker is lost.
    'local' starts a Ray instance here; anything else is a cluster address. The
    files' paths must be the same on every node (a shared file system)."""
    import ray

    options = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
    handlers = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    try:
        if address == "local":  # on 127.0.0.1, so nothing leaves this machine; workers at normal priority
            # (Ray's default nice 15 starves them behind any other work, unlike --workers processes)
            ray.init(num_cpus=LOCAL_RAY_CPUS, _node_ip_address="127.0.0.1",
                     _system_config={"worker_niceness": 0}, **options)
        else:
            ray.init(address=address, **options)
    except Exception as exc:  # Ray raises several kinds (ConnectionError, RuntimeError, ...)
        raise BatchError(f"Ray could not start ({address}): {exc}") from exc
    for sig in STOP_SIGNALS:  # ray.init made SIGTERM exit at once: it is a stop request again
        signal.signal(sig, handlers[sig])
    try:
        task = ray.remote(num_cpus=1, max_retries=RAY_RETRIES)(_run_job_on_one_core)
        refs = {task.remote(job): job for job in jobs}
        pending, deadline = list(refs), None
        while pending and (deadline is None or time.monotonic() < deadline):
            finished, pending = ray.wait(pending, num_returns=1, timeout=POLL_S)
            for ref in finished:
                try:
                    done(ray.get(ref))
                except ray.exceptions.TaskCancelledError:  # stopped before it began: a 'not run' row
                    pass
                except ray.exceptions.RayError as exc:  # its workers died more than RAY_RETRIES times
                    done(_lost(refs[ref], f"lost on Ray: {type(exc).__name__}"))
            if stop and deadline is None:  # queued tasks are dropped, running ones stop and report
                deadline = time.monotonic() + RAY_STOP_WAIT_S
                for ref in pending:
                    ray.cancel(ref)
    finally:
        ray.shutdown()


class SummaryFile:
    """summary.csv, written as the run goes (a row per finished file, so a killed
    run keeps them) and rewritten at the end in input order with every input.
    A folder that turns read-only or fills up part-way ends no run: the first
    failure is kept in `error`, and the caller prints the rows instead."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        try:
            self._write([], "w")
        except OSError as exc:
            raise BatchError(describe_os_error(exc, path)) from exc

    def _write(self, rows: list[dict], mode: str, path: Path | None = None) -> None:
        with open(path or self.path, mode, newline="") as f:
            _table(f, rows, header=mode == "w")

    def add(self, row: dict) -> None:
        if self.error is None:
            try:
                self._write([row], "a")
            except OSError as exc:
                self.error = describe_os_error(exc, self.path)

    def finish(self, rows: list[dict]) -> None:
        """The whole table in one step; on failure summary.csv keeps the rows added."""
        partial = self.path.with_name(self.path.name + ".partial")
        try:
            self._write(rows, "w", partial)
            os.replace(partial, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            self.error = self.error or describe_os_error(exc, self.path)


def _table(f: TextIO, rows: list[dict], header: bool = True) -> None:
    """Summary rows as CSV into `f`."""
    writer = csv.DictWriter(f, SUMMARY_COLUMNS, extrasaction="ignore")
    if header:
        writer.writeheader()
    writer.writerows(rows)


def _output_folder(path: Path) -> None:
    """Create the output folder, or raise BatchError (a file, a file on the way)."""
    if path.exists() and not path.is_dir():
        raise BatchError(f"-o {path} is a file; many inputs are written into a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"cannot create the output folder {path}: {exc.strerror or exc}") from exc


def annotate_batch(args: argparse.Namespace, template: AnnotateJob, stop: list[int]) -> tuple[int, list[dict]]:
    """Annotate every video among `args.inputs` into `args.output` (a folder); the
    exit status (0 all done, 1 one was truncated or stopped, 2 one failed) and the
    summary rows. Raises BatchError when it cannot start."""
    outdir = Path(args.output)
    videos, skipped = collect_inputs(args.inputs)
    if not videos:
        raise BatchError("no video among the inputs" + "".join(f"\n  skipped {p}: {why}" for p, why in skipped))
    _output_folder(outdir)
    jobs = plan_jobs(videos, outdir, template)
    check_outputs([outdir / "summary.csv", *(p for j in jobs for p in (j.video, j.csv, j.tracks))],
                  inputs=videos, overwrite=args.overwrite)
    summary = SummaryFile(outdir / "summary.csv")
    for path, why in skipped:
        print(f"skipped {path}: {why}", file=sys.stderr)
    rows: list[dict] = []
    with tqdm(total=len(jobs), unit="file", desc="annotate", file=sys.stderr) as bar:
        def done(row: dict) -> None:
            rows.append(row)
            summary.add(row)
            bar.update(1)
            if row["status"] != "ok":
                tqdm.write(f"{row['status']}: {row['input']}: {row['message']}", file=sys.stderr)

        workers = max(1, min(args.workers or threads.usable_cores(), len(jobs)))
        if args.ray and not stop:  # a stop that came during the checks starts nothing
            run_ray(jobs, args.ray, done, stop)
        elif not stop:
            run_local(jobs, workers, done, stop)
    order = {job.input: i for i, job in enumerate(jobs)}
    rows.sort(key=lambda r: order[r["input"]])
    missing = [j for j in jobs if j.input not in {r["input"] for r in rows}]
    rows += [{"input": j.input, "status": "not run", "message": "the batch was stopped first"} for j in missing]
    table = rows + [{"input": p, "status": "skipped", "message": why} for p, why in skipped]
    summary.finish(table)
    codes = [r.get("code", EXIT_TRUNCATED) for r in rows]
    code = EXIT_ERROR if EXIT_ERROR in codes else EXIT_OK if all(c == EXIT_OK for c in codes) else EXIT_TRUNCATED
    if summary.error:  # the rows are not lost: they go to stderr
        print(f"error: {summary.error}; the summary rows follow", file=sys.stderr)
        _table(sys.stderr, table)
        code = EXIT_ERROR
    return code, rows
