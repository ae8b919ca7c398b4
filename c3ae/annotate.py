"""Headless annotation: a video in, an annotated MP4 and per-frame CSV/JSON out.

    python main.py annotate INPUT -o OUTPUT.mp4 [--csv OUT.csv] [--json OUT.json] [--tracks TRACKS.csv]
                   [--overwrite] [--blur] [--duration S] [--reconnect S]
                   [--device auto|cpu|cuda] [--detector auto|short|full] [--tiles auto|on|off] [--min-score 0.2..1]
                   [--min-size 0..4096] [--smoothing 0..0.99] [--weights W] [--allow-untrained]
                   [--no-bars] [--verbose]
    python main.py annotate DIR|FILE... -o OUTDIR [--workers N | --ray ADDRESS|local] [same options]

INPUT is a video file, a stream URL (rtsp://, http(s)://) or a camera (index
or name); several inputs or a folder go to `c3ae.batch`. The output keeps the
input's frame count and frame rate. Options, input and
output paths are checked before any work. Ctrl+C or SIGTERM stops early and
still leaves a playable video and the CSV rows of the frames done; even a
killed process leaves all but the last second (see `c3ae.sink`).

Exit status: 0 done; 1 the input ended before the frame count its header
announces (the outputs hold the frames read); 2 refused or failed (the message
says why, and what was saved); 130 after Ctrl+C, 143 after SIGTERM.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from . import overlap, threads
from .engine import DEFAULT_WEIGHTS, AgeEngine, WeightsError
from .face_models import FaceModelMissing
from .options import DETECTORS, DEVICES, TILES, OptionsError, PipelineOptions, range_text
from .pipeline import FramePipeline
from .results_log import add_tracks_to_json, track_rows, write_tracks_csv
from .sink import OutputExists, ResultsSink, check_outputs, describe_os_error
from .video import DEFAULT_RECONNECT_S, RecordingError, SourceError, VideoSource

EXIT_OK, EXIT_TRUNCATED, EXIT_ERROR = 0, 1, 2
EXPECTED_ERRORS = (OptionsError, SourceError, WeightsError, FaceModelMissing, RecordingError)


class UntrainedWeights(RuntimeError):
    """The model would only produce placeholder ages and the user did not accept that."""


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
                        help="also detect on overlapping tiles, for small faces in big frames "
                             "(auto: frames of 1280 px or more on the long side)")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="TorchScript C3AE weights")
    parser.add_argument("--allow-untrained", action="store_true",
                        help="run without trained weights; the age columns are then left empty")
    parser.add_argument("--min-score", type=float, default=defaults.min_score,
                        help=f"detection confidence, {range_text('min_score')}")
    parser.add_argument("--min-size", type=float, default=defaults.min_size,
                        help=f"ignore faces smaller than this, in pixels, {range_text('min_size')}")
    parser.add_argument("--smoothing", type=float, default=defaults.smoothing,
                        help=f"temporal smoothing of ages, {range_text('smoothing')}")
    parser.add_argument("--no-bars", action="store_true", help="do not draw the bar charts")
    parser.add_argument("--verbose", action="store_true", help="show the native libraries' log lines")
    return parser


def options_from(args: argparse.Namespace) -> PipelineOptions:
    """The pipeline options the arguments ask for; raises OptionsError when out of range."""
    return PipelineOptions(detector=args.detector, device=args.device, tiles=args.tiles, min_score=args.min_score,
                           min_size=args.min_size, smoothing=args.smoothing, show_bars=not args.no_bars,
                           blur=args.blur)


# the arguments that name outputs or shape the batch itself; every other one is
# handed to each file's run as it is
BATCH_ARGUMENTS = ("inputs", "output", "csv", "json", "tracks", "overwrite", "workers", "ray")


def _frames(source: VideoSource) -> Iterator:
    """The source's frames until it ends."""
    while (frame := source.read()) is not None:
        yield frame


