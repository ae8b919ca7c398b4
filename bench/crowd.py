"""Crowds in big frames: faces found in a 2560x1440 mosaic against each shot alone, and FPS.

    python bench/crowd.py [--frames 60] [--per-cell 3] [--face-h 100] [--tiles auto|on|off] [--detect-every K]

Builds, in a temporary folder, a 2560x1440 clip: a 4x4 mosaic of 640x360 shots,
each of `per-cell` dataset portraits (../shared/datasets/aaf-train) swaying on
grey (`c3ae.training.clips.crowd_frames`). The reference for each frame is the
number of faces the same full-range detector finds in each shot alone, summed.
Then the clip goes through the pipeline as `annotate` runs it (decode, then
detection of frame n+1 beside the crops, model, tracker and drawing of frame n;
the thread policy of `c3ae.runtime.threads`; annotate's detection schedule,
`c3ae.detect.schedule`, or `--detect-every 1` for detection on every frame),
and prints, as medians over frames: faces detected on the frames detection ran
on, faces reported on every frame (with the tracks carried between looks),
their share of the reference, the full frame without tiles, and the processing
FPS (no encoding). Last, `main.py annotate` runs on the clip end to end (with
H.264 encoding and CSV) and its FPS is printed.
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from c3ae.detect.blazeface import FaceDetector
from c3ae.errors import NoDatasetFaces
from c3ae.options import ANNOTATE_DETECT_EVERY, PipelineOptions
from c3ae.pipeline import FramePipeline
from c3ae.run import frames
from c3ae.runtime import threads
from c3ae.source.video import VideoSource
from c3ae.training.clips import crowd_frames, dataset_faces

ROOT = Path(__file__).resolve().parent.parent


def build_clip(path: Path, frames: int, per_cell: int, face_h: int) -> tuple[list[int], list[int]]:
    """Write the mosaic clip; returns per frame the faces found in the shots alone and
    in the whole mosaic by the plain detector (no tiles)."""
    try:
        faces = dataset_faces(16 * per_cell)
    except NoDatasetFaces as exc:
        raise SystemExit(str(exc)) from None
    reference, plain = [], []
    writer = None
    with FaceDetector("full", video=False) as detector:
        for mosaic, cells in crowd_frames(faces, n=frames, per_cell=per_cell, face_h=face_h):
            if writer is None:
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0,
                                         (mosaic.shape[1], mosaic.shape[0]))
            writer.write(mosaic)
            reference.append(sum(len(detector.detect(c)) for c in cells))
            plain.append(len(detector.detect(mosaic)))
    writer.release()
    return reference, plain


def process(path: Path, tiles: str, every: int) -> tuple[list[int | None], list[int], float]:
    """Faces detected (None on frames the schedule did not detect on) and reported per frame,
    and processing FPS, as annotate runs the pipeline."""
    threads.apply()
    source = VideoSource(str(path))
    pipeline = FramePipeline(PipelineOptions(detector="full", device="cpu", tiles=tiles), detect_every=every)
    detected, reported = [], []
    start = time.perf_counter()
    try:
        for result in frames(source, pipeline):
            detected.append(result.detected if result.looked else None)
            reported.append(len(result.faces))
    finally:
        elapsed = time.perf_counter() - start
        pipeline.close()
        source.release()
    return detected, reported, len(detected) / elapsed


def annotate_fps(path: Path, out_dir: Path, tiles: str) -> float:
    """FPS that a fresh `main.py annotate` reports on the clip (encoding and CSV included)."""
    cli = [sys.executable, str(ROOT / "main.py"), "annotate", str(path), "-o", str(out_dir / "crowd.mp4"),
           "--csv", str(out_dir / "crowd.csv"), "--detector", "full", "--device", "cpu", "--tiles", tiles,
           "--allow-untrained"]
    done = subprocess.run(cli, cwd=ROOT, capture_output=True, text=True, check=True)
    return float(re.search(r"([0-9.]+) FPS", done.stdout).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--per-cell", type=int, default=3, help="portraits per 640x360 shot")
    parser.add_argument("--face-h", type=int, default=100, help="portrait height in pixels")
    parser.add_argument("--tiles", choices=["auto", "on", "off"], default="auto")
    parser.add_argument("--detect-every", type=int, default=ANNOTATE_DETECT_EVERY,
                        help="the detection schedule's k (annotate's by default; 1: every frame)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "crowd_2560x1440.mp4"
        reference, plain = build_clip(clip, args.frames, args.per_cell, args.face_h)
        detected, reported, fps = process(clip, args.tiles, args.detect_every)
        ref = statistics.median(reference)
        print(f"2560x1440 mosaic of 4x4 shots, {args.per_cell} portraits each, {len(reference)} frames; "
              f"tiles={args.tiles}, detection at least every {args.detect_every} frames, "
              f"{threads.current().cores} cores")
        print(f"  faces per frame, each shot alone (reference): {ref:.0f} (median)")
        looked = [(c, r) for c, r in zip(detected, reference) if c is not None]
        for name, pairs in (("full frame, no tiles", list(zip(plain, reference))),
                            (f"pipeline, detected ({len(looked)} frames)", looked),
                            ("pipeline, reported (tracks carried)", list(zip(reported, reference)))):
            share = statistics.median(c / max(r, 1) for c, r in pairs)
            print(f"  {name:>36}: {statistics.median(c for c, _ in pairs):5.1f} faces/frame, "
                  f"{share:6.1%} of the reference")
        print(f"  processing: {fps:.1f} FPS (decode to draw, no encoding)", flush=True)
        print(f"  main.py annotate: {annotate_fps(clip, Path(tmp), args.tiles):.1f} FPS (H.264 + CSV)")


if __name__ == "__main__":
    main()
