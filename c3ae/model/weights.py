"""The weights file format: TorchScript plus a JSON manifest with its sha256.

The engine refuses a file whose hash does not match its manifest, so a corrupt
or swapped file is a clear error and never silently produces ages. Writing
lives here too, beside reading, so both sides agree on the format.
"""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import torch
from torch import nn


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def manifest_path(weights: Path) -> Path:
    return Path(weights).with_suffix(".json")


def script(model: nn.Module) -> torch.jit.ScriptModule:
    return torch.jit.script(model.cpu().eval())


def export(model: nn.Module, path: Path, *, trained: bool, config: dict, metrics: dict | None = None) -> str:
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
