"""One input, one run: the pipeline over a video, camera or stream into the sink,
with the exit statuses the single-file and the many-file commands both report.

Ctrl+C or SIGTERM ask the loop to stop after the current frame and the outputs
are finalised as after the last one (`stop_requests`).
"""
from __future__ import annotations

import argparse
import contextlib
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from c3ae.engine.runner import AgeEngine
from c3ae.errors import (
    FaceModelMissing,
    OptionsError,
    OutputExists,
    RecordingError,
    SourceCut,
    SourceError,
    UntrainedWeights,
    WeightsError,
)
from c3ae.options import PipelineOptions
from c3ae.pipeline import ANNOTATE_DETECT_EVERY, PREPARE_AHEAD, FramePipeline
from c3ae.runtime import overlap, threads
from c3ae.runtime.stops import STOP_SIGNALS, StopRecorder
from c3ae.sink.results_log import add_tracks_to_json, track_rows, write_tracks_csv
from c3ae.sink.writer import ResultsSink, check_outputs, describe_os_error
from c3ae.source.video import VideoSource

EXIT_OK, EXIT_TRUNCATED, EXIT_ERROR = 0, 1, 2
EXPECTED_ERRORS = (OptionsError, SourceError, WeightsError, FaceModelMissing, RecordingError)



def options_from(args: argparse.Namespace) -> PipelineOptions:
    """The pipeline options the arguments ask for; raises OptionsError when out of range."""
    return PipelineOptions(detector=args.detector, device=args.device, tiles=args.tiles, min_score=args.min_score,
                           min_size=args.min_size, smoothing=args.smoothing, show_bars=not args.no_bars,
                           blur=args.blur)


def _frames(source: VideoSource, times: deque[float]) -> Iterator:
    """The source's frames until it ends; each one's presentation time goes to
    `times`, in order (the reading runs ahead on its own thread)."""
    while (frame := source.read()) is not None:
        times.append(source.time_s)
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
def stop_requests() -> Iterator[list[int]]:
    """Ctrl+C (SIGINT) and SIGTERM (kill, timeout, systemd, docker) both ask the
    loop to stop after the current frame: the list receives the signal numbers,
    and the outputs are finalised as after the last frame. Nested in an outer
    one (a batch, a batch worker), it shares the outer list, so a stop that came
    before this run started still counts."""
    outer = signal.getsignal(signal.SIGINT)
    if isinstance(outer, StopRecorder):
        yield outer.received
        return
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield []
        return
    recorder = StopRecorder()
    previous = {sig: signal.signal(sig, recorder) for sig in STOP_SIGNALS}
    try:
        yield recorder.received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def annotate_video(args: argparse.Namespace) -> dict:
    """Run the pipeline over every frame (up to `args.duration`); returns a summary
    (frames, faces, people, fps, ...). Raises one of EXPECTED_ERRORS (or
    UntrainedWeights) with a message for the user."""
    options = options_from(args)
    if args.duration is not None and args.duration <= 0:
        raise OptionsError(f"--duration must be more than 0 seconds; got {args.duration:g}")
    outputs = (args.output, args.csv, args.json, args.tracks)
    progress = getattr(args, "progress", True)
    with contextlib.ExitStack() as cleanup, stop_requests() as stop:
        def notice(message: str) -> None:
            if progress:
                tqdm.write(f"note: {message}", file=sys.stderr)

        try:
            source = cleanup.enter_context(VideoSource(args.input, reconnect_s=args.reconnect, on_notice=notice,
                                                       stop=lambda: bool(stop)))
        except SourceError:
            if not stop:
                raise
            return run_summary(args, signal=stop[0])  # stopped before frame 1 (an http download)
        if source.is_live and not args.duration:
            notice(f"{source.label} is live: it runs until stopped (Ctrl+C, or --duration S)")
        check_outputs(outputs, inputs=[] if source.is_live else [args.input], overwrite=args.overwrite)
        options = options.resolved(args.input)
        # one intra-op thread per stage on few cores (c3ae.runtime.threads); a batch worker's plan for its share stays
        plan = threads.apply(threads.current())
        engine = AgeEngine(args.weights, device=options.device, warmup=False)  # verifies the weights in ~0.1 s
        trained = engine.trained
        if not trained and not args.allow_untrained:
            raise UntrainedWeights(f"{engine.status}: its ages would be placeholders. Restore or train the "
                                   f"weights (README), or pass --allow-untrained to write the video with "
                                   f"empty age columns")
        if trained:  # placeholder ages need no speed
            engine.warm_up()
        pipeline = FramePipeline(options, engine=engine, detect_every=ANNOTATE_DETECT_EVERY)
        cleanup.callback(pipeline.close)
        sink = ResultsSink(args.output, source.fps, source.size, csv_path=args.csv, json_path=args.json,
                           inputs=[args.input], overwrite=args.overwrite, frame_times=True)
        writer = _BackgroundWriter(sink)
        frames = faces_total = 0
        limit = max(1, round(args.duration * source.fps)) if args.duration else None
        start = time.perf_counter()
        try:
            with tqdm(total=limit or source.frame_count or None, unit="frame", desc="annotate", file=sys.stderr,
                      disable=not progress) as bar:
                # detection and crops of frame n+1 on their own thread while the model reads frame n
                # decoding on its own thread too; a stop request ends it even while a stream reconnects
                times: deque[float] = deque()
                decoded = overlap.ahead(_frames(source, times), depth=4, name="decode", until=lambda: bool(stop))
                for item in overlap.ahead(map(pipeline.prepare, decoded), name="detect", depth=PREPARE_AHEAD,
                                          enabled=plan.overlap):
                    if frames == limit:
                        break
                    result = pipeline.finish(item)
                    writer.write(result.frame, frames, times.popleft(), result.faces, trained)
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
        return run_summary(args, frames=frames, faces=faces_total, people=len(people), seconds=elapsed,
                           video_seconds=frames / source.fps, gaps=len(source.gaps),
                           signal=stop[0] if stop else None, trained=trained,
                           truncated=None if stop or frames == limit else source.truncation())


