"""Headless annotation: a video in, an annotated MP4 and per-frame CSV/JSON out.

    python main.py annotate INPUT -o OUTPUT.mp4 [--csv OUT.csv] [--json OUT.json] [--tracks TRACKS.csv]
                   [--overwrite] [--blur] [--duration S] [--reconnect S]
                   [--device auto|cpu|cuda] [--detector auto|short|full] [--tiles auto|on|off] [--min-score 0.2..1]
                   [--min-size 0..4096] [--smoothing 0..0.99] [--weights W] [--allow-untrained]
                   [--no-bars] [--verbose]
    python main.py annotate DIR|FILE... -o OUTDIR [--workers N | --ray ADDRESS|local] [same options]

INPUT is a video file, a stream URL (rtsp://, http(s)://) or a camera (index
or name); several inputs or a folder go to `c3ae.cli.batch`. The output keeps the
input's frame count and frame rate. Options, input and
output paths are checked before any work. Ctrl+C or SIGTERM stops early and
still leaves a playable video and the CSV rows of the frames done; even a
killed process leaves all but the last second (see `c3ae.sink.writer`).

Exit status: 0 done; 1 the input ended before the frame count its header
announces, lost frames to damage, or its download was cut (the outputs hold the
frames read); 2 refused or failed (the message says why, and what was saved);
130 after Ctrl+C, 143 after SIGTERM.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from c3ae.cli.exits import EXIT_ERROR, EXPECTED_ERRORS
from c3ae.cli.job import AnnotateJob, job_from
from c3ae.errors import BatchError, OptionsError, OutputExists, UntrainedWeights
from c3ae.options import DEFAULT_RECONNECT_S, DETECTORS, DEVICES, TILES, PipelineOptions, range_text
from c3ae.runtime.paths import DEFAULT_WEIGHTS, too_long
from c3ae.runtime.stops import stop_requests
from c3ae.source.address import is_stream


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="main.py annotate", description=__doc__.splitlines()[0])
    defaults = PipelineOptions()
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="video file, stream URL (rtsp://, http://) or camera (index or name); "
                             "several files or folders annotate each video into the -o folder")
    parser.add_argument("-o", "--output", required=True,
                        help="annotated video to write (.mp4); with several inputs, a folder")
    parser.add_argument("--csv", help="per-face, per-frame results as CSV")
    parser.add_argument("--json", help="per-frame results as JSON (with the per-person block of --tracks)")
    parser.add_argument("--tracks", help="per-person results as CSV: one row per track with its age and band")
    parser.add_argument("--overwrite", action="store_true", help="replace output files that already exist")
    parser.add_argument("--blur", action="store_true",
                        help="pixelate every face in the video (labels and charts stay; the CSV is unchanged)")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="stop after S seconds of video (for cameras and live streams)")
    parser.add_argument("--reconnect", type=float, default=DEFAULT_RECONNECT_S, metavar="S",
                        help="how long a dropped stream is retried before it counts as ended")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="several inputs: files annotated at once, one process each (default: the cores)")
    parser.add_argument("--ray", metavar="ADDRESS|local",
                        help="several inputs: run the files as Ray tasks, on a cluster at ADDRESS or here")
    parser.add_argument("--device", choices=DEVICES, default=defaults.device, help="auto: CUDA when available")
    parser.add_argument("--detector", choices=DETECTORS, default=defaults.detector,
                        help="BlazeFace range model (auto for files: full, finds small faces)")
    parser.add_argument("--tiles", choices=TILES, default=defaults.tiles,
                        help="also detect on overlapping tiles, for small faces in big frames (auto: frames "
                             "of 1280 px or more, while small faces are in view; on: crowd mode, always)")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="TorchScript C3AE weights")
    parser.add_argument("--allow-untrained", action="store_true",
                        help="run without trained weights; the age columns are then left empty")
    parser.add_argument("--min-score", type=float, default=defaults.min_score,
                        help=f"detection confidence, {range_text('min_score')}")
    parser.add_argument("--min-size", type=float, default=defaults.min_size,
                        help=f"ignore faces smaller than this, in pixels, {range_text('min_size')}")
    parser.add_argument("--smoothing", type=float, default=defaults.smoothing,
                        help=f"smoothing of the live age chart (a person's age fuses all their frames), "
                             f"{range_text('smoothing')}")
    parser.add_argument("--no-bars", action="store_true", help="do not draw the bar charts")
    parser.add_argument("--verbose", action="store_true", help="show the native libraries' log lines")
    return parser




@contextlib.contextmanager
def _native_logs_silenced(verbose: bool) -> Iterator[None]:
    """TFLite, absl and FFmpeg log to file descriptor 2 behind Python's back. For
    the run, point it at /dev/null and give Python's own stderr (our messages,
    the progress bar, a real traceback) a private copy of the terminal."""
    if verbose:  # and let OpenCV's FFmpeg warn again (c3ae.source.video quiets it; read at the first open)
        os.environ.update(OPENCV_FFMPEG_LOGLEVEL="24", OPENCV_LOG_LEVEL="INFO")
        yield
        return
    previous = sys.stderr
    try:
        python_writes_fd2 = previous.fileno() == 2
    except (AttributeError, OSError, ValueError):  # e.g. captured by a test runner
        python_writes_fd2 = False
    previous.flush()
    saved = os.dup(2)
    if python_writes_fd2:
        sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        if sys.stderr is not previous:
            sys.stderr.close()
            sys.stderr = previous


def _is_batch(args: argparse.Namespace) -> bool:
    """Several inputs, a folder in or out, or --ray: one result folder of many files."""
    return (len(args.inputs) > 1 or Path(args.inputs[0]).is_dir() or Path(args.output).is_dir()
            or args.output.endswith(("/", os.sep)) or args.ray is not None)


def _main_batch(args: argparse.Namespace, template: AnnotateJob) -> int:
    if args.csv or args.json or args.tracks:
        print("error: with several inputs each one gets OUTDIR/<stem>.mp4, .csv and .tracks.csv; "
              "leave out --csv, --json and --tracks", file=sys.stderr)
        return EXIT_ERROR
    if args.workers is not None and args.workers < 1:
        print(f"error: --workers must be 1 or more; got {args.workers}", file=sys.stderr)
        return EXIT_ERROR
    # from here a stop is a request (the batch then runs nothing), never a KeyboardInterrupt traceback
    with stop_requests() as stop:
        try:
            from c3ae.cli.batch import annotate_batch  # the heavy modules, once the options are known good
            from c3ae.model.runner import AgeEngine

            engine = AgeEngine(args.weights, device="cpu", warmup=False)  # refuse untrained weights before any work
            if not engine.trained and not args.allow_untrained:
                raise UntrainedWeights(f"{engine.status}: its ages would be placeholders; pass --allow-untrained "
                                       f"to annotate with empty age columns")
            code, rows = annotate_batch(args, template, stop)
        except OutputExists as exc:
            print(f"error: {exc}; pass --overwrite to replace it", file=sys.stderr)
            return EXIT_ERROR
        except (*EXPECTED_ERRORS, UntrainedWeights, BatchError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
    ok = sum(r["status"] == "ok" for r in rows)
    frames = sum(int(r.get("frames") or 0) for r in rows)
    note = f" (stopped by {signal.Signals(stop[0]).name})" if stop else ""
    print(f"done: {ok} of {len(rows)} videos, {frames} frames -> {Path(args.output) / 'summary.csv'}{note}")
    return 128 + stop[0] if stop else code


def _too_long(args: argparse.Namespace) -> str | None:
    """The first path given that the system would refuse as too long, and why."""
    given = [("input", i) for i in args.inputs if not (is_stream(i) or i.strip().isdigit())]
    given += [(f"--{k}" if k != "output" else "-o", getattr(args, k)) for k in ("output", "csv", "json", "tracks")]
    for what, path in given:
        if path and (why := too_long(path)):
            shown = path if len(path) <= 60 else f"{path[:28]}...{path[-28:]}"
            return f"{what} {shown}: {why}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:  # checked before the model, the detector and the codecs load: a typo is refused at once
        job = job_from(args, args.inputs[0], args.output)
    except OptionsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if problem := _too_long(args):
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    with _native_logs_silenced(args.verbose):
        if _is_batch(args):
            return _main_batch(args, job)
        from c3ae.cli.one_input import annotate_file

        code, summary, message = annotate_file(job)
        if summary and code != EXIT_ERROR:
            note = ""
            if summary["signal"] is not None:
                held = ("the video holds the frames done" if summary["frames"]
                        else "before the first frame, nothing written")
                note = f" (stopped by {signal.Signals(summary['signal']).name}: {held})"
            if summary["gaps"]:
                note += f" ({summary['gaps']} stream gaps)"
            if not summary["trained"]:
                note += " [UNTRAINED model: age columns left empty]"
            print(f"done: {summary['frames']} frames, {summary['faces']} faces, {summary['fps']:.1f} FPS "
                  f"-> {Path(summary['output'])}{note}")
        if message:
            print(f"error: {message}", file=sys.stderr)
        return code
