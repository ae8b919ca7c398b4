"""Soak: 10,000 frames through the pipeline and the sink, reporting memory growth.

    python bench/soak.py [VIDEO] [--frames 10000] [--limit-mb 50] [--csv] [--json] [--tracks]

A benchmark, not a test (it takes minutes). Frames come from VIDEO, looped, or
from a 640x360 clip of two real faces from ../shared/datasets/aaf-train (moving
shapes without the dataset). Every frame is processed, drawn and written as
H.264 to a temporary folder with the tables asked for (--csv, --json, and
--tracks: the per-person table and JSON block at the end), through annotate's
own loop (`c3ae.run.frames`: decoding and detection ahead on helper threads, its
detection schedule, one pass without the app's seek history). Resident
memory is sampled after a warm-up, every 500 frames and after the last
table; the exit status is 1 when it grew by more than --limit-mb.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from c3ae.options import ANNOTATE_DETECT_EVERY, PipelineOptions
from c3ae.pipeline import FramePipeline
from c3ae.run import frames as run_frames
from c3ae.sink.results_log import add_tracks_to_json, track_rows, write_tracks_csv
from c3ae.sink.writer import ResultsSink
from c3ae.source.video import VideoSource

WARMUP = 200
SAMPLE_EVERY = 500


def rss_mb() -> float:
    """Resident set size of this process now (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def generated_frames(n: int = 300) -> list[np.ndarray]:
    from c3ae.errors import NoDatasetFaces
    from c3ae.training.clips import dataset_faces, face_clip_frames

    try:
        return face_clip_frames(dataset_faces(2), n=n, face_h=160)
    except NoDatasetFaces:
        frames = []
        for i in range(n):
            frame = np.full((360, 640, 3), 60, np.uint8)
            cv2.circle(frame, (40 + i * 2 % 560, 180), 40, (80, 170, 230), -1)
            frames.append(frame)
        return frames


def looped(video: str | None) -> Iterator[np.ndarray]:
    if video is None:
        yield from itertools.cycle(generated_frames())
        return
    source = VideoSource(video)
    while True:
        frame = source.read()
        if frame is None:
            source.seek(0)
            continue
        yield frame


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?")
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--limit-mb", type=float, default=50.0)
    parser.add_argument("--csv", action="store_true", help="write the per-face CSV")
    parser.add_argument("--json", action="store_true", help="write the per-frame JSON")
    parser.add_argument("--tracks", action="store_true", help="write the per-person table (and JSON block)")
    args = parser.parse_args()
    if args.frames <= WARMUP:
        parser.error(f"--frames must be more than the {WARMUP}-frame warm-up")
    frames = looped(args.video)
    first = next(frames)
    pipeline = FramePipeline(PipelineOptions(), source=args.video, detect_every=ANNOTATE_DETECT_EVERY)
    trained = pipeline.engine.trained
    samples: list[tuple[int, float]] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        json_path = folder / "soak.json" if args.json else None
        with ResultsSink(folder / "soak.mp4", 30.0, (first.shape[1], first.shape[0]),
                         csv_path=folder / "soak.csv" if args.csv else None, json_path=json_path) as sink:
            for i, result in enumerate(run_frames(itertools.chain([first], frames), pipeline, limit=args.frames,
                                                  fps=30.0)):
                sink.write(result)
                if i + 1 == WARMUP or (i + 1) % SAMPLE_EVERY == 0:
                    samples.append((i + 1, rss_mb()))
                    fps = (i + 1) / (time.perf_counter() - start)
                    print(f"{i + 1:>6} frames  {samples[-1][1]:8.1f} MB  {fps:5.1f} FPS", flush=True)
        if args.tracks:
            people = track_rows(pipeline.tracker.summaries(), 30.0, trained)
            write_tracks_csv(folder / "soak.tracks.csv", people)
            if json_path is not None:
                add_tracks_to_json(json_path, people)
            samples.append((args.frames, rss_mb()))
            print(f"{len(people)} people written: {samples[-1][1]:8.1f} MB", flush=True)
    pipeline.close()
    baseline = samples[0][1]
    growth = max(mb for _, mb in samples) - baseline
    print(f"memory growth after the {WARMUP}-frame warm-up: {growth:+.1f} MB (limit {args.limit_mb:.0f} MB)")
    return 0 if growth <= args.limit_mb else 1


if __name__ == "__main__":
    sys.exit(main())
