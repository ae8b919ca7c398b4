"""Distillation: an ensemble of trained models as the teacher of the shipped one.

A teacher's distribution and age for every cached face are soft targets the
labels cannot give: an exact age says nothing about how unsure a face is,
and a FairFace group label (10 years wide) says nothing about where inside the
group the face sits. The ensemble (mean of the members' distributions and
ages, over unaugmented crops) gives both; for a group label its age is
clamped into the group, which the label does know.

The student's loss (`distill_loss`) mixes the label's cascade loss with the
same cascade form towards the teacher: alpha * KL(teacher || student) +
|age - teacher age|.

    python -m c3ae.training.distill targets RUN_A/best.pt RUN_B/best.pt ... \\
        --out ~/.cache/c3ae/distill/targets.npz
    python -m c3ae.training.train --cached --distill ~/.cache/c3ae/distill/targets.npz --distill-weight 0.5 ...
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from c3ae.training.losses import DEFAULT_ALPHA, cascade_loss, interval_l1, kl_to_target

Predictor = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def ensemble_predict(members: list[Predictor], crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean age (N,), mean distribution (N, 12)) of the members on the same crops."""
    outs = [member(crops) for member in members]
    return (torch.stack([a.float() for a, _ in outs]).mean(0), torch.stack([d.float() for _, d in outs]).mean(0))


def teacher_ages(t_age: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """The teacher's ages, clamped into the label's interval where the label is a group (high > low)."""
    group = high > low
    return torch.where(group, torch.minimum(torch.maximum(t_age, low), high), t_age)


def distill_loss(age_pred: torch.Tensor, dist_pred: torch.Tensor, low: torch.Tensor, high: torch.Tensor,
                 t_age: torch.Tensor, t_dist: torch.Tensor, alpha: float = DEFAULT_ALPHA, weight: float = 0.5
                 ) -> tuple[torch.Tensor, dict[str, float]]:
    """(1 - weight) * cascade loss to the label + weight * cascade loss to the teacher."""
    label, parts = cascade_loss(age_pred, dist_pred, low, alpha, high=high)
    target = teacher_ages(t_age.float(), low.float(), high.float())
    soft_l1 = interval_l1(age_pred, target, target).mean()
    soft_kl = kl_to_target(dist_pred, t_dist.float())
    soft = soft_l1 + alpha * soft_kl
    return (1 - weight) * label + weight * soft, {**parts, "soft_kl": float(soft_kl.detach()),
                                                  "soft_l1": float(soft_l1.detach())}


def load_targets(path: Path, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Teacher (ages (N,), distributions (N, 12)) in the crop cache's row order; NaN rows lack a target."""
    with np.load(path) as z:
        hashes, ages, dists = z["hashes"], z["ages"], z["dists"]
    out_a = np.full(len(index), np.nan, np.float32)
    out_d = np.full((len(index), dists.shape[1]), np.nan, np.float32)
    for h, a, d in zip(hashes, ages, dists):
        row = index.get(str(h))
        if row is not None:
            out_a[row], out_d[row] = a, d
    return out_a, out_d


def main(argv: list[str] | None = None) -> None:
    from c3ae.training.cache import DEFAULT_DIR, PATCH, CropCache, cut_crops
    from c3ae.training.stability import load_model

    parser = argparse.ArgumentParser(prog="python -m c3ae.training.distill", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("targets", help="the ensemble's ages and distributions for every cached face")
    t.add_argument("teachers", nargs="+", type=Path, help="training checkpoints or TorchScript weights")
    t.add_argument("--out", type=Path, required=True, help="targets .npz (outside the repository)")
    t.add_argument("--crop-cache", default=str(DEFAULT_DIR))
    t.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.time()
    cache = CropCache.open(Path(args.crop_cache), PATCH)
    members = [load_model(p) for p in args.teachers]
    ages, dists = [], []
    with torch.no_grad():
        for start in range(0, len(cache), 512):
            a, d = ensemble_predict(members, cut_crops(np.asarray(cache.patches[start:start + 512])))
            ages.append(a.numpy())
            dists.append(d.numpy())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, hashes=cache.hashes, ages=np.concatenate(ages), dists=np.concatenate(dists),
             teachers=np.array([str(p) for p in args.teachers]))
    print(f"{len(cache)} faces, {len(members)} teachers -> {args.out} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
