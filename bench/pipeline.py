"""Per-stage milliseconds, and the FPS of headless annotation, on a video.

    python bench/pipeline.py [VIDEO] [--detector short|full] [--device cpu|cuda] [--busy] [--baseline]
                             [--every-frame] [--repeats 3] [--scene two-faces|audience|multishot]
                             [--size 360p|720p|1080p]

Without VIDEO it builds a clip from the real faces of ../shared/datasets/aaf-train
in a temporary folder (never in the repo): one of `c3ae.training.clips.SCENES`
(two faces, an audience of eight, the multi-shot clip), at 640x360 or rescaled
to 720p or 1080p (what a camera of that size delivers).
Stages: decode, detect, crop, infer, track, draw, encode; medians per frame,
timed one after the other, with the thread policy of `c3ae.runtime.threads`. Then
the clip is annotated in a fresh process as `main.py annotate` does it (decode,
detect, model and encode overlap there; the knobs below are `AnnotateJob`
parameters) and its FPS is printed, the median of `repeats` runs. `--busy`
runs it again while a busy loop of our own (another process) keeps one core
busy, as any desktop program may, and prints the ratio busy/quiet. `--baseline` does the same with torch's and OpenCV's
default threads and no overlap (the behaviour before the policy).
`--every-frame` also runs annotate with detection on every frame (no
detection schedule, `c3ae.detect.schedule`), its runs interleaved with the
shipped ones so both see the same load, and prints the FPS ratio and the ratio
of CPU seconds the runs used (less sensitive to other load; start-up included).
"""
from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from c3ae.cli.job import AnnotateJob
from c3ae.cli.one_input import annotate_file
from c3ae.errors import NoDatasetFaces
from c3ae.options import PipelineOptions, default_detector_for
from c3ae.pipeline import FramePipeline
from c3ae.runtime import threads
from c3ae.sink.writer import ResultsSink
from c3ae.source.video import VideoSource
from c3ae.training.clips import SCENE_SIZES, SCENES, scene_clips

STAGES = ("decode", "detect", "crop", "infer", "track", "draw", "encode")


ROOT = Path(__file__).resolve().parent.parent
BUSY_LOOP = "while True: pass"


def annotate_fps(video: Path, out_dir: Path, detector: str, device: str, baseline: bool,
                 detect_every: int | None = None) -> float:
    """FPS of one headless annotation (its loop only, start-up excluded) in a fresh
    process: this file's `--child` mode, which runs `annotate_file` as `main.py
    annotate` does, with the knobs given as parameters: `baseline` (the libraries'
    own threads, no overlap: `threads.library_defaults`) and `detect_every`."""
    cli = [sys.executable, str(Path(__file__).resolve()), str(video), "--child", str(out_dir / "annotate.mp4"),
           "--detector", detector, "--device", device]
    cli += ["--baseline"] if baseline else []
    cli += ["--detect-every", str(detect_every)] if detect_every else []
    done = subprocess.run(cli, cwd=ROOT, capture_output=True, text=True, check=True)
    return float(re.search(r"([0-9.]+) FPS", done.stdout).group(1))


def child(args: argparse.Namespace) -> None:
    """One annotation run with the given knobs; prints its FPS."""
    job = AnnotateJob(args.video, args.child_output, PipelineOptions(detector=args.detector, device=args.device),
                      csv=str(Path(args.child_output).with_suffix(".csv")), overwrite=True, allow_untrained=True,
                      progress=False, threads=threads.library_defaults() if args.baseline else None,
                      **({"detect_every": args.detect_every} if args.detect_every else {}))
    code, summary, message = annotate_file(job)
    if code != 0:
        raise SystemExit(f"annotate failed ({code}): {message}")
    print(f"{summary['fps']:.1f} FPS")


def quiet_and_busy(video: Path, out_dir: Path, detector: str, device: str, baseline: bool, busy: bool,
                   repeats: int) -> None:
    """Median annotate FPS on a quiet machine and, with `busy`, beside a busy loop."""
    label = "baseline (library threads, sequential)" if baseline else "thread policy + overlap"
    quiet = statistics.median(annotate_fps(video, out_dir, detector, device, baseline) for _ in range(repeats))
    line = f"  main.py annotate, {label}: quiet {quiet:.1f} FPS"
    if busy:
        loop = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
        try:
            time.sleep(0.5)
            loaded = statistics.median(annotate_fps(video, out_dir, detector, device, baseline)
                                       for _ in range(repeats))
        finally:
            loop.kill()
            loop.wait()
        line += f", one core busy {loaded:.1f} FPS, ratio {loaded / quiet:.2f}"
    print(line + f" (median of {repeats})", flush=True)


