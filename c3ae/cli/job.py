"""One headless run's request, as one object: what to read, what to write, and how.

The command line builds it from its arguments (`job_from`), a batch copies it
per file, a bench sets its knobs; nothing below the command line sees the
arguments themselves. Light to import: it is built before anything heavy loads.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from c3ae.errors import OptionsError
from c3ae.options import ANNOTATE_DETECT_EVERY, DEFAULT_RECONNECT_S, PipelineOptions
from c3ae.runtime.paths import DEFAULT_WEIGHTS
from c3ae.runtime.threads import ThreadPlan


@dataclass(frozen=True)
class AnnotateJob:
    """`input` (a file, stream or camera) annotated into `output` (an MP4), with
    optional per-face CSV/JSON and per-person CSV (`tracks`)."""

    input: str
    output: str
    options: PipelineOptions = field(default_factory=PipelineOptions)
    csv: str | None = None
    json: str | None = None
    tracks: str | None = None
    overwrite: bool = False
    duration: float | None = None  # seconds of video, then stop (cameras, live streams)
    reconnect: float = DEFAULT_RECONNECT_S  # seconds a dropped stream is retried
    weights: str = str(DEFAULT_WEIGHTS)
    allow_untrained: bool = False  # run without trained weights, leaving the age columns empty
    progress: bool = True  # the progress bar and notes on stderr
    detect_every: int = ANNOTATE_DETECT_EVERY  # detect at least every this many frames (`c3ae.detect.schedule`)
    threads: ThreadPlan | None = None  # thread counts and overlap (None: the process's policy, `c3ae.runtime.threads`)

    def __post_init__(self) -> None:
        if self.duration is not None and not self.duration > 0:
            raise OptionsError(f"--duration must be more than 0 seconds; got {self.duration:g}")


def options_from(args: argparse.Namespace) -> PipelineOptions:
    """The pipeline options the arguments ask for; raises OptionsError when out of range."""
    return PipelineOptions(detector=args.detector, device=args.device, tiles=args.tiles, min_score=args.min_score,
                           min_size=args.min_size, smoothing=args.smoothing, show_bars=not args.no_bars,
                           blur=args.blur)


def job_from(args: argparse.Namespace, input: str, output: str) -> AnnotateJob:
    """The run `main.py annotate` asks for, for one input; raises OptionsError."""
    return AnnotateJob(input=input, output=output, options=options_from(args), csv=args.csv, json=args.json,
                       tracks=args.tracks, overwrite=args.overwrite, duration=args.duration,
                       reconnect=args.reconnect, weights=args.weights, allow_untrained=args.allow_untrained)
