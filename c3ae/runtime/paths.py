"""Where the repository's own files live (weights, face models, data split)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS_DIR = ROOT / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "c3ae.pt"  # the shipped network (TorchScript), with its manifest beside it
DATASETS = ROOT.parent / "shared" / "datasets"
