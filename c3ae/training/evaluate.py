"""Evaluate age weights with the full live pipeline on labelled image folders.

    python -m c3ae.training.evaluate DIR [DIR ...] [--labels CSV] [--weights PATH] [--json OUT.json]
                            [--plot OUT.png] [--split data/split.csv --subset test]

Labels: a ``file,age`` CSV (``--labels``, or ``DIR/labels.csv`` when present;
paths relative to DIR), FairFace's own CSV whose ages are group names
(``10-19``, ``more than 70``), else UTKFace-style names ``AGE_...``. Images may
be JPEG or PNG (any case of extension), greyscale or colour.

Exact ages are scored by MAE, CS(5) and, per decade, MAE and bias (mean signed
error); group labels by the share of faces whose predicted age falls inside
their group, overall and per group, plus the bias to the nearest group edge.

Every image goes through the live app's pipeline: BlazeFace (short range,
IMAGE mode; retried with a 25% border when it finds nothing, see
`c3ae.training.preprocess.detect_still`) -> `c3ae.crops.context.face_crops` -> `c3ae.model.runner.AgeEngine`.
Images with no face are counted, listed in the JSON and left out of the MAE;
with several faces the largest is scored.

With ``--split`` only the images whose content hash the split file assigns to
``--subset`` are scored, after the same de-duplication as training, so the
model card's test numbers can be reproduced from a fresh clone.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from c3ae.options import DEVICES
from c3ae.training.data import (
    Record,
    decade_label,
    decade_of,
    deduplicate,
    index_folder,
    read_image,
    read_split,
    with_hashes,
)

BATCH = 64


def gather(dirs: list[str], labels: list[str] | None) -> tuple[list[Record], list[str]]:
    labels = labels or []
    if labels and len(labels) not in (1, len(dirs)) or (len(labels) == 1 and len(dirs) > 1):
        raise SystemExit("give one --labels per DIR (in the same order), or none")
    records, problems = [], []
    for k, d in enumerate(dirs):
        folder = Path(d)
        if not folder.is_dir():
            raise SystemExit(f"{folder} is not a folder")
        r, p = index_folder(folder, Path(labels[k]) if k < len(labels) else None)
        records += r
        problems += [f"{folder.name}/{x}" for x in p]
    return records, problems


def summarize(ages: np.ndarray, preds: np.ndarray) -> dict:
    err = np.abs(preds - ages)
    out = {"n": int(len(err)), "mae": float(err.mean()) if len(err) else float("nan"),
           "cs5": float((err <= 5).mean()) if len(err) else float("nan")}
    return out


def per_group(lows: np.ndarray, highs: np.ndarray, preds: np.ndarray) -> dict:
    """Share inside the group, median prediction and bias to the group (0 inside) per group."""
    out = {}
    for lo, hi in sorted(set(zip(lows.tolist(), highs.tolist()))):
        sel = (lows == lo) & (highs == hi)
        p = preds[sel]
        signed = np.where(p < lo, p - lo, np.where(p >= hi, p - hi, 0.0))
        out[f"{lo:g}-{hi - 1:g}"] = {"n": int(sel.sum()), "inside": float(((p >= lo) & (p < hi)).mean()),
                                     "median_pred": float(np.median(p)), "bias_to_group": float(signed.mean())}
    return out


def group_summary(lows: np.ndarray, highs: np.ndarray, preds: np.ndarray) -> dict:
    inside = (preds >= lows) & (preds < highs)
    return {"n": int(len(preds)), "inside_group": float(inside.mean()) if len(preds) else float("nan"),
            "per_group": per_group(lows, highs, preds)}


def per_decade(ages: np.ndarray, preds: np.ndarray) -> dict:
    dec = np.array([decade_of(a) for a in ages], dtype=int)
    err = np.abs(preds - ages)
    return {decade_label(d): {"n": int((dec == d).sum()), "mae": float(err[dec == d].mean()),
                              "bias": float((preds - ages)[dec == d].mean())}
            for d in sorted(set(dec.tolist()))}


def plot(ages: np.ndarray, preds: np.ndarray, decades: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.8))
    a.scatter(ages, preds, s=4, alpha=0.35)
    top = max(100.0, float(ages.max()) if len(ages) else 100, float(preds.max()) if len(preds) else 100)
    a.plot([0, top], [0, top], "k--", lw=1)
    a.set_xlabel("true age")
    a.set_ylabel("predicted age")
    a.set_title(title)
    names = list(decades)
    b.bar(names, [decades[k]["mae"] for k in names])
    for i, k in enumerate(names):
        b.text(i, decades[k]["mae"], f"n={decades[k]['n']}", ha="center", va="bottom", fontsize=7)
    b.set_xlabel("true age (decade)")
    b.set_ylabel("MAE (years)")
    b.set_title("error per decade")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate(records: list[Record], weights: Path | None, device: str | None = None,
             progress: bool = True) -> dict:
    """Run detector -> crops -> engine on every record; returns the result dict."""
    from tqdm import tqdm

    from c3ae.crops.context import face_crops
    from c3ae.detect.blazeface import FaceDetector
    from c3ae.model.runner import DEFAULT_WEIGHTS, AgeEngine
    from c3ae.training.preprocess import detect_still

    engine = AgeEngine(weights if weights is not None else DEFAULT_WEIGHTS, device=device)
    t0 = time.perf_counter()
    preds = np.full(len(records), np.nan, np.float32)
    no_face, unreadable, multi = [], [], 0
    pending_idx, pending_crops = [], []

    def flush() -> None:
        if pending_idx:
            import torch

            ages, _ = engine.predict(torch.cat(pending_crops))
            preds[pending_idx] = ages
            pending_idx.clear()
            pending_crops.clear()

    with FaceDetector("short", video=False) as detector:
        for k, r in enumerate(tqdm(records, desc="evaluate", unit="img", disable=not progress,
                                   file=sys.stderr, mininterval=2.0)):
            image = read_image(r.path)
            if image is None:
                unreadable.append(str(r.path))
                continue
            faces, _ = detect_still(detector, image)
            if not len(faces):
                no_face.append(str(r.path))
                continue
            multi += len(faces) > 1
            pending_idx.append(k)
            pending_crops.append(face_crops(image, faces[faces.largest()]))
            if len(pending_idx) >= BATCH:
                flush()
        flush()
    seconds = time.perf_counter() - t0

    found = np.isfinite(preds)
    exact = np.array([r.span is None for r in records], bool)
    ok = found & exact
    grouped = found & ~exact
    ages = np.array([r.age for r in records], np.float32)
    lows = np.array([r.low for r in records], np.float32)
    highs = np.array([r.high for r in records], np.float32)
    result = {
        "weights": str(engine.weights) if engine.weights is not None else None,
        "weights_status": engine.status,
        "sha256": engine.manifest.get("sha256"),
        "n_images": len(records),
        "n_no_face": len(no_face),
        "n_unreadable": len(unreadable),
        "n_multi_face": int(multi),
        "n_scored": int(ok.sum()),
        **{k: v for k, v in summarize(ages[ok], preds[ok]).items() if k != "n"},
        "per_decade": per_decade(ages[ok], preds[ok]),
        "groups": group_summary(lows[grouped], highs[grouped], preds[grouped]) if grouped.any() else None,
        "per_dataset": {},
        "seconds": round(seconds, 2),
        "images_per_second": round(len(records) / seconds, 1) if seconds > 0 else None,
        "no_face": no_face,
        "unreadable": unreadable,
        "predictions": [{"file": str(r.path), "dataset": r.dataset, "age": float(r.age),
                         "span": list(r.span) if r.span else None,
                         "pred": (float(p) if np.isfinite(p) else None)} for r, p in zip(records, preds)],
    }
    by_ds: dict[str, list[int]] = defaultdict(list)
    for k, r in enumerate(records):
        by_ds[r.dataset].append(k)
    if len(by_ds) > 1:
        for name, idx in sorted(by_ds.items()):
            idx = np.array(idx)
            sel = idx[ok[idx]]
            if len(sel):
                result["per_dataset"][name] = {**summarize(ages[sel], preds[sel]), "n_images": int(len(idx)),
                                               "per_decade": per_decade(ages[sel], preds[sel])}
            else:
                sel = idx[grouped[idx]]
                result["per_dataset"][name] = {**group_summary(lows[sel], highs[sel], preds[sel]),
                                               "n_images": int(len(idx))}
    result["_arrays"] = (ages[ok], preds[ok])
    return result


def print_table(result: dict) -> None:
    print(f"\nweights: {result['weights_status']}  sha256 {str(result['sha256'])[:16]}...")
    print(f"images {result['n_images']}, no face {result['n_no_face']}, unreadable {result['n_unreadable']}, "
          f"several faces (largest scored) {result['n_multi_face']}; {result['seconds']:.1f} s "
          f"({result['images_per_second']} img/s)")
    if result["n_scored"]:
        print(f"{'exact ages':12s} {'n':>6s} {'MAE':>7s} {'CS5':>6s}")
        print(f"{'overall':12s} {result['n_scored']:6d} {result['mae']:7.2f} {result['cs5']:6.3f}")
        for name, d in result["per_dataset"].items():
            if "mae" in d:
                print(f"{name:12s} {d['n']:6d} {d['mae']:7.2f} {d['cs5']:6.3f}")
        print(f"{'decade':12s} {'n':>6s} {'MAE':>7s} {'bias':>6s}")
        for name, d in result["per_decade"].items():
            print(f"{name:12s} {d['n']:6d} {d['mae']:7.2f} {d['bias']:+6.1f}")
    if result["groups"]:
        g = result["groups"]
        print(f"{'age group':12s} {'n':>6s} {'inside':>7s} {'median':>7s} {'bias':>6s}")
        print(f"{'all groups':12s} {g['n']:6d} {g['inside_group']:7.3f}")
        for name, d in g["per_group"].items():
            print(f"{name:12s} {d['n']:6d} {d['inside']:7.3f} {d['median_pred']:7.1f} {d['bias_to_group']:+6.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m c3ae.training.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="folder(s) of labelled images")
    parser.add_argument("--labels", action="append", help="file,age CSV for a DIR (default DIR/labels.csv "
                        "if present, else UTKFace-style names); repeat once per DIR")
    parser.add_argument("--weights", default=None, help="TorchScript weights (default weights/c3ae.pt)")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--plot", default=None, help="PNG plot (default: next to --json, else none)")
    parser.add_argument("--split", default=None, help="split file (data/split.csv) to select --subset from")
    parser.add_argument("--subset", default="test", choices=["train", "val", "test"])
    parser.add_argument("--limit", type=int, default=0, help="only the first N images (timing runs)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto: CUDA when available")
    args = parser.parse_args(argv)

    from c3ae.errors import WeightsError

    records, problems = gather(args.dirs, args.labels)
    for p in problems:
        print("skipped:", p, file=sys.stderr)
    if args.split:
        split = read_split(Path(args.split))
        records, report = deduplicate(with_hashes(records))
        records = [r for r in records if split.get(r.hash) == args.subset]
        print(f"{report}; {len(records)} images in the '{args.subset}' subset of {args.split}", file=sys.stderr)
    if args.limit:
        records = records[:args.limit]
    if not records:
        print("no labelled images found", file=sys.stderr)
        return 2
    try:
        result = evaluate(records, Path(args.weights) if args.weights else None, args.device)
    except WeightsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    ages, preds = result.pop("_arrays")
    if args.split:
        result["split"] = {"file": args.split, "subset": args.subset}
    print_table(result)
    plot_path = Path(args.plot) if args.plot else (Path(args.json).with_suffix(".png") if args.json else None)
    if plot_path is not None and len(ages):
        plot(ages, preds, result["per_decade"], plot_path,
             f"MAE {result['mae']:.2f} on {result['n_scored']} faces")
        print(f"plot: {plot_path}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
        print(f"json: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
