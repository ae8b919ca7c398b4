"""Where the repository's own files live (weights, face models, data split)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS_DIR = ROOT / "weights"
DATASETS = ROOT.parent / "shared" / "datasets"
