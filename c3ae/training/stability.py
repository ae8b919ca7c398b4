"""Stability figure: how far a model's age moves when video changes a face a little.

For each face of a split, `copies` versions are cut from its cached patch
(`c3ae.training.cache`) under what video does between frames of one steady
shot: light (gamma, brightness, contrast), colour cast and temperature, blur
(motion blur, loss of resolution), sensor noise, and small shifts, scales and
rolls of the crop boxes (`VIDEO`). A face's spread is p90 - p10 of its copies'
ages; the figure is the median and the 90th percentile of the spreads over
faces (issue 17's target: median <= 3 years). Copies are seeded, so two
weights are compared on the very same perturbations.

    python -m c3ae.training.stability [--weights weights/c3ae.pt | RUN/best.pt] [--subset test]
                                      [--faces 1000] [--copies 16] [--json OUT.json]
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from c3ae.training.augment import AugmentConfig
from c3ae.training.cache import DEFAULT_DIR, PATCH, CropCache, augmented_cuts
from c3ae.training.data import (
    DEFAULT_AAF,
    DEFAULT_FAIRFACE,
    DEFAULT_SPLIT,
    DEFAULT_UTKFACE,
    assign,
    load_datasets,
    read_split,
)

# what changes between frames of one shot, each moderate: gamma 0.74-1.35, gains 0.85-1.15 per
# channel, noise sigma 3-8, motion blur 3-9 px or resolution halved at most, shifts of 3% of a crop
# (sd), scale 5% (sd), roll 3 degrees; no flip, erasing, occluders, JPEG or old prints
VIDEO = AugmentConfig(shift=0.03, log_scale=0.05, max_angle_deg=3.0, brightness=15.0, contrast=0.15,
                      temperature=0.08, p_grey=0.0, p_lowres=0.3, lowres_max=2.0, p_flip=0.0, p_erase=0.0,
                      p_gamma=0.5, gamma=0.3, p_cast=0.3, cast=0.15, p_noise=0.5, noise=8.0, p_motion=0.3)


def load_model(path: Path) -> Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Crops (N, 3, 3, 64, 64) uint8 -> (ages (N,), distributions (N, 12)) in eval mode without
    gradients, from TorchScript weights (as shipped, calibration included) or a training
    checkpoint (the raw network, uncalibrated)."""
    try:
        model = torch.jit.load(str(path), map_location="cpu")
    except RuntimeError:
        from c3ae.model.network import C3AE

        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        model = C3AE(**ckpt["config"])
        model.load_state_dict(ckpt["model"])
    model.eval()

    def run(crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            age, dist = model(crops)
        return age.float(), dist.float()

    return run


def spreads(predict: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]], patches: np.ndarray, copies: int = 16,
            seed: int = 0, cfg: AugmentConfig = VIDEO, faces_per_batch: int = 16) -> np.ndarray:
    """(p90 - p10 of the ages of `copies` perturbed versions of each face) (N,), seeded per face."""
    out = np.empty(len(patches), np.float64)
    for start in range(0, len(patches), faces_per_batch):
        chunk = np.asarray(patches[start:start + faces_per_batch])
        rng = np.random.default_rng([seed, start])
        crops = augmented_cuts(np.repeat(chunk, copies, axis=0), rng, cfg)
        ages = predict(crops)[0].numpy().reshape(len(chunk), copies)
        p10, p90 = np.percentile(ages, [10, 90], axis=1)
        out[start:start + len(chunk)] = p90 - p10
    return out


def summary(values: np.ndarray) -> dict:
    return {"n": int(len(values)), "median": float(np.median(values)), "p90": float(np.percentile(values, 90)),
            "mean": float(values.mean())}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m c3ae.training.stability", description=__doc__.split("\n")[0])
    p.add_argument("--weights", default="weights/c3ae.pt", help="TorchScript weights or a training checkpoint")
    p.add_argument("--utkface", default=str(DEFAULT_UTKFACE))
    p.add_argument("--aaf", default=str(DEFAULT_AAF))
    p.add_argument("--fairface", default=str(DEFAULT_FAIRFACE), help="FairFace folder ('' to leave out)")
    p.add_argument("--split", default=str(DEFAULT_SPLIT))
    p.add_argument("--subset", default="test", choices=["train", "val", "test"])
    p.add_argument("--crop-cache", default=str(DEFAULT_DIR))
    p.add_argument("--faces", type=int, default=1000, help="a seeded sample of N faces (0 = all)")
    p.add_argument("--copies", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    records, _, _ = load_datasets(args.utkface or None, args.aaf or None, args.fairface or None)
    cache = CropCache.open(Path(args.crop_cache), PATCH)
    recs = [r for r in assign(records, read_split(Path(args.split)))[args.subset] if r.hash in cache.index]
    if args.faces and args.faces < len(recs):
        pick = np.random.default_rng(args.seed).choice(len(recs), args.faces, replace=False)
        recs = [recs[i] for i in np.sort(pick)]
    rows = np.array([cache.index[r.hash] for r in recs], np.int64)
    values = spreads(load_model(Path(args.weights)), cache.patches[rows], args.copies, args.seed)
    datasets = np.array([r.dataset for r in recs])
    result = {"weights": args.weights, "subset": args.subset, "copies": args.copies, "seed": args.seed,
              "all": summary(values),
              **{name: summary(values[datasets == name]) for name in sorted(set(datasets.tolist()))},
              "seconds": round(time.time() - t0, 1)}
    for key in ["all", *sorted(set(datasets.tolist()))]:
        s = result[key]
        print(f"{key:9s} n={s['n']:5d}  spread (p90-p10 of {args.copies} copies): median {s['median']:.2f}, "
              f"p90 {s['p90']:.2f}, mean {s['mean']:.2f} years")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
