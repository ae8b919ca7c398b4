"""Fit the age calibration (`c3ae.model.calibration`) on the validation split.

    python -m c3ae.training.calibrate runs/main/best.pt --out runs/main/calibration.json [--flip-average]

Reads the exact-age validation faces (UTKFace, All-Age-Faces; FairFace's
groups are too coarse to fit a curve and stay an independent check: the share
of its validation faces inside their group is reported for each strength), crops
them from the cached detections exactly as live, and fits f(t), the mean
prediction at true age t, by local linear regression at knots 0, 5, ..., 80
(local linear, not a plain kernel mean, so the ends are not pulled inward).
f is made strictly increasing and inverted (`--strength` < 1 goes part of the
way: the full inverse also scales up each prediction's noise). The report cross-fits: the bias
per decade of one half of the validation faces under a calibration fitted on
the other half, before and after, so the gain is not measured on the faces
it was fitted to. The test split is never read.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from c3ae.model.calibration import AgeCalibration
from c3ae.model.network import C3AE
from c3ae.training.data import (
    DEFAULT_AAF,
    DEFAULT_FAIRFACE,
    DEFAULT_SPLIT,
    DEFAULT_UTKFACE,
    assign,
    decade_label,
    decade_of,
    load_datasets,
    read_split,
)
from c3ae.training.preprocess import DEFAULT_CACHE, load_cache
from c3ae.training.train import CropDataset, build_items, predict

KNOTS = np.arange(0.0, 85.0, 5.0)
BANDWIDTH = 4.0  # years: the Gaussian kernel of the local regression
STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)  # reported, cross-fitted


def mean_prediction_curve(pred: np.ndarray, true: np.ndarray, knots: np.ndarray = KNOTS,
                          bandwidth: float = BANDWIDTH) -> np.ndarray:
    """f(knot): local linear estimate of the mean prediction at each true age."""
    out = np.empty(len(knots))
    for i, t in enumerate(knots):
        w = np.exp(-0.5 * ((true - t) / bandwidth) ** 2)
        d = true - t
        sw, swd, swdd = w.sum(), (w * d).sum(), (w * d * d).sum()
        swp, swdp = (w * pred).sum(), (w * d * pred).sum()
        det = sw * swdd - swd * swd
        out[i] = (swdd * swp - swd * swdp) / det if det > 1e-9 else swp / max(sw, 1e-9)
    return out


def fit(pred: np.ndarray, true: np.ndarray, knots: np.ndarray = KNOTS, strength: float = 1.0
        ) -> tuple[np.ndarray, np.ndarray]:
    """Knots (predicted, age) of g = f^-1 (strength 1), with f forced strictly increasing.

    Undoing the shrinkage also scales up the noise of each prediction (by 1/f'),
    so `strength` < 1 moves each knot only that share of the way:
    g(f(t)) = strength * t + (1 - strength) * f(t)."""
    f = mean_prediction_curve(pred, true, knots)
    step = 0.05 * np.diff(knots).min()
    for i in range(1, len(f)):
        f[i] = max(f[i], f[i - 1] + step)
    return f, strength * knots + (1.0 - strength) * f


def bias_per_decade(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    dec = np.array([decade_of(a) for a in true])
    return {decade_label(d): round(float((pred - true)[dec == d].mean()), 2) for d in sorted(set(dec.tolist()))}


def cross_fitted(pred: np.ndarray, true: np.ndarray, half: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Each half calibrated by the curve fitted on the other half."""
    out = np.empty_like(pred)
    for side in (False, True):
        x, y = fit(pred[half != side], true[half != side], strength=strength)
        out[half == side] = AgeCalibration(x, y).map_numpy(pred[half == side])
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m c3ae.training.calibrate", description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", type=Path, help="best.pt of a training run")
    p.add_argument("--out", type=Path, required=True, help="calibration JSON to write (for export --calibration)")
    p.add_argument("--flip-average", action="store_true", help="calibrate the mirror-averaged model")
    p.add_argument("--strength", type=float, default=1.0,
                   help="0 = no change, 1 = the full inverse of the mean-prediction curve")
    p.add_argument("--utkface", default=str(DEFAULT_UTKFACE))
    p.add_argument("--aaf", default=str(DEFAULT_AAF))
    p.add_argument("--fairface", default=str(DEFAULT_FAIRFACE),
                   help="FairFace folder: its validation faces check each strength (never fitted on); '' to skip")
    p.add_argument("--split", default=str(DEFAULT_SPLIT))
    p.add_argument("--cache", default=str(DEFAULT_CACHE))
    args = p.parse_args(argv)

    fairface = args.fairface if args.fairface and Path(args.fairface).is_dir() else None
    records, _, _ = load_datasets(args.utkface or None, args.aaf or None, fairface)
    cache = load_cache(Path(args.cache))
    ckpt = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    model = C3AE(**{**ckpt["config"], "flip_average": args.flip_average})
    model.load_state_dict(ckpt["model"])

    def predictions(subset: list) -> tuple[np.ndarray, list]:
        items, kept, _ = build_items(subset, cache)
        ds = CropDataset(items, augment=False)
        crops = torch.stack([ds[i][0] for i in range(len(ds))])
        return predict(model, crops, torch.device("cpu")), kept

    val_all = assign(records, read_split(Path(args.split)))["val"]
    pred, val = predictions([r for r in val_all if r.span is None])
    groups = predictions([r for r in val_all if r.span is not None]) if fairface else None
    true = np.array([r.age for r in val], np.float32)
    half = np.array([int(r.hash[-1], 16) % 2 == 1 for r in val])
    report = {"n": int(len(true)), "cross_fitted": {}}
    for strength in STRENGTHS:
        calibrated = cross_fitted(pred, true, half, strength)
        entry = {"mae": round(float(np.abs(calibrated - true).mean()), 3), "bias": bias_per_decade(calibrated, true)}
        if groups is not None:
            g_pred, g_recs = groups
            g_cal = AgeCalibration(*fit(pred, true, strength=strength)).map_numpy(g_pred)
            low, high = np.array([r.low for r in g_recs]), np.array([r.high for r in g_recs])
            inside = (g_cal >= low) & (g_cal < high)
            entry["fairface_inside"] = round(float(inside.mean()), 3)
            entry["fairface_inside_10_19"] = round(float(inside[low == 10].mean()), 3)
        report["cross_fitted"][f"{strength:g}"] = entry
    x, y = fit(pred, true, strength=args.strength)
    result = {"checkpoint": str(args.checkpoint), "flip_average": args.flip_average, "strength": args.strength,
              "predicted": [round(float(v), 3) for v in x], "age": [float(v) for v in y], "report": report}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print("strength   MAE  FairFace inside (teens)  bias per decade "
          + " ".join(f"{k:>6s}" for k in report["cross_fitted"]["0"]["bias"]))
    for strength, r in report["cross_fitted"].items():
        ff = f"{r['fairface_inside']:.3f} ({r['fairface_inside_10_19']:.3f})" if "fairface_inside" in r else "-"
        print(f"{strength:>8s} {r['mae']:5.2f}  {ff:>22s}  " + " ".join(f"{v:+6.1f}" for v in r["bias"].values()))
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
