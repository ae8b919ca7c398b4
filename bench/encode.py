"""H.264 encoding at the resolutions cameras deliver: ms and KB per frame by x264 preset.

    python bench/encode.py [--frames 90]

Encodes the same synthetic scene (a textured backdrop, two moving portraits when
../shared/datasets is here, drawn labels) at 640x360, 1280x720 and 1920x1080 with
the recorder's settings (`c3ae.sink.writer`: tune zerolatency, crf 23, one
thread per the thread policy) for each preset, BGR to I420 conversion included,
and prints CPU ms per frame and the size per frame. A recording keeps pace when
the ms stay well under the frame interval (33 ms at 30 FPS) on the core the
encoder shares with decoding.
"""
from __future__ import annotations

import argparse
import io
import time
from fractions import Fraction

import av
import cv2
import numpy as np

from c3ae.errors import NoDatasetFaces
from c3ae.runtime import threads
from c3ae.training.clips import backdrop, dataset_faces, paste

SIZES = ((640, 360), (1280, 720), (1920, 1080))
PRESETS = ("ultrafast", "superfast", "veryfast")


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


def encode(frames: list[np.ndarray], preset: str, encoder_threads: int) -> tuple[float, float]:
    """(CPU ms, KB) per frame of encoding `frames` with the recorder's settings and `preset`."""
    h, w = frames[0].shape[:2]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(30), options={
            "preset": preset, "tune": "zerolatency", "crf": "23", "threads": str(encoder_threads)})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        start = time.process_time()
        for frame in frames:
            picture = av.VideoFrame.from_ndarray(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
        cpu = time.process_time() - start
    return cpu / len(frames) * 1e3, len(buffer.getvalue()) / len(frames) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    args = parser.parse_args()
    plan = threads.apply()
    print(f"x264, {plan.encoder_threads} thread(s), tune zerolatency, crf 23; CPU ms and KB per frame")
    for size in SIZES:
        frames = scene(size, args.frames)
        cells = [f"{preset} {ms:5.1f} ms {kb:5.1f} KB" for preset in PRESETS
                 for ms, kb in [encode(frames, preset, plan.encoder_threads)]]
        print(f"  {size[0]}x{size[1]}: " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
