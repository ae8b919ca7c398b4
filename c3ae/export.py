"""Export a C3AE to TorchScript plus a JSON manifest the engine verifies.

The manifest (`<weights>.json`) holds the file's sha256, whether the weights
are trained, the model configuration and headline metrics; the engine refuses
a file whose hash does not match, so a corrupt or swapped file is a clear
error and never silently produces ages.

    python -m c3ae.export runs/main/best.pt weights/c3ae.pt [--flip-average]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
from pathlib import Path

import torch

from .model import C3AE


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def manifest_path(weights: Path) -> Path:
    return Path(weights).with_suffix(".json")


def script(model: C3AE) -> torch.jit.ScriptModule:
    return torch.jit.script(model.cpu().eval())


def export(model: C3AE, path: Path, *, trained: bool, config: dict, metrics: dict | None = None) -> str:
    """Write TorchScript weights and their manifest; returns the sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.jit.save(script(model), buffer)
    path.write_bytes(buffer.getvalue())
    digest = sha256_file(path)
    manifest = {"file": path.name, "sha256": digest, "trained": trained, "config": config,
                "metrics": metrics or {}}
    manifest_path(path).write_text(json.dumps(manifest, indent=2) + "\n")
    return digest


def export_checkpoint(checkpoint: Path, path: Path, flip_average: bool = False) -> str:
    """A training checkpoint (`c3ae.train`'s best.pt) -> trained TorchScript weights; returns the sha256.
    The manifest records the epoch and validation MAE the checkpoint was selected by."""
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=False)
    config = {**ckpt["config"], "flip_average": flip_average}
    model = C3AE(**config)
    model.load_state_dict(ckpt["model"])
    best = min(ckpt["history"], key=lambda e: e.get("mae", float("inf")))
    return export(model, path, trained=True, config=config,
                  metrics={"val_mae": best.get("mae"), "epoch": best["epoch"]})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m c3ae.export", description="Export a training checkpoint "
                                     "as TorchScript weights with a verified manifest.")
    parser.add_argument("checkpoint", type=Path, help="best.pt or last.pt of a training run")
    parser.add_argument("out", type=Path, help="TorchScript file to write (manifest beside it)")
    parser.add_argument("--flip-average", action="store_true",
                        help="average each face with its mirror image at inference")
    args = parser.parse_args(argv)
    digest = export_checkpoint(args.checkpoint, args.out, args.flip_average)
    print(f"exported {args.out} sha256 {digest}")


if __name__ == "__main__":
    main()
