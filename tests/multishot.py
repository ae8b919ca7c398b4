"""Multi-shot test clips: real dataset faces pasted into scenes that cut, fade,
pan, cross and get covered by a hand. Frames are built in memory (never
written into the repo); without the datasets the callers skip."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from c3ae.training.clips import AAF, backdrop, hand, paste


def adult_faces(n: int) -> list[np.ndarray]:
    """n different adults (25-60) from All-Age-Faces, or skip."""
    files = [f for f in sorted(AAF.glob("*.jpg")) if 25 <= int(f.stem.split("A")[-1]) <= 60] if AAF.is_dir() else []
    if len(files) < n:
        pytest.skip(f"needs real face images from {AAF} (absent on this machine)")
    return [cv2.imread(str(files[i * len(files) // n])) for i in range(n)]


def fade(frame: np.ndarray, level: float) -> np.ndarray:
    return (frame.astype(np.float32) * level).astype(np.uint8)


def multishot_clip(faces: list[np.ndarray]) -> tuple[list[np.ndarray], list[str], dict[str, int]]:
    """A 220-frame clip from ten portraits (ten people, none in two shots):
    frames, the shot of each frame ("-" for black ones), and how many people
    each shot has.

    A (40): two people; a hand sweeps over the left one, hiding it ~10 frames.
    B (50, hard cut): two others in the same places; the light dips to 35%.
    C (30): B fades to black, then a fade in to a fifth person (one cut).
    D (60, hard cut): a pan across a wide scene with three people.
    E (40, hard cut): two people cross, the right one passing behind.
    """
    bg = [backdrop(seed) for seed in range(8)]
    frames: list[np.ndarray] = []
    shots: list[str] = []
    for t in range(40):
        f = bg[0].copy()
        paste(f, faces[0], 200 + 2 * np.sin(t / 5), 180, 200)
        paste(f, faces[1], 440, 180, 200)
        if 10 <= t < 30:
            hand(f, 100 + (t - 10) * 12, 190, 150)
        frames.append(f)
        shots.append("A")
    for t in range(50):
        f = bg[1].copy()
        paste(f, faces[2], 200, 180, 200)
        paste(f, faces[3], 440, 180, 200)
        frames.append(fade(f, 1 - 0.65 * np.sin(np.pi * min(max(t - 10, 0), 30) / 30)))
        shots.append("B")
    for t in range(30):
        if t < 14:
            f = bg[1].copy()
            paste(f, faces[2], 200, 180, 200)
            paste(f, faces[3], 440, 180, 200)
        else:
            f = bg[2].copy()
            paste(f, faces[4], 320, 180, 220)
        level = 1 - t / 12 if t < 12 else (0.0 if t < 16 else (t - 16) / 14)
        frames.append(fade(f, max(level, 0.0)))
        shots.append("-" if level <= 0 else "B" if t < 14 else "C")
    world = np.concatenate([backdrop(5, (900, 360)), backdrop(6, (900, 360))], axis=1)
    for k, (x, h) in enumerate([(300, 180), (700, 160), (1100, 190)]):
        paste(world, faces[5 + k], x, 180, h)
    for t in range(60):
        x0 = 100 + 8 * t
        frames.append(world[:, x0:x0 + 640].copy())
        shots.append("D")
    for t in range(40):
        f = bg[7].copy()
        paste(f, faces[8], 520 - 10 * t, 200, 180)
        paste(f, faces[9], 120 + 10 * t, 180, 190)
        frames.append(f)
        shots.append("E")
    return frames, shots, {"A": 2, "B": 2, "C": 1, "D": 3, "E": 2}
