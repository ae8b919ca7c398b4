"""Detect once: run the live app's face detector over every indexed image and cache
the chosen face (box + keypoints) per content hash, outside the repository.

Detection policy for still images (`detect_still`, shared with evaluation):
BlazeFace short-range in IMAGE mode on the image as it is; if it finds no
face, once more with a black border of 25% (`pad=0.25`), which recovers faces
that fill a tight chip. Coordinates always refer to the original image. Of
several faces the largest is used (the same rule as `c3ae.training.evaluate`); images
with no face are left out of training and counted.

The context the tight UTKFace chips lack is filled by `c3ae.crops.context.face_crops`
itself (reflection at the image border, the same as for a face cut by the
border of a live frame): the detector's black padding is only a detection aid
and never reaches a crop.

    python -m c3ae.training.preprocess [--cache ~/.cache/c3ae/detections.npz] [--grid runs/crops_grid.png]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np

from c3ae.faces import Faces
from c3ae.training.data import DEFAULT_AAF, DEFAULT_FAIRFACE, DEFAULT_UTKFACE, Record, load_datasets, read_image

DEFAULT_CACHE = Path(os.environ.get("C3AE_CACHE", Path.home() / ".cache" / "c3ae")) / "detections.npz"
FALLBACK_PAD = 0.25


def detect_still(detector, image: np.ndarray) -> tuple[Faces, float]:
    """Faces in a still image: as is, then with a 25% black border if none was found."""
    faces = detector.detect(image, pad=0.0)
    if len(faces):
        return faces, 0.0
    return detector.detect(image, pad=FALLBACK_PAD), FALLBACK_PAD


# ----------------------------------------------------------------- worker processes
_detector = None


def _init_worker() -> None:
    global _detector
    os.environ.setdefault("GLOG_minloglevel", "2")
    import cv2

    cv2.setNumThreads(1)
    from c3ae.detect.blazeface import FaceDetector

    _detector = FaceDetector("short", video=False)


def _detect_one(path: str) -> tuple:
    image = read_image(Path(path))
    if image is None:
        return -1, 0.0, np.zeros(4, np.float32), np.zeros((6, 2), np.float32), 0.0, (0, 0)
    faces, pad = detect_still(_detector, image)
    if not len(faces):
        return 0, pad, np.full(4, np.nan, np.float32), np.full((6, 2), np.nan, np.float32), 0.0, image.shape[:2]
    i = faces.largest()
    return len(faces), pad, faces.boxes[i], faces.keypoints[i], float(faces.scores[i]), image.shape[:2]


def load_cache(path: Path = DEFAULT_CACHE) -> dict[str, dict]:
    """hash -> {n_faces, pad, box, keypoints, score, shape}."""
    path = Path(path)
    if not path.is_file():
        return {}
    with np.load(path) as npz:
        z = {k: npz[k] for k in npz.files}  # NpzFile re-reads an array on every access
    out = {}
    for k, h in enumerate(z["hashes"]):
        out[str(h)] = {"n_faces": int(z["n_faces"][k]), "pad": float(z["pad"][k]), "box": z["boxes"][k],
                       "keypoints": z["keypoints"][k], "score": float(z["scores"][k]),
                       "shape": tuple(int(v) for v in z["shapes"][k])}
    return out


def save_cache(cache: dict[str, dict], path: Path = DEFAULT_CACHE) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    hashes = sorted(cache)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, hashes=np.array(hashes),
             n_faces=np.array([cache[h]["n_faces"] for h in hashes], np.int32),
             pad=np.array([cache[h]["pad"] for h in hashes], np.float32),
             boxes=np.array([cache[h]["box"] for h in hashes], np.float32).reshape(-1, 4),
             keypoints=np.array([cache[h]["keypoints"] for h in hashes], np.float32).reshape(-1, 6, 2),
             scores=np.array([cache[h]["score"] for h in hashes], np.float32),
             shapes=np.array([cache[h]["shape"] for h in hashes], np.int32).reshape(-1, 2))
    os.replace(tmp, path)


def detect_all(records: list[Record], cache_path: Path = DEFAULT_CACHE, processes: int = 2) -> dict[str, dict]:
    """Detection results for every record, computing only those missing from the cache."""
    from tqdm import tqdm

    cache = load_cache(cache_path)
    todo = [r for r in records if r.hash not in cache]
    if todo:
        with mp.get_context("spawn").Pool(processes, initializer=_init_worker) as pool:
            results = pool.imap(_detect_one, [str(r.path) for r in todo], chunksize=64)
            for r, (n, pad, box, kps, score, shape) in tqdm(zip(todo, results), total=len(todo),
                                                            desc="detect", unit="img"):
                cache[r.hash] = {"n_faces": n, "pad": pad, "box": box, "keypoints": kps,
                                 "score": score, "shape": shape}
        save_cache(cache, cache_path)
    return cache


def detection_report(records: list[Record], cache: dict[str, dict]) -> dict:
    """Counts per dataset: images, unreadable, no face, several faces, found only with padding."""
    out: dict[str, Counter] = {}
    for r in records:
        c = out.setdefault(r.dataset, Counter())
        d = cache[r.hash]
        c["images"] += 1
        c["unreadable"] += d["n_faces"] < 0
        c["no_face"] += d["n_faces"] == 0
        c["multi_face"] += d["n_faces"] > 1
        c["padded_detection"] += d["n_faces"] > 0 and d["pad"] > 0
    return {k: dict(v) for k, v in out.items()}


def faces_for(entry: dict) -> Faces:
    return Faces(entry["box"][None], entry["keypoints"][None], np.array([entry["score"]]))


def crop_grid(records: list[Record], cache: dict[str, dict], out: Path, frame_path: Path | None = None,
              n: int = 8, seed: int = 0) -> Path:
    """Grid of the three crops for a few training images (left: the image with its box)
    and, below, the crops of the faces of a real video frame if one is given.
    Written to a gitignored place: dataset faces never go into the repository."""
    import cv2

    from c3ae.crops.context import crops_to_image, face_crops
    from c3ae.detect.blazeface import FaceDetector

    rng = np.random.default_rng(seed)
    usable = [r for r in records if cache[r.hash]["n_faces"] > 0]
    by_ds: dict[str, list[Record]] = {}
    for r in usable:
        by_ds.setdefault(r.dataset, []).append(r)
    picks = []
    for ds in sorted(by_ds):
        idx = rng.choice(len(by_ds[ds]), size=min(n // len(by_ds), len(by_ds[ds])), replace=False)
        picks += [by_ds[ds][i] for i in idx]
    rows = []
    for r in picks:
        image = read_image(r.path)
        faces = faces_for(cache[r.hash])
        crops = crops_to_image(face_crops(image, faces))
        thumb = image.copy()
        x1, y1, x2, y2 = faces.boxes[0].astype(int)
        cv2.rectangle(thumb, (x1, y1), (x2, y2), (0, 255, 0), 2)
        thumb = cv2.resize(thumb, (int(64 * thumb.shape[1] / thumb.shape[0]), 64))
        row = np.concatenate([np.pad(thumb, ((0, 0), (0, 64 - thumb.shape[1] % 64 if thumb.shape[1] % 64 else 0),
                                                     (0, 0))), crops], axis=1)
        cv2.putText(row, f"{r.dataset} {r.age:g}", (2, 10), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 255, 255), 1)
        rows.append(row)
    if frame_path is not None and Path(frame_path).is_file():
        frame = read_image(Path(frame_path))
        if frame is None:  # maybe a video
            cap = cv2.VideoCapture(str(frame_path))
            ok, frame = cap.read()
            cap.release()
            frame = frame if ok else None
        if frame is not None:
            with FaceDetector("full", video=False) as det:
                faces = det.detect(frame)
            if len(faces):
                crops = crops_to_image(face_crops(frame, faces))
                for k in range(len(faces)):
                    row = crops[64 * k:64 * (k + 1)]
                    row = np.concatenate([np.zeros((64, 64, 3), np.uint8), row], axis=1)
                    cv2.putText(row, "real frame", (2, 10), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 255, 255), 1)
                    rows.append(row)
    width = max(row.shape[1] for row in rows)
    rows = [np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0))) for row in rows]
    grid = np.concatenate(rows, axis=0)
    grid = cv2.resize(grid, (grid.shape[1] * 3, grid.shape[0] * 3), interpolation=cv2.INTER_NEAREST)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), grid)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Detect faces once in every training image and cache them.")
    parser.add_argument("--utkface", default=str(DEFAULT_UTKFACE))
    parser.add_argument("--aaf", default=str(DEFAULT_AAF))
    parser.add_argument("--fairface", default=str(DEFAULT_FAIRFACE), help="FairFace folder ('' to leave out)")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--grid", default=None, help="write a crop grid PNG here (keep it out of git: runs/)")
    parser.add_argument("--frame", default=None, help="a real video frame (image or video) for the grid")
    args = parser.parse_args(argv)
    t0 = time.time()
    records, report, _ = load_datasets(args.utkface or None, args.aaf or None, args.fairface or None)
    print(report)
    cache = detect_all(records, Path(args.cache), args.processes)
    print(f"detection done in {time.time() - t0:.0f} s; cache {args.cache}")
    for ds, counts in detection_report(records, cache).items():
        print(ds, counts)
    if args.grid:
        print("grid:", crop_grid(records, cache, Path(args.grid), Path(args.frame) if args.frame else None))


if __name__ == "__main__":
    main()