def run_summary(args: argparse.Namespace, *, frames: int = 0, faces: int = 0, people: int = 0,
                seconds: float = 0.0, video_seconds: float = 0.0, gaps: int = 0, signal: int | None = None,
                trained: bool = True, truncated: str | None = None) -> dict:
    """What one file's run did, for the summary line, summary.csv and the exit status
    (`signal`: the stop that ended it; `truncated`: why the input ended early)."""
    return {"frames": frames, "faces": faces, "people": people, "fps": frames / max(seconds, 1e-9),
            "seconds": seconds, "video_seconds": video_seconds, "gaps": gaps, "signal": signal,
            "trained": trained, "output": str(args.output), "truncated": truncated}


def annotate_file(args: argparse.Namespace) -> tuple[int, dict, str]:
    """`annotate_video` with its failures turned into an exit status and a message
    for the user: (status, summary or {} when nothing ran, message or ''); after a
    write error the summary holds only the frames saved (for a batch row)."""
    try:
        summary = annotate_video(args)
    except OutputExists as exc:
        return EXIT_ERROR, {}, f"{exc}; pass --overwrite to replace it"
    except SourceCut as exc:  # a download cut part-way: a truncated input
        return EXIT_TRUNCATED, {}, str(exc)
    except RecordingError as exc:  # the disk filled or turned read-only: the frames saved still count
        return EXIT_ERROR, run_summary(args, frames=exc.frames_saved) if exc.frames_saved else {}, str(exc)
    except (*EXPECTED_ERRORS, UntrainedWeights) as exc:
        return EXIT_ERROR, {}, str(exc)
    except OSError as exc:  # writing the per-person files after the video (e.g. the disk filled)
        return EXIT_ERROR, {}, describe_os_error(exc, Path(exc.filename or args.output))
    if summary["signal"] is not None:
        return 128 + summary["signal"], summary, ""
    if summary["truncated"]:
        return EXIT_TRUNCATED, summary, f"{summary['truncated']}; the outputs hold the {summary['frames']} frames read"
    return EXIT_OK, summary, ""


