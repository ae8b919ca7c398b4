"""Crop cache: detect once, store one face-normalised uint8 patch per face, cut crops from it.

Re-decoding a JPEG, degrading the whole image and cutting three crops from it
in Python per sample made the input pipeline, not the 48k-parameter model,
the bottleneck of training. The cache stores, per face, the CONTEXT window
(`c3ae.crops.context.CONTEXT` = 1.2 face sizes around the face centre, eyes
levelled) as a `PATCH` x `PATCH` uint8 BGR patch, cut by the live
`face_crops` itself, in one memory-mapped `.npy` file outside the repository.

Crops are cut from a patch by calling `face_crops` again, on the patch, with
a canonical face (`patch_faces`) whose keypoints put the face centre in the
middle of the patch, its size at PATCH / CONTEXT pixels and its eyes level.
So the geometry (scales, eye levelling, jitter, pyramid, the reflected fill
beyond the context window) is the one crop function's, not a copy: the
widest crop (1.6 face sizes) reaches beyond the patch, which is exactly
where the live crop reflects the window's content. An unjittered cut equals
the live crop up to the second bilinear resampling (tests/test_cache.py
bounds the difference). Jittered cuts differ from a live jittered cut only
beyond the window (reflected here, real pixels there when a jitter makes a
crop reach past 1.2 face sizes without being wider than it).

    python -m c3ae.training.cache build [--patch 128] [--dir ~/.cache/c3ae/crops]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from c3ae.crops.context import CONTEXT, FACE_SIZE_PER_EYE_MOUTH, face_crops
from c3ae.faces import Faces
from c3ae.training.augment import AugmentConfig, degrade, geometry, photometric_batch
from c3ae.training.data import DEFAULT_AAF, DEFAULT_FAIRFACE, DEFAULT_UTKFACE, Record, load_datasets, read_image
from c3ae.training.preprocess import DEFAULT_CACHE, detect_all, faces_for

PATCH = 96  # pixels per side of the CONTEXT window: 80 px per face size, so the 0.8 crop is cut 1:1
DEFAULT_DIR = DEFAULT_CACHE.parent / "crops"
VERSION = 1
# how far the keypoints, and so the crops, move between frames of one steady shot:
# the geometric part of `c3ae.training.stability.VIDEO`, its largest source of spread
NUDGE = AugmentConfig(shift=0.03, log_scale=0.05, max_angle_deg=3.0)


def patch_faces(n: int, patch: int = PATCH) -> Faces:
    """n copies of the canonical face of a patch: centre in the middle, size patch / CONTEXT, eyes level.

    Keypoints (edge coordinates, like MediaPipe's): eyes at +-d/2 above the
    centre, nose and mouth d/2 below it, d = size / FACE_SIZE_PER_EYE_MOUTH, so
    `face_geometry` gives back exactly that centre and size."""
    c = patch / 2.0
    size = patch / CONTEXT
    d = size / FACE_SIZE_PER_EYE_MOUTH
    e = size / 6.0
    kps = np.array([[c - e, c - d / 2], [c + e, c - d / 2], [c, c + d / 2], [c, c + d / 2],
                    [c - 2 * e, c], [c + 2 * e, c]], np.float32)
    box = np.array([c - size / 2, c - size / 2, c + size / 2, c + size / 2], np.float32)
    return Faces(np.repeat(box[None], n, 0), np.repeat(kps[None], n, 0), np.ones(n, np.float32))


def face_patches(image: np.ndarray, faces: Faces, patch: int = PATCH) -> np.ndarray:
    """The CONTEXT window of each face, eyes level: (N, patch, patch, 3) uint8 BGR."""
    win = face_crops(image, faces, scales=(CONTEXT,), size=patch, context=None)
    return win[:, 0].permute(0, 2, 3, 1).numpy()


def cut_crops(patches: np.ndarray, jitter: np.ndarray | None = None,
              extra_angle: np.ndarray | None = None) -> torch.Tensor:
    """Patches (N, P, P, 3) -> the three crops (N, 3, 3, 64, 64) uint8, as `face_crops` cuts them live.

    `jitter` (N, 3, 3) and `extra_angle` (N,) as in `face_crops`. One warp per crop
    (plus a pyramid level of the small patch for the widest crop)."""
    n, p = len(patches), patches.shape[1]
    if n == 0:
        return face_crops(np.zeros((p, p, 3), np.uint8), patch_faces(0, p))
    faces = patch_faces(1, p)
    out = [face_crops(patches[i], faces,
                      jitter=None if jitter is None else jitter[i:i + 1],
                      extra_angle=None if extra_angle is None else extra_angle[i:i + 1])
           for i in range(n)]
    return torch.cat(out)


def augmented_cuts(patches: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, copies: int = 1,
                   nudge: AugmentConfig = NUDGE) -> torch.Tensor:
    """Training crops (N * copies, 3, 3, 64, 64) uint8 from patches: `degrade` on each patch (light,
    noise, blur, JPEG, old prints, occluders), jittered and rotated cuts, then `photometric_batch`.

    With `copies` > 1 each face's copies lie side by side: one photo (the same `degrade`)
    and the same jittered boxes, each copy after the first moved by a `nudge` more, as the
    next frame of a video would move it; the photometric changes are drawn per copy."""
    faces = patch_faces(1, patches.shape[1])
    degraded = np.stack([degrade(p, faces, rng, cfg) for p in patches]) if len(patches) else patches
    jitter, angle = geometry(len(patches), 3, rng, cfg)
    cuts = [cut_crops(degraded, jitter, angle)]
    for _ in range(copies - 1):
        extra, turn = geometry(len(patches), 3, rng, nudge)
        cuts.append(cut_crops(degraded, jitter + extra, angle + turn))
    crops = torch.stack(cuts, dim=1).flatten(0, 1).numpy()
    return torch.from_numpy(photometric_batch(crops, rng, cfg))


class PatchBatches(Dataset):
    """A list of sample indices -> (crops (B, 3, 3, 64, 64) uint8, low (B,), high (B,)), plus the
    teacher's (ages (B,), distributions (B, 12)) when `targets` are given (`c3ae.training.distill`).

    With `copies` > 1 every index is cut that many times (`augmented_cuts`: one augmented photo,
    the copies a video frame's nudge apart) and kept next to the others (rows i*copies ...
    i*copies+copies-1), for a consistency loss.

    Whole batches per call (a `BatchSampler` as the sampler, `batch_size=None` in
    the DataLoader) keep the per-sample Python overhead out of the loop. The
    memmap is opened lazily, in the worker, so spawning one copies no pixels."""

    def __init__(self, folder: Path, patch: int, rows: np.ndarray, low: np.ndarray, high: np.ndarray,
                 augment: bool, cfg: AugmentConfig | None = None, seed: int = 0,
                 targets: tuple[np.ndarray, np.ndarray] | None = None, copies: int = 1) -> None:
        self.folder, self.patch, self.copies = Path(folder), patch, copies
        self.rows, self.low, self.high = rows, low.astype(np.float32), high.astype(np.float32)
        self.augment, self.cfg, self.seed = augment, cfg or AugmentConfig(), seed
        self.targets = targets
        self.epoch = 0
        self._patches: np.ndarray | None = None
        self._rng: np.random.Generator | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        if self._patches is None:
            self._patches = CropCache.open(self.folder, self.patch).patches
        idx = np.asarray(indices)
        rows = self.rows[idx]
        order = np.argsort(rows)  # sorted reads from the memmap, then back to the sampler's order
        patches = np.empty((len(rows), self.patch, self.patch, 3), np.uint8)
        patches[order] = self._patches[rows[order]]
        if self.augment:
            if self._rng is None:
                info = torch.utils.data.get_worker_info()
                self._rng = np.random.default_rng([self.seed, self.epoch, info.id if info else 0])
            crops = augmented_cuts(patches, self._rng, self.cfg, self.copies)
        else:
            crops = cut_crops(patches).repeat_interleave(self.copies, dim=0)
        idx = np.repeat(idx, self.copies)
        out = (crops, torch.from_numpy(self.low[idx]), torch.from_numpy(self.high[idx]))
        if self.targets is not None:
            out += (torch.from_numpy(self.targets[0][idx]), torch.from_numpy(self.targets[1][idx]))
        return out


# ----------------------------------------------------------------- the cache on disk
@dataclass
class CropCache:
    """Memory-mapped patches (N, P, P, 3) uint8 and their content hashes."""

    patches: np.ndarray
    hashes: np.ndarray
    index: dict[str, int]

    @classmethod
    def open(cls, folder: Path = DEFAULT_DIR, patch: int = PATCH) -> CropCache:
        folder = Path(folder)
        meta_path = folder / f"meta_{patch}.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"no crop cache in {folder}; build it: python -m c3ae.training.cache build")
        meta = json.loads(meta_path.read_text())
        if meta.get("version") != VERSION or meta.get("context") != CONTEXT:
            raise ValueError(f"crop cache {folder} is stale (built for {meta}); rebuild it")
        patches = np.load(folder / f"patches_{patch}.npy", mmap_mode="r")
        hashes = np.load(folder / f"hashes_{patch}.npy")
        return cls(patches, hashes, {str(h): i for i, h in enumerate(hashes)})

    def __len__(self) -> int:
        return len(self.hashes)


_build_cache: dict[str, dict] = {}


def _patch_of(job: tuple[str, str, int]) -> tuple[str, np.ndarray | None]:
    path, h, patch = job
    image = read_image(Path(path))
    if image is None:
        return h, None
    return h, face_patches(image, faces_for(_build_cache[h]), patch)[0]


def _init_build(detections: dict[str, dict]) -> None:
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    _build_cache.update(detections)


def build(records: list[Record], folder: Path = DEFAULT_DIR, patch: int = PATCH,
          detections_path: Path = DEFAULT_CACHE, processes: int = 2) -> CropCache:
    """Write the patches of every record with a detected face (detecting first where needed)."""
    from tqdm import tqdm

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    detections = detect_all(records, Path(detections_path), processes)
    todo, seen = [], set()
    for r in records:
        if r.hash not in seen and detections.get(r.hash, {}).get("n_faces", 0) > 0:
            seen.add(r.hash)
            todo.append(r)
    tmp = folder / f"patches_{patch}.tmp.npy"
    arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(todo), patch, patch, 3))
    hashes, k = [], 0
    needed = {r.hash: detections[r.hash] for r in todo}
    jobs = [(str(r.path), r.hash, patch) for r in todo]
    pool = mp.get_context("spawn").Pool(processes, initializer=_init_build, initargs=(needed,)) \
        if processes > 1 else None
    if pool is None:
        _build_cache.update(needed)
    results = pool.imap(_patch_of, jobs, chunksize=64) if pool else map(_patch_of, jobs)
    for h, p in tqdm(results, total=len(jobs), desc="patches", unit="face"):
        if p is not None:
            arr[k] = p
            hashes.append(h)
            k += 1
    if pool is not None:
        pool.close()
        pool.join()
    arr.flush()
    del arr
    if k < len(todo):  # unreadable files: shrink to the faces written
        full = np.load(tmp, mmap_mode="r")
        np.save(folder / f"patches_{patch}.tmp2.npy", full[:k])
        del full
        os.replace(folder / f"patches_{patch}.tmp2.npy", tmp)
    os.replace(tmp, folder / f"patches_{patch}.npy")
    np.save(folder / f"hashes_{patch}.npy", np.array(hashes))
    (folder / f"meta_{patch}.json").write_text(json.dumps(
        {"version": VERSION, "context": CONTEXT, "patch": patch, "faces": k, "detections": str(detections_path)}))
    return CropCache.open(folder, patch)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m c3ae.training.cache",
                                     description="Build the crop cache (one face patch per image) outside the repo.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="detect where needed, then write every face's patch")
    b.add_argument("--utkface", default=str(DEFAULT_UTKFACE))
    b.add_argument("--aaf", default=str(DEFAULT_AAF))
    b.add_argument("--fairface", default=str(DEFAULT_FAIRFACE), help="FairFace folder ('' to leave out)")
    b.add_argument("--detections", default=str(DEFAULT_CACHE))
    b.add_argument("--dir", default=str(DEFAULT_DIR))
    b.add_argument("--patch", type=int, default=PATCH)
    b.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)
    t0 = time.time()
    records, report, _ = load_datasets(args.utkface or None, args.aaf or None, args.fairface or None)
    print(report, flush=True)
    cache = build(records, Path(args.dir), args.patch, Path(args.detections), args.processes)
    size = cache.patches.nbytes / 2 ** 30
    print(f"{len(cache)} faces, {size:.2f} GiB in {args.dir}, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