def cpu_seconds(run: Callable[[], float]) -> tuple[float, float]:
    """`run()`'s result and the CPU seconds (user + system) its child processes used:
    less sensitive than FPS to what else the machine runs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return result, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def every_frame_ab(video: Path, out_dir: Path, detector: str, device: str, repeats: int) -> None:
    """Shipped annotate against detection on every frame, runs interleaved (A B A B ...):
    FPS and whole-process CPU seconds (start-up included, the same for both)."""
    runs: dict[str, list[tuple[float, float]]] = {"shipped": [], "every": []}
    for _ in range(repeats):
        runs["shipped"].append(cpu_seconds(lambda: annotate_fps(video, out_dir, detector, device, False)))
        runs["every"].append(cpu_seconds(lambda: annotate_fps(video, out_dir, detector, device, False,
                                                              detect_every=1)))
    (a, a_cpu), (b, b_cpu) = ((statistics.median(f for f, _ in r), statistics.median(c for _, c in r))
                              for r in runs.values())
    print(f"  main.py annotate, detection schedule {a:.1f} FPS, detection on every frame {b:.1f} FPS, "
          f"ratio {a / b:.2f}; CPU {a_cpu:.1f} s against {b_cpu:.1f} s a run, ratio {b_cpu / a_cpu:.2f} "
          f"(medians of {repeats}, interleaved)", flush=True)


def run(video: Path, detector: str, device: str, out_dir: Path) -> None:
    source = VideoSource(str(video))
    pipeline = FramePipeline(PipelineOptions(detector=detector, device=device))
    recorder = ResultsSink(out_dir / "annotated.mp4", source.fps, source.size)
    per_stage = {s: [] for s in STAGES}
    faces = 0
    start = time.perf_counter()
    while True:
        t = time.perf_counter()
        frame = source.read()
        if frame is None:
            break
        per_stage["decode"].append((time.perf_counter() - t) * 1e3)
        result = pipeline.process(frame, index=len(per_stage["encode"]), time_s=len(per_stage["encode"]) / source.fps)
        for stage, ms in result.timings.items():
            per_stage[stage].append(ms)
        t = time.perf_counter()
        recorder.write(result)
        per_stage["encode"].append((time.perf_counter() - t) * 1e3)
        faces += int((result.faces.missed == 0).sum())
    elapsed = time.perf_counter() - start
    recorder.close()
    n = len(per_stage["decode"])
    print(f"{video.name}: {source.size[0]}x{source.size[1]}, {n} frames, {faces / max(n, 1):.2f} faces/frame, "
          f"detector={detector}, {pipeline.engine.device}, {pipeline.engine.status}")
    for stage in STAGES:
        print(f"  {stage:>6}: {statistics.median(per_stage[stage]):6.2f} ms/frame (median)")
    print(f"  overall: {n / elapsed:.1f} FPS ({elapsed:.2f} s, decode to encode, one after another)", flush=True)
    source.release()
    pipeline.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?")
    parser.add_argument("--detector", choices=["short", "full"])
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--busy", action="store_true", help="also measure annotate beside a busy loop on one core")
    parser.add_argument("--baseline", action="store_true", help="also measure the library default threads")
    parser.add_argument("--every-frame", action="store_true",
                        help="also measure annotate with detection on every frame (A/B, interleaved)")
    parser.add_argument("--repeats", type=int, default=3, help="annotate runs per figure (median)")
    parser.add_argument("--scene", choices=SCENES, default="two-faces", help="the clip built when no VIDEO is given")
    parser.add_argument("--size", choices=list(SCENE_SIZES), default="360p", help="... and its frame size")
    parser.add_argument("--child", metavar="OUTPUT", dest="child_output", help=argparse.SUPPRESS)
    parser.add_argument("--detect-every", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_output:
        child(args)
        return
    plan = threads.apply()
    print(f"{plan.cores} cores: torch {plan.torch_threads}, OpenCV {plan.opencv_threads}, "
          f"x264 {plan.encoder_threads} threads, overlap {plan.overlap}")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            video = Path(args.video) if args.video else scene_clips(Path(tmp), args.scene, (args.size,))[args.size]
        except NoDatasetFaces as exc:
            raise SystemExit(f"no video given and {exc}") from None
        detector = args.detector or default_detector_for(str(video))
        run(video, detector, args.device, Path(tmp))
        for baseline in (False, True) if args.baseline else (False,):
            quiet_and_busy(video, Path(tmp), detector, args.device, baseline, args.busy, args.repeats)
        if args.every_frame:
            every_frame_ab(video, Path(tmp), detector, args.device, args.repeats)


if __name__ == "__main__":
    main()
