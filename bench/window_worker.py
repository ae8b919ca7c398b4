"""The window's worker, frame by frame: milliseconds a frame with and without recording.

    python bench/window_worker.py [VIDEO] [--scene two-faces|audience|multishot] [--size 360p|720p|1080p]

Does on one thread what the app's worker does for each frame of a file (the
pipeline with detection on every frame, the recording when one runs, the
frame's QImage for the view) and prints the median and 90th percentile
milliseconds a frame, without and with a recording, interleaved frame by
frame over the same clip. A 30 FPS camera leaves 33 ms: a worker over it
shows fewer frames than the camera sends. The recording is the app's own
(`app.recording.session.Recording`), so its encoding runs where the app runs it.
Without VIDEO it builds a clip as `bench/pipeline.py` does (dataset faces, in a
temporary folder), at 1080p by default.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from app.recording.session import Recording
from app.worker.images import frame_report
from c3ae.errors import NoDatasetFaces
from c3ae.options import PipelineOptions
from c3ae.pipeline import FramePipeline
from c3ae.runtime import threads
from c3ae.source.video import VideoSource
from c3ae.training.clips import SCENE_SIZES, SCENES, scene_clips

WARM_UP = 20  # frames left out of the figures (the first looks load and sweep)


def frame_times(video: Path, folder: Path, record: bool) -> list[float]:
    """Milliseconds of each frame's worker steps over `video`."""
    source = VideoSource(str(video))
    pipeline = FramePipeline(PipelineOptions().resolved(str(video)))
    recording = Recording(folder, source.fps, source.size, with_csv=True) if record else None
    times = []
    try:
        while (frame := source.read()) is not None:
            start = time.perf_counter()
            result = pipeline.process(frame, index=len(times), time_s=source.time_s, seekable=True, onto_frame=True)
            if recording is not None:
                recording.write(result)
            frame_report(result, source.fps, recording.frames if recording is not None else -1)
            times.append((time.perf_counter() - start) * 1e3)
    finally:
        if recording is not None:
            recording.close()
        pipeline.close()
        source.release()
    return times[WARM_UP:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path)
    parser.add_argument("--scene", choices=SCENES, default="two-faces")
    parser.add_argument("--size", choices=sorted(SCENE_SIZES), default="1080p")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    threads.apply()
    with tempfile.TemporaryDirectory(prefix="c3ae-worker-") as tmp:
        folder = Path(tmp)
        video = args.video
        if video is None:
            try:
                video = scene_clips(folder, args.scene, (args.size,))[args.size]
            except NoDatasetFaces as exc:
                raise SystemExit(str(exc)) from None
        runs: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.repeats):  # interleaved: both see the same load
            for record in (False, True):
                runs[record] += frame_times(video, folder / "recordings", record)
    print(f"{video.name}: the worker's ms a frame (detection every frame, QImage for the view), "
          f"{args.repeats} runs each, interleaved")
    for record, times in runs.items():
        p90 = sorted(times)[int(0.9 * (len(times) - 1))]
        print(f"  {'recording' if record else 'playing':>10}: median {statistics.median(times):5.1f} ms, "
              f"p90 {p90:5.1f} ms, over 33 ms: {sum(t > 1000 / 30 for t in times) / len(times):.0%}")


if __name__ == "__main__":
    main()
