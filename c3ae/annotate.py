"""Headless annotation: a video file in, an annotated MP4 and per-frame CSV/JSON out.

    python main.py annotate INPUT -o OUTPUT.mp4 [--csv OUT.csv] [--json OUT.json]
                   [--device cpu|cuda] [--detector short|full]

The output keeps the input's frame count and frame rate. Ctrl+C stops early
and still leaves a playable video and complete CSV rows for the frames done.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm

from .detect import DEFAULT_MIN_SCORE, default_model_for
from .engine import DEFAULT_WEIGHTS, WeightsError
from .face_models import FaceModelMissing
from .pipeline import FramePipeline
from .results_log import ResultsLog
from .video import RecordingError, SourceError, VideoRecorder, VideoSource


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="main.py annotate", description=__doc__.splitlines()[0])
    parser.add_argument("input", help="video file to annotate")
    parser.add_argument("-o", "--output", required=True, help="annotated video to write (.mp4)")
    parser.add_argument("--csv", help="per-face, per-frame results as CSV")
    parser.add_argument("--json", help="per-frame results as JSON")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: CUDA when available")
    parser.add_argument("--detector", choices=["short", "full"], default=None,
                        help="BlazeFace range model (default for files: full, finds small faces)")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="TorchScript C3AE weights")
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE, help="detection confidence")
    parser.add_argument("--min-size", type=float, default=0.0, help="ignore faces smaller than this (px)")
    parser.add_argument("--smoothing", type=float, default=0.85, help="temporal smoothing 0..0.99")
    parser.add_argument("--no-bars", action="store_true", help="do not draw the bar charts")
    return parser


def annotate_video(args: argparse.Namespace) -> dict:
    """Run the pipeline over every frame; returns a summary (frames, faces, fps)."""
    source = VideoSource(args.input)
    if source.is_camera:
        source.release()
        raise SourceError("annotate works on video files; use the app for cameras")
    pipeline = FramePipeline(detector_model=args.detector or default_model_for(args.input),
                             weights=args.weights, device=args.device, min_score=args.min_score,
                             min_size=args.min_size, smoothing=args.smoothing, show_bars=not args.no_bars)
    recorder = VideoRecorder(args.output, source.fps, source.size)
    log = ResultsLog(args.csv, args.json)
    frames = faces_total = 0
    interrupted = False
    start = time.perf_counter()
    try:
        with tqdm(total=source.frame_count or None, unit="frame", desc="annotate", file=sys.stderr) as bar:
            while (frame := source.read()) is not None:
                result = pipeline.process(frame)
                recorder.write(result.frame)
                log.write(frames, frames / source.fps, result.faces, pipeline.engine.trained)
                faces_total += int((result.faces.missed == 0).sum())
                frames += 1
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        recorder.close()
        log.close()
        source.release()
        pipeline.close()
    elapsed = time.perf_counter() - start
    return {"frames": frames, "faces": faces_total, "fps": frames / max(elapsed, 1e-9),
            "seconds": elapsed, "interrupted": interrupted, "trained": pipeline.engine.trained,
            "output": str(args.output)}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        summary = annotate_video(args)
    except (SourceError, WeightsError, FaceModelMissing, RecordingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    note = " (interrupted: the video holds the frames done so far)" if summary["interrupted"] else ""
    if not summary["trained"]:
        note += " [UNTRAINED model: ages are placeholders]"
    print(f"done: {summary['frames']} frames, {summary['faces']} faces, {summary['fps']:.1f} FPS "
          f"-> {Path(summary['output'])}{note}")
    return 130 if summary["interrupted"] else 0
