"""Train C3AE on the cached detections with the cascade loss.

    python -m c3ae.training.train --out runs/main [--epochs 12] [--alpha 10] [--se] [--crops 3]
                         [--fairface DIR] [--robust] [--init weights/c3ae.pt]
                         [--resume runs/main/last.pt] [--export weights/c3ae.pt]
                         [--cached [--distill TARGETS.npz --distill-weight 0.5] [--consistency 1]]

Every training crop is cut by `c3ae.crops.context.face_crops` from the box/keypoints
that the live detector found in that image (`python -m c3ae.training.preprocess` fills
the cache; it runs here automatically for missing images), with augmentation
from `c3ae.training.augment`. With `--cached` the crops are cut by the same
function from the crop cache's face patches (`c3ae.training.cache`), whole
batches at a time, instead of decoding and degrading each whole image:
the input pipeline then keeps up with the model on one core. Loss: alpha * KL(two-point target || predicted
distribution) + L1(age); FairFace's group labels are trained as intervals
(`c3ae.training.losses`); `--consistency W` adds W times the distance between the
ages of two cuts of each face that differ as two frames of a video do.
AdamW with a linear warm-up then cosine decay of the learning rate, seeded;
`last.pt` is written after every epoch (resume with --resume) and `best.pt`
whenever the validation MAE improves. The model is selected on the
validation split only; the test split is never read here.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, WeightedRandomSampler

from c3ae.crops.context import face_crops
from c3ae.faces import Faces
from c3ae.model.network import C3AE, count_parameters
from c3ae.model.runner import torch_device
from c3ae.options import DEVICES
from c3ae.training.augment import ROBUST, AugmentConfig, augmented_crops
from c3ae.training.data import (
    DEFAULT_AAF,
    DEFAULT_FAIRFACE,
    DEFAULT_SPLIT,
    DEFAULT_UTKFACE,
    Record,
    assign,
    decade_of,
    load_datasets,
    read_split,
)
from c3ae.training.distill import distill_loss
from c3ae.training.losses import DEFAULT_ALPHA, cascade_loss, consistency


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _face(entry: dict) -> Faces:
    return Faces(np.asarray(entry["box"])[None], np.asarray(entry["keypoints"])[None], np.array([entry["score"]]))


class CropDataset(Dataset):
    """(encoded image bytes, (low, high), detection) -> (crops (3, 3, 64, 64) uint8, low, high).

    An exact age has low == high; a group label is its interval [low, high).

    Files are read into memory once as encoded bytes (~250 MB for both sets) and
    decoded per sample."""

    def __init__(self, items: list[tuple[bytes, float, dict]], augment: bool, seed: int = 0,
                 cfg: AugmentConfig | None = None) -> None:
        self.items = items
        self.augment = augment
        self.seed = seed
        self.cfg = cfg or AugmentConfig()
        self._rng: np.random.Generator | None = None
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, float, float]:
        import cv2

        data, (low, high), entry = self.items[index]
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        faces = _face(entry)
        if self.augment:
            if self._rng is None:
                info = torch.utils.data.get_worker_info()
                wid = info.id if info is not None else 0
                self._rng = np.random.default_rng([self.seed, self.epoch, wid])
            crops = augmented_crops(image, faces, self._rng, self.cfg)[0]
        else:
            crops = face_crops(image, faces)[0]
        return crops, float(low), float(high)


def build_items(records: list[Record], cache: dict[str, dict]) -> tuple[list, list[Record], int]:
    """Items for the records with a detected face; returns (items, their records, n dropped)."""
    items, kept, dropped = [], [], 0
    for r in records:
        entry = cache.get(r.hash)
        if entry is None or entry["n_faces"] <= 0:
            dropped += 1
            continue
        items.append((r.path.read_bytes(), (r.low, r.high), entry))
        kept.append(r)
    return items, kept, dropped


def cached_sets(train_recs: list[Record], val_recs: list[Record], folder: Path, patch: int,
                cfg: AugmentConfig, seed: int, distill: Path | None = None, copies: int = 1) -> tuple:
    """(train PatchBatches, val crops, train records, val records, n dropped train, n dropped val)
    from the crop cache (`python -m c3ae.training.cache build`); records without a patch (or,
    with `distill` targets, without a teacher target) are dropped."""
    from c3ae.training.cache import CropCache, PatchBatches, cut_crops
    from c3ae.training.distill import load_targets

    crop_cache = CropCache.open(folder, patch)
    targets = load_targets(distill, crop_cache.index) if distill else None
    kept_train = [r for r in train_recs if r.hash in crop_cache.index
                  and (targets is None or np.isfinite(targets[0][crop_cache.index[r.hash]]))]
    kept_val = [r for r in val_recs if r.hash in crop_cache.index]

    def columns(recs: list[Record]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = np.array([crop_cache.index[r.hash] for r in recs], np.int64)
        return rows, np.array([r.low for r in recs], np.float32), np.array([r.high for r in recs], np.float32)

    rows, low, high = columns(kept_train)
    train_ds = PatchBatches(folder, patch, rows, low, high, augment=True, cfg=cfg, seed=seed,
                            targets=None if targets is None else (targets[0][rows], targets[1][rows]),
                            copies=copies)
    val_rows = columns(kept_val)[0]
    val_crops = cut_crops(crop_cache.patches[val_rows]) if len(val_rows) else torch.zeros(0)
    return (train_ds, val_crops, kept_train, kept_val, len(train_recs) - len(kept_train),
            len(val_recs) - len(kept_val))


def sample_weights(records: list[Record], power: float) -> np.ndarray:
    """Per-sample weights proportional to (decade count) ** -power (0 = natural frequency)."""
    decades = np.array([decade_of(r.age) for r in records])
    counts = np.bincount(decades, minlength=10).astype(np.float64)
    return counts[decades] ** -power


def lr_at(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


@torch.no_grad()
def predict(model: C3AE, crops: torch.Tensor, device: torch.device, batch: int = 256) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(crops), batch):
        x = crops[i:i + batch].to(device)
        if model.n_crops == 1:
            x = x[:, 1:2]
        out.append(model(x)[0].float().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def val_metrics(pred: np.ndarray, records: list[Record]) -> dict:
    """MAE, CS(5) and per-decade MAE/bias on the exact-age records; share inside their
    group (overall and per group) on the group-labelled ones. `mae` (exact ages only)
    selects the checkpoint."""
    exact = np.array([r.span is None for r in records], bool)
    ages = np.array([r.age for r in records], np.float32)
    ds = np.array([r.dataset for r in records])
    out: dict = {"n": int(len(records))}
    if exact.any():
        err = np.abs(pred - ages)[exact]
        out.update(mae=float(err.mean()), cs5=float((err <= 5).mean()))
        for name in sorted(set(ds[exact].tolist())):
            out[f"mae_{name}"] = float(np.abs(pred - ages)[exact & (ds == name)].mean())
        dec = np.array([decade_of(a) for a in ages])
        out["per_decade"] = {int(d): float(np.abs(pred - ages)[exact & (dec == d)].mean())
                             for d in sorted(set(dec[exact].tolist()))}
        out["bias_per_decade"] = {int(d): float((pred - ages)[exact & (dec == d)].mean())
                                  for d in sorted(set(dec[exact].tolist()))}
    if (~exact).any():
        low = np.array([r.low for r in records])
        high = np.array([r.high for r in records])
        inside = (pred >= low) & (pred < high)
        out["inside_group"] = float(inside[~exact].mean())
        out["inside_per_group"] = {f"{lo:g}-{hi - 1:g}": float(inside[~exact & (low == lo)].mean())
                                   for lo, hi in sorted({(r.low, r.high) for r in records if r.span})}
    return out


def model_config(args: argparse.Namespace) -> dict:
    return {"channels": args.channels, "use_se": bool(args.se), "se_reduction": 2, "n_crops": args.crops,
            "dropout": args.dropout}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m c3ae.training.train", description="Train C3AE with the cascade loss.")
    p.add_argument("--utkface", default=str(DEFAULT_UTKFACE), help="UTKFace folder ('' to leave out)")
    p.add_argument("--aaf", default=str(DEFAULT_AAF), help="All-Age-Faces folder with labels.csv ('' to leave out)")
    p.add_argument("--fairface", default="", help="FairFace folder laid out by fairface.sh, e.g. "
                   f"{DEFAULT_FAIRFACE} ('' to leave out)")
    p.add_argument("--robust", action="store_true", help="whole-image degradations (light, noise, blur, "
                   "JPEG, old prints, occluders): c3ae.training.augment.ROBUST")
    p.add_argument("--cached", action="store_true", help="cut crops from the crop cache "
                   "(python -m c3ae.training.cache build): several times faster")
    p.add_argument("--crop-cache", default=None, help="crop cache folder (default ~/.cache/c3ae/crops)")
    p.add_argument("--patch", type=int, default=0, help="crop cache patch size (default: cache.PATCH)")
    p.add_argument("--distill", default=None, help="teacher targets from `python -m c3ae.training.distill "
                   "targets` (with --cached): the loss mixes label and teacher")
    p.add_argument("--distill-weight", type=float, default=0.5, help="share of the teacher in the loss")
    p.add_argument("--consistency", type=float, default=0.0,
                   help="weight of a term that pulls two cuts of a face, a video frame's nudge apart, to one age "
                        "(needs --cached; a batch then holds batch-size/2 faces, two cuts each)")
    p.add_argument("--init", default=None, help="start from these weights (TorchScript file or checkpoint)")
    p.add_argument("--split", default=str(DEFAULT_SPLIT))
    p.add_argument("--cache", default=None, help="detections cache (default ~/.cache/c3ae/detections.npz)")
    p.add_argument("--out", default="runs/main", help="run folder: log, last.pt, best.pt")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=300, help="warm-up steps")
    p.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="weight of the KL term (0 = L1 only)")
    p.add_argument("--se", action="store_true", help="squeeze-and-excitation blocks (slower on CPU)")
    p.add_argument("--crops", type=int, choices=[1, 3], default=3, help="3 context crops or the middle one")
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--balance", type=float, default=0.5,
                   help="sample decades with weight count**-BALANCE (0 = natural, 1 = uniform)")
    p.add_argument("--limit-train", type=int, default=0, help="use a seeded subset of N training images")
    p.add_argument("--limit-val", type=int, default=0, help="use a seeded subset of N validation images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: all cores)")
    p.add_argument("--device", choices=DEVICES, default="auto", help="auto: CUDA when available")
    p.add_argument("--resume", default=None, help="checkpoint to continue from (e.g. runs/main/last.pt)")
    p.add_argument("--export", default=None, help="export best.pt as TorchScript here at the end")
    p.add_argument("--keep", default=None, help="also copy last.pt/best.pt here after every epoch: a folder "
                   "that outlives the machine (a mounted volume, a synced folder), for --resume on another one")
    p.add_argument("--compile", action="store_true", help="torch.compile the training step's model: "
                   "fuses BatchNorm/ReLU and their backward, ~1.4x faster on CPU after ~25 s of compiling")
    p.add_argument("--max-steps", type=int, default=0, help="stop after N steps (smoke tests)")
    return p


def main(argv: list[str] | None = None) -> dict:
    from tqdm import tqdm

    from c3ae.training.cache import DEFAULT_DIR as DEFAULT_CROPS
    from c3ae.training.cache import PATCH
    from c3ae.training.preprocess import DEFAULT_CACHE, detect_all

    args = build_parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = torch_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)

    records, report, _ = load_datasets(args.utkface or None, args.aaf or None, args.fairface or None)
    subsets = assign(records, read_split(Path(args.split)))
    cache = detect_all(subsets["train"] + subsets["val"], Path(args.cache or DEFAULT_CACHE))
    train_recs, val_recs = subsets["train"], subsets["val"]
    rng = np.random.default_rng(args.seed)
    if args.limit_train and args.limit_train < len(train_recs):
        train_recs = [train_recs[i] for i in sorted(rng.choice(len(train_recs), args.limit_train, replace=False))]
    if args.limit_val and args.limit_val < len(val_recs):
        val_recs = [val_recs[i] for i in sorted(rng.choice(len(val_recs), args.limit_val, replace=False))]
    aug_cfg = AugmentConfig(**ROBUST) if args.robust else AugmentConfig()
    if args.consistency and not args.cached:
        raise SystemExit("--consistency needs --cached (the two cuts come from the crop cache)")
    copies = 2 if args.consistency else 1
    if args.cached:
        train_ds, val_crops, train_recs, val_recs, train_dropped, val_dropped = cached_sets(
            train_recs, val_recs, Path(args.crop_cache or DEFAULT_CROPS), args.patch or PATCH, aug_cfg, args.seed,
            Path(args.distill) if args.distill else None, copies)
    else:
        train_items, train_recs, train_dropped = build_items(train_recs, cache)
        val_items, val_recs, val_dropped = build_items(val_recs, cache)
        train_ds = CropDataset(train_items, augment=True, seed=args.seed, cfg=aug_cfg)
        val_ds = CropDataset(val_items, augment=False)
        val_crops = torch.stack([val_ds[i][0] for i in range(len(val_ds))]) if len(val_ds) else torch.zeros(0)
    print(f"{report}\ntrain {len(train_recs)} (no face: {train_dropped}), val {len(val_recs)} "
          f"(no face: {val_dropped}); device {device}, {torch.get_num_threads()} threads"
          + (f", crop cache {args.crop_cache or DEFAULT_CROPS}" if args.cached else ""), flush=True)

    cfg = model_config(args)
    # channels_last: the small convolutions run ~1.5x faster on CPU (oneDNN)
    model = C3AE(**cfg).to(device, memory_format=torch.channels_last)
    if args.distill and not args.cached:
        raise SystemExit("--distill needs --cached (the targets are per crop-cache face)")
    if args.init and not args.resume:
        model.load_state_dict(load_init(Path(args.init)))
        print(f"initialised from {args.init}", flush=True)
    n_params = count_parameters(model)
    # the compiled module shares the parameters: checkpoints and validation use `model` itself
    forward = torch.compile(model) if args.compile else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = max(1, len(train_recs) // args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    start_epoch, step, best, history = 0, 0, float("inf"), []
    if args.resume:
        ckpt = torch.load(args.resume, map_location=device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        start_epoch, step, best, history = ckpt["epoch"], ckpt["step"], ckpt["best"], ckpt["history"]
        torch.set_rng_state(ckpt["torch_rng"])
        print(f"resumed from {args.resume} at epoch {start_epoch}, best val MAE {best:.3f}", flush=True)

    weights = torch.as_tensor(sample_weights(train_recs, args.balance))
    run_info = {"args": vars(args), "config": cfg, "params": n_params, "n_train": len(train_recs),
                "n_val": len(val_recs)}
    (out / "config.json").write_text(json.dumps(run_info, indent=2))

    for epoch in range(start_epoch, args.epochs):
        train_ds.epoch = epoch
        train_ds._rng = None
        generator = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        sampler = WeightedRandomSampler(weights, num_samples=steps_per_epoch * args.batch_size // copies,
                                        replacement=True, generator=generator)
        if args.cached:  # the dataset cuts whole batches
            batches = BatchSampler(sampler, args.batch_size // copies, drop_last=True)
            loader = DataLoader(train_ds, batch_size=None, sampler=batches, num_workers=args.workers,
                                prefetch_factor=4 if args.workers else None,
                                multiprocessing_context="spawn" if args.workers else None,
                                worker_init_fn=_worker_init if args.workers else None)
        else:
            loader = DataLoader(train_ds, batch_size=args.batch_size, sampler=sampler,
                                num_workers=args.workers,
                                drop_last=True, persistent_workers=False,
                                # fork after OpenCV/OpenMP threads ran can deadlock: spawn
                                multiprocessing_context="spawn" if args.workers else None,
                                worker_init_fn=_worker_init if args.workers else None)
        model.train()
        t0, step_at_start = time.time(), step
        run_loss = run_l1 = run_spread = None
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", unit="batch", file=sys.stderr,
                   mininterval=5.0, dynamic_ncols=False, ncols=110)
        for crops, lows, highs, *teacher in bar:
            for g in optimizer.param_groups:
                g["lr"] = lr_at(step, total_steps, args.lr, args.warmup)
            crops, lows, highs = crops.to(device), lows.to(device), highs.to(device)
            if args.crops == 1:
                crops = crops[:, 1:2]
            age_pred, dist = forward(crops)
            if teacher:
                t_age, t_dist = (t.to(device) for t in teacher)
                loss, parts = distill_loss(age_pred, dist, lows, highs, t_age, t_dist, args.alpha,
                                           args.distill_weight)
            else:
                loss, parts = cascade_loss(age_pred, dist, lows, args.alpha, high=highs)
            if copies > 1:
                spread = consistency(age_pred, copies)
                loss = loss + args.consistency * spread
                parts["consistency"] = float(spread.detach())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            lv = float(loss.detach())
            run_loss = lv if run_loss is None else 0.98 * run_loss + 0.02 * lv
            run_l1 = parts["l1"] if run_l1 is None else 0.98 * run_l1 + 0.02 * parts["l1"]
            if copies > 1:
                c = parts["consistency"]
                run_spread = c if run_spread is None else 0.98 * run_spread + 0.02 * c
            bar.set_postfix(loss=f"{run_loss:.3f}", l1=f"{run_l1:.2f}", best_val=f"{best:.2f}", refresh=False)
            if args.max_steps and step >= args.max_steps:
                break
        bar.close()
        train_time = time.time() - t0
        faces_per_s = (step - step_at_start) * args.batch_size / max(train_time, 1e-9)
        metrics = val_metrics(predict(model, val_crops, device), val_recs) if len(val_crops) else {}
        val_mae = metrics.get("mae", float("nan"))
        improved = val_mae < best
        best = min(best, val_mae) if val_mae == val_mae else best
        entry = {"epoch": epoch + 1, "step": step, "train_loss": run_loss, "train_l1": run_l1,
                 **({"train_consistency": run_spread} if run_spread is not None else {}),
                 "lr": optimizer.param_groups[0]["lr"], "epoch_seconds": round(train_time, 1),
                 "faces_per_second": round(faces_per_s, 1), **metrics}
        history.append(entry)
        with open(out / "log.jsonl", "a") as f:
            f.write(json.dumps(entry) + "\n")
        print(f"epoch {epoch + 1}: {train_time:.0f} s ({faces_per_s:.0f} faces/s), "
              f"train loss {run_loss:.3f} (L1 {run_l1:.2f}), "
              f"val MAE {val_mae:.3f} CS5 {metrics.get('cs5', float('nan')):.3f} "
              + " ".join(f"{k}={v:.2f}" for k, v in metrics.items() if k.startswith("mae_"))
              + (f" inside_group={metrics['inside_group']:.3f}" if "inside_group" in metrics else ""), flush=True)
        ckpt = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch + 1,
                "step": step, "best": best, "history": history, "config": cfg, "args": vars(args),
                "torch_rng": torch.get_rng_state(), "params": n_params}
        torch.save(ckpt, out / "last.tmp")
        os.replace(out / "last.tmp", out / "last.pt")
        if improved:
            torch.save(ckpt, out / "best.tmp")
            os.replace(out / "best.tmp", out / "best.pt")
        if args.keep:
            keep_checkpoints(out, Path(args.keep), improved)
        if args.max_steps and step >= args.max_steps:
            break

    summary = {"best_val_mae": best, "epochs": len(history), "params": n_params, "history": history}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if args.export:
        from c3ae.training.export import export_checkpoint

        digest = export_checkpoint(out / "best.pt", Path(args.export))
        print(f"exported {args.export} sha256 {digest}")
    return summary


def keep_checkpoints(out: Path, keep: Path, improved: bool) -> None:
    """Copy the run's checkpoints (atomically) to a folder that outlives this machine."""
    import shutil

    keep.mkdir(parents=True, exist_ok=True)
    for name in ("last.pt", "best.pt") if improved else ("last.pt",):
        shutil.copyfile(out / name, keep / (name + ".tmp"))
        os.replace(keep / (name + ".tmp"), keep / name)
    shutil.copyfile(out / "log.jsonl", keep / "log.jsonl")


def load_init(path: Path) -> dict:
    """A state dict from TorchScript weights (e.g. the shipped `weights/c3ae.pt`) or a checkpoint.
    Weights with a built-in calibration (`c3ae.model.calibration.Calibrated`) give
    their inner model: training learns the uncalibrated ages, calibration comes after."""
    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except RuntimeError:
        return torch.load(path, map_location="cpu", weights_only=False)["model"]
    if hasattr(module, "calibration"):  # a Calibrated wrapper: its model
        module = module.model
    return module.state_dict()


def _worker_init(_: int) -> None:
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


if __name__ == "__main__":
    main()
