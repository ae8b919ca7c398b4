"""One input, one run: a video file, camera or stream through `c3ae.run.frames`
into the sinks, and how it went (frames, people, why it ended) for the
single-input and the many-file commands alike.

Ctrl+C or SIGTERM ask the loop to stop after the current frame and the outputs
are finalised as after the last one (`c3ae.runtime.stops`).
"""
from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from tqdm import tqdm

from c3ae.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_TRUNCATED, EXPECTED_ERRORS
from c3ae.cli.job import AnnotateJob
from c3ae.errors import OutputExists, RecordingError, SourceCut, SourceError, UntrainedWeights
from c3ae.model.runner import AgeEngine
from c3ae.pipeline import FramePipeline
from c3ae.run import frames as run_frames
from c3ae.runtime import threads
from c3ae.runtime.stops import stop_requests
from c3ae.sink.background import BackgroundWriter
from c3ae.sink.results_log import add_tracks_to_json, track_rows, write_tracks_csv
from c3ae.sink.writer import ResultsSink, check_outputs, describe_os_error
from c3ae.source.video import VideoSource


def annotate_video(job: AnnotateJob) -> dict:
    """Run the pipeline over every frame (up to `job.duration`); returns a summary
    (frames, faces, people, fps, ...). Raises one of EXPECTED_ERRORS (or
    UntrainedWeights) with a message for the user."""
    outputs = (job.output, job.csv, job.json, job.tracks)
    with contextlib.ExitStack() as cleanup, stop_requests() as stop:
        def notice(message: str) -> None:
            if job.progress:
                tqdm.write(f"note: {message}", file=sys.stderr)

        try:
            source = cleanup.enter_context(VideoSource(job.input, reconnect_s=job.reconnect, on_notice=notice,
                                                       stop=lambda: bool(stop)))
        except SourceError:
            if not stop:
                raise
            return run_summary(job, signal=stop[0])  # stopped before frame 1 (an http download)
        if source.is_live and not job.duration:
            notice(f"{source.label} is live: it runs until stopped (Ctrl+C, or --duration S)")
        check_outputs(outputs, inputs=[] if source.is_live else [job.input], overwrite=job.overwrite)
        options = job.options.resolved(job.input)
        # one intra-op thread per stage on few cores (c3ae.runtime.threads); a batch worker's plan for its share stays
        plan = threads.apply(job.threads or threads.current())
        engine = AgeEngine(job.weights, device=options.device, warmup=False)  # verifies the weights in ~0.1 s
        trained = engine.trained
        if not trained and not job.allow_untrained:
            raise UntrainedWeights(f"{engine.status}: its ages would be placeholders. Restore or train the "
                                   f"weights (README), or pass --allow-untrained to write the video with "
                                   f"empty age columns")
        if trained:  # placeholder ages need no speed
            engine.warm_up()
        pipeline = FramePipeline(options, engine=engine, detect_every=job.detect_every)
        cleanup.callback(pipeline.close)
        writer = BackgroundWriter(ResultsSink(job.output, source.fps, source.size, csv_path=job.csv,
                                              json_path=job.json, inputs=[job.input], overwrite=job.overwrite,
                                              frame_times=True))
        frames = faces_total = 0
        limit = max(1, round(job.duration * source.fps)) if job.duration else None
        start = time.perf_counter()
        try:
            with tqdm(total=limit or source.frame_count or None, unit="frame", desc="annotate", file=sys.stderr,
                      disable=not job.progress) as bar:
                for result in run_frames(source, pipeline, limit=limit, overlapped=plan.overlap,
                                         stop=lambda: bool(stop)):
                    writer.write(result)
                    faces_total += result.detected
                    frames += 1
                    bar.update(1)
        finally:
            writer.close()
            people = track_rows(pipeline.tracker.summaries(), source.fps, trained)
            if job.tracks and frames:
                write_tracks_csv(job.tracks, people)
            if job.json and frames:
                add_tracks_to_json(job.json, people)
        elapsed = time.perf_counter() - start
        return run_summary(job, frames=frames, faces=faces_total, people=len(people), seconds=elapsed,
                           video_seconds=frames / source.fps, gaps=len(source.gaps),
                           signal=stop[0] if stop else None, trained=trained,
                           truncated=None if stop or frames == limit else source.truncation())


def run_summary(job: AnnotateJob, *, frames: int = 0, faces: int = 0, people: int = 0,
                seconds: float = 0.0, video_seconds: float = 0.0, gaps: int = 0, signal: int | None = None,
                trained: bool = True, truncated: str | None = None) -> dict:
    """What one input's run did, for the summary line, summary.csv and the exit status
    (`signal`: the stop that ended it; `truncated`: why the input ended early)."""
    return {"frames": frames, "faces": faces, "people": people, "fps": frames / max(seconds, 1e-9),
            "seconds": seconds, "video_seconds": video_seconds, "gaps": gaps, "signal": signal,
            "trained": trained, "output": str(job.output), "truncated": truncated}


def annotate_file(job: AnnotateJob) -> tuple[int, dict, str]:
    """`annotate_video` with its failures turned into an exit status and a message
    for the user: (status, summary or {} when nothing ran, message or ''); after a
    write error the summary holds only the frames saved (for a batch row)."""
    try:
        summary = annotate_video(job)
    except OutputExists as exc:
        return EXIT_ERROR, {}, f"{exc}; pass --overwrite to replace it"
    except SourceCut as exc:  # a download cut part-way: a truncated input
        return EXIT_TRUNCATED, {}, str(exc)
    except RecordingError as exc:  # the disk filled or turned read-only: the frames saved still count
        return EXIT_ERROR, run_summary(job, frames=exc.frames_saved) if exc.frames_saved else {}, str(exc)
    except (*EXPECTED_ERRORS, UntrainedWeights) as exc:
        return EXIT_ERROR, {}, str(exc)
    except OSError as exc:  # writing the per-person files after the video (e.g. the disk filled)
        return EXIT_ERROR, {}, describe_os_error(exc, Path(exc.filename or job.output))
    if summary["signal"] is not None:
        return 128 + summary["signal"], summary, ""
    if summary["truncated"]:
        return EXIT_TRUNCATED, summary, f"{summary['truncated']}; the outputs hold the {summary['frames']} frames read"
    return EXIT_OK, summary, ""
