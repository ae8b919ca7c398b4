"""Tracker cost per frame with 1, 10 and 50 faces (and the per-frame snapshot
a seekable file player keeps, and the overlay layout and drawing).

    python bench/track.py [--frames 300] [--size 1280x720]

Faces drift on a random walk over a still frame; their crops are random
textures made once, outside the timing. `update` includes everything the
tracker does per frame: cut detection on the frame, quality and appearance
from the crops, Kalman prediction, two-stage association and age fusion.
Medians of CPU milliseconds (process time, so other programs on the machine
do not inflate them), with torch and OpenCV on one thread.
"""
from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np
import torch

from c3ae.draw import overlay
from c3ae.faces import Faces
from c3ae.track.tracker import FaceTracker
from c3ae.twopoint import encode


def _faces(centres: np.ndarray, size: float, rng: np.random.Generator) -> Faces:
    n = len(centres)
    boxes = np.concatenate([centres - size / 2, centres + size / 2], axis=1)
    rel = np.array([[-0.2, -0.15], [0.2, -0.15], [0, 0.05], [0, 0.25], [-0.45, -0.1], [0.45, -0.1]])
    kps = centres[:, None, :] + rel[None] * size
    ages = rng.uniform(20, 60, n).astype(np.float32)
    return Faces(boxes, kps, np.full(n, 0.9), ages=ages, dists=encode(ages))


def bench(n: int, frames: int, size: tuple[int, int]) -> dict[str, float]:
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    rng = np.random.default_rng(n)
    w, h = size
    frame = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    face = min(w, h) / (2 * np.sqrt(n) + 2)
    centres = rng.uniform(face, [w - face, h - face], (n, 2))
    crops = torch.from_numpy(rng.integers(0, 255, (n, 3, 3, 64, 64), dtype=np.uint8))
    tracker = FaceTracker()
    times: dict[str, list[float]] = {"update": [], "snapshot": [], "draw": []}
    for _ in range(frames):
        centres = np.clip(centres + rng.normal(0, 2, centres.shape), face, [w - face, h - face])
        faces = _faces(centres, face, rng)
        t0 = time.process_time()
        out = tracker.update(faces, frame, crops)
        t1 = time.process_time()
        tracker.snapshot()
        t2 = time.process_time()
        overlay.draw_faces(frame.copy(), out)
        t3 = time.process_time()
        for k, (a, b) in zip(times, ((t0, t1), (t1, t2), (t2, t3))):
            times[k].append((b - a) * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="1280x720", help="frame size WxH")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    print(f"{'faces':>5}  {'update ms':>9}  {'snapshot ms':>11}  {'draw ms':>7}   ({args.size}, {args.frames} frames)")
    for n in (1, 10, 50):
        r = bench(n, args.frames, size)
        print(f"{n:>5}  {r['update']:>9.2f}  {r['snapshot']:>11.2f}  {r['draw']:>7.2f}")


if __name__ == "__main__":
    main()
