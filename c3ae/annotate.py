"""Headless annotation: a video file in, an annotated MP4 and per-frame CSV/JSON out.

    python main.py annotate INPUT -o OUTPUT.mp4 [--csv OUT.csv] [--json OUT.json]
                   [--device cpu|cuda] [--detector short|full]

The output keeps the input's frame count and frame rate. Ctrl+C stops early
and still leaves a playable video and complete CSV rows for the frames done.
"""
from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from collections.abc import Iterator
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


def _prefetched(source: VideoSource, depth: int = 4) -> Iterator:
    """Decode frames on a helper thread (OpenCV releases the GIL) so decoding
    overlaps detection and inference; the bounded queue caps memory."""
    frames: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            frame = source.read()
            frames.put(frame)
            if frame is None:
                return

    reader = threading.Thread(target=read, name="decode", daemon=True)
    reader.start()
    try:
        while (frame := frames.get()) is not None:
            yield frame
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting on a full queue
            try:
                frames.get_nowait()
            except queue.Empty:
                reader.join(0.01)


class _BackgroundWriter:
    """Encodes frames on one helper thread, in order; errors surface on the next call."""

    def __init__(self, recorder: VideoRecorder, depth: int = 4) -> None:
        self._recorder = recorder
        self._frames: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (frame := self._frames.get()) is not None:
            if self._error is None:
                try:
                    self._recorder.write(frame)
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc

    def write(self, frame) -> None:
        if self._error is not None:
            raise self._error
        self._frames.put(frame)

    def close(self) -> None:
        self._frames.put(None)
        self._thread.join()
        self._recorder.close()
        if self._error is not None:
            raise self._error


def annotate_video(args: argparse.Namespace) -> dict:
    """Run the pipeline over every frame; returns a summary (frames, faces, fps)."""
    source = VideoSource(args.input)
    if source.is_camera:
        source.release()
        raise SourceError("annotate works on video files; use the app for cameras")
    pipeline = FramePipeline(detector_model=args.detector or default_model_for(args.input),
                             weights=args.weights, device=args.device, min_score=args.min_score,
                             min_size=args.min_size, smoothing=args.smoothing, show_bars=not args.no_bars)
    writer = _BackgroundWriter(VideoRecorder(args.output, source.fps, source.size))
    log = ResultsLog(args.csv, args.json)
    frames = faces_total = 0
    interrupted = False
    start = time.perf_counter()
    try:
        with tqdm(total=source.frame_count or None, unit="frame", desc="annotate", file=sys.stderr) as bar:
            for frame in _prefetched(source):
                result = pipeline.process(frame)
                writer.write(result.frame)
                log.write(frames, frames / source.fps, result.faces, pipeline.engine.trained)
                faces_total += int((result.faces.missed == 0).sum())
                frames += 1
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        try:
            writer.close()
        finally:
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
