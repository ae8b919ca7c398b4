"""Weight averaging: the mean of a run's last checkpoints, with BatchNorm statistics measured anew.

Late in a cosine schedule successive epochs sit around the same minimum with
different noise; the mean of their weights usually lies nearer its centre
than any one of them (stochastic weight averaging, Izmailov et al., 2018).
BatchNorm's running statistics do not average with the weights (they belong
to the weights they were measured under), so they are measured again by
forward passes over augmented training batches from the crop cache, the same
kind of batches the training step sees.

    python -m c3ae.training.average RUN/epochs/e16.pt RUN/epochs/e17.pt RUN/last.pt --out RUN/average.pt

The output is a checkpoint like `best.pt` (calibrate and export take it).
The validation MAE of each input and of the mean are printed; the choice
between them is made on validation only.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch import nn

from c3ae.engine.model import C3AE


def average_states(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The mean of floating-point entries; integer entries (BatchNorm's batch counter) from the last."""
    out = {}
    for key, last in states[-1].items():
        out[key] = torch.stack([s[key].float() for s in states]).mean(0).to(last.dtype) \
            if last.is_floating_point() else last.clone()
    return out


@torch.no_grad()
def refresh_batchnorm(model: nn.Module, batches: list[torch.Tensor]) -> None:
    """Replace every BatchNorm's running mean and variance by their average over `batches`."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches, not an exponential one
    was_training = model.training
    model.train()
    for crops in batches:
        model(crops)
    model.train(was_training)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum


def main(argv: list[str] | None = None) -> dict:
    from c3ae.training.augment import ROBUST, AugmentConfig
    from c3ae.training.cache import DEFAULT_DIR, PATCH
    from c3ae.training.data import (
        DEFAULT_AAF,
        DEFAULT_FAIRFACE,
        DEFAULT_SPLIT,
        DEFAULT_UTKFACE,
        assign,
        load_datasets,
        read_split,
    )
    from c3ae.training.train import cached_sets, predict, val_metrics

    p = argparse.ArgumentParser(prog="python -m c3ae.training.average", description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+", type=Path, help="training checkpoints of one run (last.pt copies)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--bn-batches", type=int, default=100, help="augmented training batches of 64 for BatchNorm")
    p.add_argument("--utkface", default=str(DEFAULT_UTKFACE))
    p.add_argument("--aaf", default=str(DEFAULT_AAF))
    p.add_argument("--fairface", default=str(DEFAULT_FAIRFACE))
    p.add_argument("--split", default=str(DEFAULT_SPLIT))
    p.add_argument("--crop-cache", default=str(DEFAULT_DIR))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    ckpts = [torch.load(c, map_location="cpu", weights_only=False) for c in args.checkpoints]
    config = ckpts[-1]["config"]
    if any(c["config"] != config for c in ckpts):
        raise SystemExit("the checkpoints have different model configurations; average one run's epochs")
    records, _, _ = load_datasets(args.utkface or None, args.aaf or None, args.fairface or None)
    subsets = assign(records, read_split(Path(args.split)))
    robust = bool(ckpts[-1].get("args", {}).get("robust"))
    train_ds, val_crops, _, val_recs, _, _ = cached_sets(
        subsets["train"], subsets["val"], Path(args.crop_cache), PATCH,
        AugmentConfig(**ROBUST) if robust else AugmentConfig(), args.seed)
    rng = np.random.default_rng(args.seed)
    batches = [train_ds[rng.choice(len(train_ds), 64, replace=False).tolist()][0] for _ in range(args.bn_batches)]

    def scored(state: dict) -> tuple[C3AE, dict]:
        model = C3AE(**config)
        model.load_state_dict(state)
        return model, val_metrics(predict(model, val_crops, torch.device("cpu")), val_recs)

    report = {}
    for path, ckpt in zip(args.checkpoints, ckpts):
        report[str(path)] = scored(ckpt["model"])[1]
    model = C3AE(**config)
    model.load_state_dict(average_states([c["model"] for c in ckpts]))
    refresh_batchnorm(model, batches)
    model, report["average"] = scored(model.state_dict())
    for name, m in report.items():
        print(f"{m['mae']:.3f} val MAE, FairFace inside {m.get('inside_group', float('nan')):.3f}  {name}")
    out = {**ckpts[-1], "model": model.state_dict(), "averaged": [str(c) for c in args.checkpoints],
           "history": ckpts[-1]["history"] + [{"averaged": len(ckpts), **report["average"]}]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(out, args.out)
    print(f"wrote {args.out}")
    return report


if __name__ == "__main__":
    main()
