"""How high a bigger clip's FPS ratio to its smallest size can go on this machine.

    python bench/ceiling.py [CLIP_360P CLIP_720P CLIP_1080P ...] [--scene two-faces] [--frames 240] [--repeats 3]

Pass the same clip at several sizes, smallest first, or none: then one of the
benches' scenes (`c3ae.training.clips.SCENES`, from ../shared/datasets) is
written at 640x360 and rescaled to 1280x720 and 1920x1080, as in
`bench/resolutions.py`. For each size it runs, in this process and interleaved
size by size:

* annotate's loop (`c3ae.run.frames` into a background `ResultsSink`, default
  options, the thread policy in force): FPS, CPU ms a frame (every thread of the
  process), and how busy that kept the cores (CPU time / (wall time x cores));
* decoding alone (`VideoSource`, one FFmpeg thread as the policy gives) and
  encoding alone (the recorder's x264 setting on the decoded frames): CPU ms a frame.

Then, for each bigger size, the measured ratio to the smallest and two ceilings:
what the ratio would be if nothing but decoding and encoding grew with the pixels
(the smallest size's other work, its CPU less its own decoding and encoding, plus
the bigger size's decoding and encoding), with the cores as busy as in that size's
run, and with both cores wholly busy. Decoding and encoding are timed alone here,
where they run faster than beside the other stages, so the ceilings are generous.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from c3ae.model.runner import AgeEngine
from c3ae.options import ANNOTATE_DETECT_EVERY, PipelineOptions
from c3ae.pipeline import FramePipeline
from c3ae.run import frames as run_frames
from c3ae.runtime import threads
from c3ae.runtime.paths import DEFAULT_WEIGHTS
from c3ae.sink.background import BackgroundWriter
from c3ae.sink.writer import H264Writer, ResultsSink
from c3ae.source.video import VideoSource
from c3ae.training.clips import SCENES, scene_clips


def annotate_loop(clip: Path, out: Path, frames: int, engine: AgeEngine) -> tuple[float, float, int]:
    """(wall s, CPU s, frames) of annotate's loop over the first `frames` frames of `clip`."""
    pipeline = FramePipeline(PipelineOptions(), source=str(clip), engine=engine, detect_every=ANNOTATE_DETECT_EVERY)
    try:
        with VideoSource(str(clip)) as source:
            sink = ResultsSink(out, source.fps, source.size, overwrite=True, frame_times=True)
            done = 0
            wall, cpu = time.perf_counter(), time.process_time()
            with BackgroundWriter(sink) as writer:
                for result in run_frames(source, pipeline, limit=frames, overlapped=threads.current().overlap):
                    writer.write(result)
                    done += 1
            return time.perf_counter() - wall, time.process_time() - cpu, done
    finally:
        pipeline.close()


def decode_encode(clip: Path, out: Path, frames: int) -> tuple[float, float]:
    """CPU ms a frame of decoding `clip` and of encoding its frames, each alone."""
    decode = encode = 0.0
    done = 0
    with VideoSource(str(clip)) as source:
        writer = H264Writer(out, source.fps, source.size, "libx264")
        try:
            while done < frames:
                t = time.process_time()
                frame = source.read()
                decode += time.process_time() - t
                if frame is None:
                    break
                t = time.process_time()
                writer.write(frame)
                encode += time.process_time() - t
                done += 1
        finally:
            t = time.process_time()
            writer.close()  # the encoder's last frames
            encode += time.process_time() - t
    return 1e3 * decode / max(done, 1), 1e3 * encode / max(done, 1)


def measure(clips: list[Path], out: Path, frames: int, repeats: int, plan: threads.ThreadPlan) -> None:
    """Run each clip `repeats` times, interleaved, and print the figures of the module's docstring."""
    engine = AgeEngine(DEFAULT_WEIGHTS)
    engine.warm_up()
    runs: dict[Path, list[tuple[float, float, float, float, float]]] = {clip: [] for clip in clips}
    for _ in range(repeats):
        for clip in clips:
            wall, cpu, done = annotate_loop(clip, out, frames, engine)
            decode, encode = decode_encode(clip, out, frames)
            runs[clip].append((done / wall, 1e3 * cpu / done, cpu / (wall * plan.cores), decode, encode))
    print(f"{plan.cores} cores, {frames} frames a run, medians of {repeats}")
    rows = {clip: [statistics.median(r[k] for r in runs[clip]) for k in range(5)] for clip in clips}
    fps0, cpu0, _, dec0, enc0 = rows[clips[0]]
    rest0 = cpu0 - dec0 - enc0  # the smallest size's work besides decoding and encoding
    for clip in clips:
        fps, cpu, busy, dec, enc = rows[clip]
        line = (f"{clip.name}: {fps:.1f} FPS, {cpu:.2f} CPU ms a frame, cores {busy:.0%} busy; "
                f"alone: decoding {dec:.2f}, encoding {enc:.2f} ms")
        if clip != clips[0]:
            least = rest0 + dec + enc  # CPU ms a frame if only decoding and encoding grew
            line += (f"; ratio {fps / fps0:.2f}x, ceiling {plan.cores * busy * 1e3 / least / fps0:.2f}x as busy, "
                     f"{plan.cores * 1e3 / least / fps0:.2f}x wholly busy")
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="*", type=Path, help="the same clip at several sizes, smallest first")
    parser.add_argument("--scene", choices=SCENES, default="two-faces", help="the scene to build without clips")
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    plan = threads.apply(threads.current())
    with tempfile.TemporaryDirectory() as tmp:
        clips = args.clips or list(scene_clips(Path(tmp), args.scene, ("360p", "720p", "1080p")).values())
        measure(clips, Path(tmp) / "out.mp4", args.frames, args.repeats, plan)


if __name__ == "__main__":
    main()
