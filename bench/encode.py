"""H.264 encoding at the resolutions cameras deliver: CPU ms, KB and PSNR per frame by x264 setting.

    python bench/encode.py [--frames 90]

Encodes the same synthetic scene (a textured backdrop, two moving portraits when
../shared/datasets is here, drawn labels) at 640x360, 1280x720 and 1920x1080,
clean and with a webcam's grain (Gaussian noise of sigma 3 grey levels, new
each frame), with the recorder's setting (`c3ae.sink.writer.X264_OPTIONS`) and
x264's presets beside it, all at tune zerolatency, crf 23 and one thread per
the thread policy, BGR to I420 conversion included. Prints CPU ms per frame,
KB per frame and the luma PSNR of the decoded video against the frames given.
A recording keeps pace when the ms stay well under the frame interval (33 ms
at 30 FPS) on the core the encoder shares with decoding.
"""
from __future__ import annotations

import argparse
import io
import statistics
import time
from fractions import Fraction

import av
import cv2
import numpy as np

from c3ae.errors import NoDatasetFaces
from c3ae.runtime import threads
from c3ae.sink.writer import X264_OPTIONS
from c3ae.training.clips import backdrop, dataset_faces, paste

SIZES = ((640, 360), (1280, 720), (1920, 1080))
GRAIN = 3.0  # grey levels: the noise of a webcam sensor in room light
SETTINGS = {"recorder": X264_OPTIONS} | {preset: {"preset": preset, "tune": "zerolatency", "crf": "23"}
                                         for preset in ("ultrafast", "superfast", "veryfast")}


def scene(size: tuple[int, int], n: int) -> list[np.ndarray]:
    w, h = size
    try:
        faces = dataset_faces(2)
    except NoDatasetFaces:
        faces = []
    room = backdrop(5, size)
    frames = []
    for t in range(n):
        frame = room.copy()
        for k, face in enumerate(faces):
            paste(frame, face, w * (0.3 + 0.4 * k) + w * 0.02 * np.sin(t / 9), h / 2, int(h * 0.5))
        cv2.putText(frame, f"#1 {30 + t % 3} y (25-36)", (int(w * 0.2), int(h * 0.2)), cv2.FONT_HERSHEY_SIMPLEX,
                    h / 600, (255, 255, 255), 2, cv2.LINE_AA)
        frames.append(frame)
    return frames


def grainy(frames: list[np.ndarray], sigma: float = GRAIN) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.clip(f + rng.normal(0.0, sigma, f.shape), 0, 255).astype(np.uint8) for f in frames]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2)
    return float(10 * np.log10(255.0**2 / max(error, 1e-6)))


def encode(frames: list[np.ndarray], options: dict[str, str], encoder_threads: int) -> tuple[float, float, float]:
    """(CPU ms, KB, luma PSNR in dB) per frame of encoding `frames` with these x264 options."""
    h, w = frames[0].shape[:2]
    pictures = []  # the I420 pictures encoded, converted in the timed loop as the recorder does: the PSNR's reference
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(30),
                                      options=options | {"threads": str(encoder_threads)})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        start = time.process_time()
        for frame in frames:
            pictures.append(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pictures[-1], format="yuv420p")))
        container.mux(stream.encode())
        cpu = time.process_time() - start
    buffer.seek(0)
    with av.open(buffer) as container:
        decoded = [f.to_ndarray(format="yuv420p")[:h] for f in container.decode(video=0)]
    quality = statistics.mean(psnr(d, p[:h]) for d, p in zip(decoded, pictures))
    return cpu / len(frames) * 1e3, len(buffer.getvalue()) / len(frames) / 1024, quality


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    args = parser.parse_args()
    plan = threads.apply()
    print(f"x264, {plan.encoder_threads} thread(s), tune zerolatency, crf 23; CPU ms, KB and PSNR-Y per frame")
    print(f"recorder: {X264_OPTIONS}")
    for size in SIZES:
        clean = scene(size, args.frames)
        for look, frames in (("clean", clean), (f"grain {GRAIN:g}", grainy(clean))):
            cells = [f"{name} {ms:5.1f} ms {kb:6.1f} KB {db:4.1f} dB" for name, options in SETTINGS.items()
                     for ms, kb, db in [encode(frames, options, plan.encoder_threads)]]
            print(f"  {size[0]}x{size[1]} {look:>9}: " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
