"""Export a training checkpoint as TorchScript weights with a verified manifest
(the format is `c3ae.model.weights`).

    python -m c3ae.training.export runs/main/best.pt weights/c3ae.pt [--flip-average]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from c3ae.model.calibration import AgeCalibration, Calibrated
from c3ae.model.network import C3AE
from c3ae.model.weights import export


def export_checkpoint(checkpoint: Path, path: Path, flip_average: bool = False,
                      calibration: Path | None = None) -> str:
    """A training checkpoint (`c3ae.training.train`'s best.pt) -> trained TorchScript weights; returns the sha256.
    The manifest records the epoch and validation MAE the checkpoint was selected by, and the
    calibration knots when a calibration (`c3ae.training.calibrate`) is built in."""
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=False)
    config = {**ckpt["config"], "flip_average": flip_average}
    model: nn.Module = C3AE(**config)
    model.load_state_dict(ckpt["model"])
    if calibration is not None:
        cal = json.loads(Path(calibration).read_text())
        if bool(cal.get("flip_average")) != flip_average:
            raise SystemExit(f"{calibration} was fitted with flip_average={cal.get('flip_average')}, "
                             f"not {flip_average}: refit it for this export")
        model = Calibrated(model, AgeCalibration(np.array(cal["predicted"]), np.array(cal["age"])))
        config = {**config, "calibration": {"predicted": cal["predicted"], "age": cal["age"]}}
    best = min(ckpt["history"], key=lambda e: e.get("mae", float("inf")))
    return export(model, path, trained=True, config=config,
                  metrics={"val_mae": best.get("mae"), "epoch": best["epoch"]})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m c3ae.training.export", description="Export a training checkpoint "
                                     "as TorchScript weights with a verified manifest.")
    parser.add_argument("checkpoint", type=Path, help="best.pt or last.pt of a training run")
    parser.add_argument("out", type=Path, help="TorchScript file to write (manifest beside it)")
    parser.add_argument("--flip-average", action="store_true",
                        help="average each face with its mirror image at inference")
    parser.add_argument("--calibration", type=Path, default=None,
                        help="calibration JSON from c3ae.training.calibrate, built into the weights")
    args = parser.parse_args(argv)
    digest = export_checkpoint(args.checkpoint, args.out, args.flip_average, args.calibration)
    print(f"exported {args.out} sha256 {digest}")


if __name__ == "__main__":
    main()
