"""Per-stage milliseconds, and the FPS of headless annotation, on a video.

    python bench/pipeline.py [VIDEO] [--detector short|full] [--device cpu|cuda]

Without VIDEO it builds a 640x360 clip with two real faces from
../shared/datasets/aaf-train in a temporary folder (never in the repo).
Stages: decode, detect, crop, infer, track, draw, encode; medians per frame,
timed one after the other. Then `main.py annotate` itself runs on the clip
(decode and encode overlap the model there) and its FPS is printed.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from c3ae.annotate import annotate_video, build_parser
from c3ae.options import PipelineOptions, default_detector_for
from c3ae.pipeline import FramePipeline
from c3ae.sink import ResultsSink
from c3ae.video import VideoSource

STAGES = ("decode", "detect", "crop", "infer", "track", "draw", "encode")


def two_face_clip(folder: Path, frames: int = 300) -> Path:
    import cv2

    from c3ae.training.clips import NoDatasetFaces, dataset_faces, face_clip_frames, write_clip

    try:
        faces = dataset_faces(2)
    except NoDatasetFaces as exc:
        raise SystemExit(f"no video given and {exc}") from None
    # portraits scaled so each face is ~80 px; the pair drifts across the frame
    clip = face_clip_frames(faces, n=frames, face_h=160)
    return write_clip(folder / "two_faces_640x360.mp4", [cv2.resize(f, (640, 360)) for f in clip], fps=30)


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
        result = pipeline.process(frame)
        for stage, ms in result.timings.items():
            per_stage[stage].append(ms)
        index = len(per_stage["encode"])
        t = time.perf_counter()
        recorder.write(result.frame, index, index / source.fps, result.faces, pipeline.engine.trained)
        per_stage["encode"].append((time.perf_counter() - t) * 1e3)
        faces += int((result.faces.missed == 0).sum())
    elapsed = time.perf_counter() - start
    recorder.close()
    n = len(per_stage["decode"])
    print(f"{video.name}: {source.size[0]}x{source.size[1]}, {n} frames, {faces / max(n, 1):.2f} faces/frame, "
          f"detector={detector}, {pipeline.engine.device}, {pipeline.engine.status}")
    for stage in STAGES:
        print(f"  {stage:>6}: {statistics.median(per_stage[stage]):6.2f} ms/frame (median)")
    print(f"  overall: {n / elapsed:.1f} FPS ({elapsed:.2f} s, decode to encode)")
    source.release()
    pipeline.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?")
    parser.add_argument("--detector", choices=["short", "full"])
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(args.video) if args.video else two_face_clip(Path(tmp))
        detector = args.detector or default_detector_for(str(video))
        run(video, detector, args.device, Path(tmp))
        cli = [str(video), "-o", str(Path(tmp) / "annotate.mp4"), "--csv", str(Path(tmp) / "annotate.csv"),
               "--detector", detector, "--device", args.device, "--allow-untrained"]
        summary = annotate_video(build_parser().parse_args(cli))
        print(f"  main.py annotate: {summary['fps']:.1f} FPS ({summary['frames']} frames, "
              f"{summary['faces']} faces, with CSV)")


if __name__ == "__main__":
    main()