class _BackgroundWriter:
    """Writes to the sink on one helper thread, in order, so encoding overlaps
    the model; an error surfaces on the next call."""

    def __init__(self, sink: ResultsSink, depth: int = 4) -> None:
        self._sink = sink
        self._items: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._items.get()) is not None:
            if self._error is None:
                try:
                    self._sink.write(*item)
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc

    def write(self, *item) -> None:
        if self._error is not None:
            raise self._error
        self._items.put(item)

    def close(self) -> None:
        self._items.put(None)
        self._thread.join()
        self._sink.close()
        if self._error is not None:
            raise self._error


@contextlib.contextmanager
def _stop_requests() -> Iterator[list[int]]:
    """Ctrl+C (SIGINT) and SIGTERM (kill, timeout, systemd, docker) both ask the
    loop to stop after the current frame: the list receives the signal numbers,
    and the outputs are finalised as after the last frame."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield received
        return
    previous = {sig: signal.signal(sig, lambda signum, _frame: received.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _native_logs_silenced(verbose: bool) -> Iterator[None]:
    """TFLite, absl and FFmpeg log to file descriptor 2 behind Python's back. For
    the run, point it at /dev/null and give Python's own stderr (our messages,
    the progress bar, a real traceback) a private copy of the terminal."""
    if verbose:  # and let OpenCV's FFmpeg warn again (c3ae.video quiets it; read at the first open)
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


def annotate_video(args: argparse.Namespace) -> dict:
    """Run the pipeline over every frame (up to `args.duration`); returns a summary
    (frames, faces, people, fps, ...). Raises one of EXPECTED_ERRORS (or
    UntrainedWeights) with a message for the user."""
    options = options_from(args)
    if args.duration is not None and args.duration <= 0:
        raise OptionsError(f"--duration must be more than 0 seconds; got {args.duration:g}")
    outputs = (args.output, args.csv, args.json, args.tracks)
    progress = getattr(args, "progress", True)
    with contextlib.ExitStack() as cleanup, _stop_requests() as stop:
        def notice(message: str) -> None:
            if progress:
                tqdm.write(f"note: {message}", file=sys.stderr)

        source = cleanup.enter_context(VideoSource(args.input, reconnect_s=args.reconnect, on_notice=notice))
        check_outputs(outputs, inputs=[] if source.is_live else [args.input], overwrite=args.overwrite)
        options = options.resolved(args.input)
        # one intra-op thread per stage on few cores (c3ae.threads); a batch worker's plan for its share stays
        plan = threads.apply(threads.current())
        engine = AgeEngine(args.weights, device=options.device, warmup=False)  # verifies the weights in ~0.1 s
        trained = engine.trained
        if not trained and not args.allow_untrained:
            raise UntrainedWeights(f"{engine.status}: its ages would be placeholders. Restore or train the "
                                   f"weights (README), or pass --allow-untrained to write the video with "
                                   f"empty age columns")
        if trained:  # placeholder ages need no speed
            engine.warm_up()
        pipeline = FramePipeline(options, engine=engine)
        cleanup.callback(pipeline.close)
        sink = ResultsSink(args.output, source.fps, source.size, csv_path=args.csv, json_path=args.json,
                           inputs=[args.input], overwrite=args.overwrite)
        writer = _BackgroundWriter(sink)
        frames = faces_total = 0
        limit = max(1, round(args.duration * source.fps)) if args.duration else None
        start = time.perf_counter()
        try:
            with tqdm(total=limit or source.frame_count or None, unit="frame", desc="annotate", file=sys.stderr,
                      disable=not progress) as bar:
                # detection and crops of frame n+1 on their own thread while the model reads frame n
                # decoding on its own thread too; a stop request ends it even while a stream reconnects
                decoded = overlap.ahead(_frames(source), depth=4, name="decode", until=lambda: bool(stop))
                for item in overlap.ahead(map(pipeline.prepare, decoded), name="detect", enabled=plan.overlap):
                    if frames == limit:
                        break
                    result = pipeline.finish(item)
                    writer.write(result.frame, frames, frames / source.fps, result.faces, trained)
                    faces_total += int((result.faces.missed == 0).sum())
                    frames += 1
                    bar.update(1)
        finally:
            writer.close()
            people = track_rows(pipeline.tracker.summaries(), source.fps, trained)
            if args.tracks and frames:
                write_tracks_csv(args.tracks, people)
            if args.json and frames:
                add_tracks_to_json(args.json, people)
        elapsed = time.perf_counter() - start
        return {"frames": frames, "faces": faces_total, "people": len(people), "fps": frames / max(elapsed, 1e-9),
                "seconds": elapsed, "video_seconds": frames / source.fps, "gaps": len(source.gaps),
                "signal": stop[0] if stop else None, "trained": trained, "output": str(args.output),
                "truncated": None if stop or frames == limit else source.truncation()}


def annotate_file(args: argparse.Namespace) -> tuple[int, dict, str]:
    """`annotate_video` with its failures turned into an exit status and a message
    for the user: (status, summary or {} when nothing ran, message or '')."""
    try:
        summary = annotate_video(args)
    except OutputExists as exc:
        return EXIT_ERROR, {}, f"{exc}; pass --overwrite to replace it"
    except (*EXPECTED_ERRORS, UntrainedWeights) as exc:
        return EXIT_ERROR, {}, str(exc)
    except OSError as exc:  # writing the per-person files after the video (e.g. the disk filled)
        return EXIT_ERROR, {}, describe_os_error(exc, Path(exc.filename or args.output))
    if summary["signal"] is not None:
        return 128 + summary["signal"], summary, ""
    if summary["truncated"]:
        return EXIT_TRUNCATED, summary, f"{summary['truncated']}; the outputs hold the {summary['frames']} frames read"
    return EXIT_OK, summary, ""


def _is_batch(args: argparse.Namespace) -> bool:
    """Several inputs, a folder in or out, or --ray: one result folder of many files."""
    return (len(args.inputs) > 1 or Path(args.inputs[0]).is_dir() or Path(args.output).is_dir()
            or args.output.endswith(("/", os.sep)) or args.ray is not None)


def _main_batch(args: argparse.Namespace) -> int:
    from .batch import BatchError, annotate_batch

    if args.csv or args.json or args.tracks:
        print("error: with several inputs each one gets OUTDIR/<stem>.mp4, .csv and .tracks.csv; "
              "leave out --csv, --json and --tracks", file=sys.stderr)
        return EXIT_ERROR
    if args.workers is not None and args.workers < 1:
        print(f"error: --workers must be 1 or more; got {args.workers}", file=sys.stderr)
        return EXIT_ERROR
    try:
        options_from(args)
        engine = AgeEngine(args.weights, device="cpu", warmup=False)  # refuse untrained weights before any work
        if not engine.trained and not args.allow_untrained:
            raise UntrainedWeights(f"{engine.status}: its ages would be placeholders; pass --allow-untrained "
                                   f"to annotate with empty age columns")
        with _stop_requests() as stop:
            settings = {k: v for k, v in vars(args).items() if k not in BATCH_ARGUMENTS}
            code, rows = annotate_batch(args, settings, stop)
    except OutputExists as exc:
        print(f"error: {exc}; pass --overwrite to replace it", file=sys.stderr)
        return EXIT_ERROR
    except (*EXPECTED_ERRORS, UntrainedWeights, BatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    ok = sum(r["status"] == "ok" for r in rows)
    frames = sum(int(r.get("frames") or 0) for r in rows)
    print(f"done: {ok} of {len(rows)} videos, {frames} frames -> {Path(args.output) / 'summary.csv'}")
    return 128 + stop[0] if stop else code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with _native_logs_silenced(args.verbose):
        if _is_batch(args):
            return _main_batch(args)
        args.input = args.inputs[0]
        code, summary, message = annotate_file(args)
        if summary:
            note = ""
            if summary["signal"] is not None:
                note = f" (stopped by {signal.Signals(summary['signal']).name}: the video holds the frames done)"
            if summary["gaps"]:
                note += f" ({summary['gaps']} stream gaps)"
            if not summary["trained"]:
                note += " [UNTRAINED model: age columns left empty]"
            print(f"done: {summary['frames']} frames, {summary['faces']} faces, {summary['fps']:.1f} FPS "
                  f"-> {Path(summary['output'])}{note}")
        if message:
            print(f"error: {message}", file=sys.stderr)
        return code
