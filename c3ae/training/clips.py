"""Short test and benchmark clips built from dataset portraits, read in place.

Used by the tests and by `bench/`; the clips go to temporary folders and are
never committed (the faces come from research datasets)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from c3ae.errors import NoDatasetFaces
from c3ae.runtime.paths import DATASETS

AAF = DATASETS / "aaf-train"


def _aaf_photos(files: list[Path], n: int) -> list[np.ndarray]:
    """The first n of these All-Age-Faces files, read; NoDatasetFaces where there are fewer."""
    if len(files) < n:
        raise NoDatasetFaces(f"needs real face images from {AAF} (absent on this machine)")
    return [cv2.imread(str(f)) for f in files[:n]]


def dataset_faces(n: int = 2) -> list[np.ndarray]:
    """n head-and-shoulders photos from All-Age-Faces."""
    return _aaf_photos(sorted(AAF.glob("*.jpg")) if AAF.is_dir() else [], n)


def adult_faces(n: int) -> list[np.ndarray]:
    """n different adults (25-60) from All-Age-Faces, spread over its files."""
    files = [f for f in sorted(AAF.glob("*.jpg")) if 25 <= int(f.stem.split("A")[-1]) <= 60] if AAF.is_dir() else []
    return _aaf_photos([files[i * len(files) // n] for i in range(n)] if len(files) >= n else files, n)


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def face_clip_frames(faces: list[np.ndarray], n: int = 24, size=(640, 360), face_h: int = 200) -> list[np.ndarray]:
    """Real portraits pasted side by side on a grey background, swaying left and right."""
    w, h = size
    out = []
    for t in range(n):
        frame = np.full((h, w, 3), 90, np.uint8)
        for k, img in enumerate(faces):
            scale = face_h / img.shape[0]
            im = cv2.resize(img, None, fx=scale, fy=scale)
            x = int(60 + k * (w // len(faces)) + 40 * np.sin(2 * np.pi * t / 100))
            y = int((h - im.shape[0]) / 2)
            ih, iw = im.shape[:2]
            iw = min(iw, w - x)
            frame[y:y + ih, x:x + iw] = im[:, :iw]
        out.append(frame)
    return out


def count_frames(path: Path) -> tuple[int, float]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n, fps


def crowd_frames(faces: list[np.ndarray], n: int = 60, grid: tuple[int, int] = (4, 4),
                 cell: tuple[int, int] = (640, 360), per_cell: int = 3,
                 face_h: int = 100) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
    """A crowd in a big frame, one frame at a time (a 4K clip held whole would take
    gigabytes): (mosaic, cells), the mosaic being `grid` (rows, cols) shots of
    `cell` pixels, each `per_cell` portraits `face_h` px tall swaying on grey,
    different people and phases per shot. `cells` are the shots alone, the
    reference for what a detector finds in the mosaic."""
    rows, cols = grid
    w, h = cell
    small = [cv2.resize(img, None, fx=face_h / img.shape[0], fy=face_h / img.shape[0]) for img in faces]
    slot = w // per_cell
    for t in range(n):
        cells = []
        for k in range(rows * cols):
            frame = np.full((h, w, 3), 90, np.uint8)
            for j in range(per_cell):
                im = small[(k * per_cell + j) % len(small)]
                ih, iw = im.shape[:2]
                iw = min(iw, slot)
                x = int((slot - iw) / 2 + j * slot + 0.2 * (slot - iw) * np.sin(2 * np.pi * (t + 9 * k) / 80))
                y = int((h - ih) / 2 + 20 * np.sin(2 * np.pi * (k + j) / 5))
                frame[y:y + ih, x:x + iw] = im[:, :iw]
            cells.append(frame)
        mosaic = np.concatenate([np.concatenate(cells[r * cols:(r + 1) * cols], axis=1) for r in range(rows)])
        yield mosaic, cells


def backdrop(seed: int, size: tuple[int, int] = (640, 360)) -> np.ndarray:
    """A scene: a smooth random colour field with a few shapes; each seed its own palette."""
    w, h = size
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, 3)
    coarse = np.clip(base + rng.normal(0, 40, (4, 6, 3)), 0, 255).astype(np.uint8)
    frame = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(8):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        colour = tuple(int(c) for c in np.clip(base + rng.normal(0, 70, 3), 0, 255))
        cv2.rectangle(frame, (x, y), (x + int(rng.integers(20, w // 4)), y + int(rng.integers(20, h // 3))),
                      colour, -1)
    return frame


def paste(frame: np.ndarray, portrait: np.ndarray, cx: float, cy: float, height: int) -> np.ndarray:
    """The portrait's head (an oval, feathered) centred at (cx, cy), `height` px tall; clipped at the border."""
    scale = height / portrait.shape[0]
    img = cv2.resize(portrait, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ih, iw = img.shape[:2]
    mask = np.zeros((ih, iw), np.float32)
    cv2.ellipse(mask, (iw // 2, ih // 2), (int(iw * 0.42), int(ih * 0.47)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, iw / 40))[..., None]
    x0, y0 = int(round(cx - iw / 2)), int(round(cy - ih / 2))
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + iw, frame.shape[1]), min(y0 + ih, frame.shape[0])
    if fx1 <= fx0 or fy1 <= fy0:
        return frame
    src, m = img[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0], mask[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0]
    roi = frame[fy0:fy1, fx0:fx1]
    roi[:] = (roi * (1 - m) + src * m).astype(np.uint8)
    return frame


def hand(frame: np.ndarray, cx: float, cy: float, size: int) -> np.ndarray:
    """A flat skin-coloured hand (palm and fingers), about `size` px wide."""
    colour = (120, 160, 215)
    cv2.ellipse(frame, (int(cx), int(cy)), (size // 2, int(size * 0.6)), 0, 0, 360, colour, -1)
    for k in range(4):
        x = int(cx - size * 0.36 + k * size * 0.24)
        cv2.line(frame, (x, int(cy - size * 0.5)), (x, int(cy - size * 1.0)), colour, max(3, size // 7))
    return frame


def rescaled_clip(source: Path, path: Path, size: tuple[int, int]) -> Path:
    """`source` re-encoded frame for frame at `size` (what a camera of that resolution
    would deliver of the same scene)."""
    cap = cv2.VideoCapture(str(source))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        writer.write(cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC))
    cap.release()
    writer.release()
    return path


def audience_frames(faces: list[np.ndarray], n: int = 300, size: tuple[int, int] = (640, 360),
                    per_row: int = 4) -> list[np.ndarray]:
    """An audience shot: two rows of heads on a backdrop, the back row smaller
    (faces about 13% and 18% of the frame height), each head swaying on its own;
    the per-face work of a real audience, where the two-face clip has little."""
    w, h = size
    hall = backdrop(5, size)
    heads = [(k, row) for row in (0, 1) for k in range(per_row)]
    out = []
    for t in range(n):
        frame = hall.copy()
        for j, (k, row) in enumerate(heads):
            face = faces[j % len(faces)]
            sway = 0.02 * w * np.sin(2 * np.pi * (t / 90 + j / len(heads)))
            cx = w * (k + 0.5 + 0.5 * row) / (per_row + 0.5) + sway
            cy = h * (0.3 if row == 0 else 0.68)
            paste(frame, face, cx, cy, int(h * (0.24 if row == 0 else 0.33)))
        out.append(frame)
    return out


def close_up_frames(face: np.ndarray, n: int = 150, size: tuple[int, int] = (1280, 720),
                    share: float = 0.3) -> list[np.ndarray]:
    """A webcam close-up: one head whose face box is about `share` of the frame's
    height, drifting a little, on a room-like backdrop."""
    w, h = size
    room = backdrop(3, size)
    out = []
    for t in range(n):
        frame = room.copy()
        paste(frame, face, w / 2 + 30 * np.sin(2 * np.pi * t / 90), h / 2 + 10 * np.sin(2 * np.pi * t / 60),
              int(h * share / 0.55))  # the portrait's face box is ~0.55 of its height
        out.append(frame)
    return out


def cluttered_frames(faces: list[np.ndarray], n: int = 120, size: tuple[int, int] = (1280, 720),
                     face_h: float = 0.3) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """A busy scene with things that are not faces: (frame, true face centres (K, 2)).
    Portraits `face_h` of the frame height tall walk slowly across a textured
    backdrop while skin-coloured hands wave, bright blobs (stage lights, bokeh)
    pulse and dark patches (a sleeve, a shadow) drift; everything scales with the
    frame, so each resolution shows the same scene."""
    w, h = size
    rng = np.random.default_rng(7)
    scene = backdrop(11, size)
    grain = rng.normal(0, 1, (h // 8 + 1, w // 8 + 1, 3))
    scene = np.clip(scene + cv2.resize(grain, (w, h), interpolation=cv2.INTER_NEAREST)[:h, :w] * 18, 0,
                    255).astype(np.uint8)
    unit = h / 360.0
    lights = rng.uniform((0, 0), (w, h * 0.4), (6, 2))
    for t in range(n):
        frame = scene.copy()
        for k, (lx, ly) in enumerate(lights):  # lights pulse
            radius = int(unit * (8 + 6 * np.sin(t / 7 + k)))
            cv2.circle(frame, (int(lx), int(ly)), max(radius, 2), (235, 245, 255), -1, cv2.LINE_AA)
        cv2.ellipse(frame, (int(w * (0.15 + 0.1 * np.sin(t / 40))), int(h * 0.8)), (int(40 * unit), int(25 * unit)),
                    20, 0, 360, (25, 22, 20), -1)  # a dark patch
        centres = []
        for k, face in enumerate(faces):
            cx = w * (0.3 + 0.4 * k / max(len(faces) - 1, 1)) + w * 0.03 * np.sin(2 * np.pi * (t / 100 + k / 3))
            cy = h * 0.45
            paste(frame, face, cx, cy, int(h * face_h))
            centres.append((cx, cy))
        hand(frame, w * (0.1 + 0.8 * (t % 60) / 60), h * 0.75, int(50 * unit))  # a hand sweeps low
        hand(frame, w * 0.85, h * (0.55 + 0.05 * np.sin(t / 5)), int(40 * unit))  # another waves
        yield frame, np.array(centres, np.float64).reshape(-1, 2)


def fade(frame: np.ndarray, level: float) -> np.ndarray:
    """The frame at `level` of its brightness (a fade to or from black)."""
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


SCENE_SIZES = {"360p": (640, 360), "720p": (1280, 720), "1080p": (1920, 1080)}
SCENES = ("two-faces", "audience", "multishot")


def scene_frames(scene: str, n: int = 300) -> list[np.ndarray]:
    """640x360 frames of one of the benches' `SCENES`: two faces drifting (~80 px),
    an audience of eight heads, or the multi-shot clip (its own 220 frames)."""
    if scene == "audience":
        return audience_frames(dataset_faces(8), n=n)
    if scene == "multishot":
        return multishot_clip(adult_faces(10))[0]
    return [cv2.resize(f, SCENE_SIZES["360p"]) for f in face_clip_frames(dataset_faces(2), n=n, face_h=160)]


def scene_clips(folder: Path, scene: str, sizes: tuple[str, ...] = ("360p",), n: int = 300) -> dict[str, Path]:
    """A scene written at 640x360, 30 FPS, and rescaled frame for frame to the other
    `sizes` (what cameras of those sizes deliver of it): size -> clip in `folder`."""
    stem = scene.replace("-", "_")
    base = write_clip(folder / f"{stem}_360p.mp4", scene_frames(scene, n), fps=30)
    return {size: base if size == "360p" else rescaled_clip(base, folder / f"{stem}_{size}.mp4", SCENE_SIZES[size])
            for size in sizes}
