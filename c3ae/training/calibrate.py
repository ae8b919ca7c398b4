"""Fit the age calibration (`c3ae.calibration`) on the validation split.

    python -m c3ae.training.calibrate runs/main/best.pt --out runs/main/calibration.json [--flip-average]

Reads the exact-age validation faces (UTKFace, All-Age-Faces; FairFace's
groups are too coarse to fit a curve and stay an independent check), crops
them from the cached detections exactly as live, and fits f(t), the mean
prediction at true age t, by local linear regression at knots 0, 5, ..., 80
(local linear, not a plain kernel mean, so the ends are not pulled inward).
f is made strictly increasing and inverted. The report cross-fits: the bias
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

from ..calibration import AgeCalibration
from ..model import C3AE
from .data import (
    DEFAULT_AAF,
    DEFAULT_SPLIT,
    DEFAULT_UTKFACE,
    assign,
    decade_label,
    decade_of,
    load_datasets,
    read_split,
)
from .preprocess import DEFAULT_CACHE, load_cache
from .train import CropDataset, build_items, predict

KNOTS = np.arange(0.0, 85.0, 5.0)
BANDWIDTH = 4.0  # years: the Gaussian kernel of the local regression


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


def fit(pred: np.ndarray, true: np.ndarray, knots: np.ndarray = KNOTS) -> tuple[np.ndarray, np.ndarray]:
    """Knots (predicted, age) of g = f^-1, with f forced strictly increasing."""
    f = mean_prediction_curve(pred, true, knots)
    step = 0.05 * np.diff(knots).min()
    for i in range(1, len(f)):
        f[i] = max(f[i], f[i - 1] + step)
    return f, knots.copy()


def bias_per_decade(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    dec = np.array([decade_of(a) for a in true])
    return {decade_label(d): round(float((pred - true)[dec == d].mean()), 2) for d in sorted(set(dec.tolist()))}


def cross_fitted(pred: np.ndarray, true: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Each half calibrated by the curve fitted on the other half."""
    out = np.empty_like(pred)
    for side in (False, True):
        x, y = fit(pred[half != side], true[half != side])
        out[half == side] = AgeCalibration(x, y).map_numpy(pred[half == side])
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m c3ae.training.calibrate", description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", type=Path, help="best.pt of a training run")
    p.add_argument("--out", type=Path, required=True, help="calibration JSON to write (for export --calibration)")
    p.add_argument("--flip-average", action="store_true", help="calibrate the mirror-averaged model")
    p.add_argument("--utkface", default=str(DEFAULT_UTKFACE))
    p.add_argument("--aaf", default=str(DEFAULT_AAF))
    p.add_argument("--split", default=str(DEFAULT_SPLIT))
    p.add_argument("--cache", default=str(DEFAULT_CACHE))
    args = p.parse_args(argv)

    records, _, _ = load_datasets(args.utkface or None, args.aaf or None)
    val = assign(records, read_split(Path(args.split)))["val"]
    items, val, _ = build_items(val, load_cache(Path(args.cache)))
    ds = CropDataset(items, augment=False)
    crops = torch.stack([ds[i][0] for i in range(len(ds))])
    ckpt = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    model = C3AE(**{**ckpt["config"], "flip_average": args.flip_average})
    model.load_state_dict(ckpt["model"])
    pred = predict(model, crops, torch.device("cpu"))
    true = np.array([r.age for r in val], np.float32)
    half = np.array([int(r.hash[-1], 16) % 2 == 1 for r in val])
    calibrated = cross_fitted(pred, true, half)
    x, y = fit(pred, true)
    report = {
        "n": int(len(true)),
        "mae_before": round(float(np.abs(pred - true).mean()), 3),
        "mae_after_cross_fitted": round(float(np.abs(calibrated - true).mean()), 3),
        "bias_before": bias_per_decade(pred, true),
        "bias_after_cross_fitted": bias_per_decade(calibrated, true),
    }
    result = {"checkpoint": str(args.checkpoint), "flip_average": args.flip_average,
              "predicted": [round(float(v), 3) for v in x], "age": [float(v) for v in y], "report": report}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
