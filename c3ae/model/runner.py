"""Batched C3AE inference: all faces of a frame in ONE forward pass.

Loads TorchScript weights (verifying the sha256 in their manifest), picks CUDA
when present unless told otherwise, freezes and warms the model up so the
first live frame is not slow. Without trained weights it runs a randomly
initialised C3AE exported by our own code and says so (`trained` is False):
callers must not present those ages as real.
"""
from __future__ import annotations

import io
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from c3ae.crops import CROP_SCALES, CROP_SIZE
from c3ae.errors import WeightsError
from c3ae.faces import N_BINS
from c3ae.model.network import C3AE
from c3ae.model.weights import manifest_path, script, sha256_file
from c3ae.runtime.paths import DEFAULT_WEIGHTS

# On CPU a forward of more than ~16 faces (x3 crops) no longer fits the cache:
# measured 0.52 ms/face at 16 and 1.21 ms/face at 32 (oneDNN graph, 2 threads). Larger
# crowds therefore go through in chunks of this many model inputs; up to that
# many faces a frame is still one forward pass.
CPU_MAX_INPUTS = 16
# Warm-up batch: TorchScript profiles the first two forwards whatever their size, and
# later batch sizes run as fast after two faces as after 16 (measured), while two
# forwards of 16 faces cost ~0.25 s more of start-up on a loaded 2-core machine
WARMUP_FACES = 2


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'."""
    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def torch_device(device: str | None) -> torch.device:
    """The torch device for a device option ('auto' and None: `resolve_device`)."""
    device = resolve_device(device or "auto")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise WeightsError("CUDA was requested but no CUDA device is available; use --device cpu")
    return torch.device(device)


def _load_verified(path: Path) -> tuple[torch.jit.ScriptModule, dict]:
    manifest_file = manifest_path(path)
    if not manifest_file.is_file():
        raise WeightsError(f"{path} has no manifest {manifest_file.name}; re-export it with c3ae.training.export")
    try:
        manifest = json.loads(manifest_file.read_text())
        expected = manifest["sha256"]
    except (ValueError, KeyError) as exc:
        raise WeightsError(f"manifest {manifest_file} is unreadable: {exc}") from exc
    actual = sha256_file(path)
    if actual != expected:
        raise WeightsError(
            f"{path} is corrupt or was replaced: its sha256 is {actual[:12]}..., "
            f"the manifest expects {expected[:12]}...; restore it (git checkout -- {path.name}) or re-export"
        )
    try:
        model = torch.jit.load(io.BytesIO(path.read_bytes()), map_location="cpu")
    except Exception as exc:  # TorchScript raises several types for a bad archive
        raise WeightsError(f"{path} is not a loadable TorchScript file: {exc}") from exc
    return model, manifest


def untrained_model(seed: int = 0) -> torch.jit.ScriptModule:
    """A randomly initialised C3AE, scripted by our export code (placeholder only)."""
    torch.manual_seed(seed)
    return script(C3AE())


class AgeEngine:
    """The model on one device: `predict(crops)` gives ages and distributions for a batch of faces."""

    def __init__(self, weights: Path | str | None = DEFAULT_WEIGHTS, device: str | None = None,
                 warmup: bool = True) -> None:
        self.device = torch_device(device)
        weights = Path(weights) if weights is not None else None
        if weights is not None and weights.is_file():
            model, self.manifest = _load_verified(weights)
            self.trained = bool(self.manifest.get("trained", False))
            self.status = f"{weights.name} ({'trained' if self.trained else 'UNTRAINED'})"
        elif weights is None or weights == DEFAULT_WEIGHTS:
            model, self.manifest = untrained_model(), {"trained": False}
            self.trained = False
            self.status = "UNTRAINED placeholder model: weights/c3ae.pt is missing"
        else:
            raise WeightsError(f"weights file {weights} does not exist")
        self.weights = weights
        # a mirror-averaging model reads two inputs per face
        per_face = 2 if self.manifest.get("config", {}).get("flip_average") else 1
        self.max_faces = max(1, CPU_MAX_INPUTS // per_face) if self.device.type == "cpu" else 1 << 30
        self._scripted = model.to(self.device).eval()
        self._model = self._fastest(self._scripted) if warmup else None

    @property
    def model(self) -> torch.jit.ScriptModule:
        """The graph `predict` runs: the warmed-up one, else the plain frozen graph,
        made at the first forward (a caller that warms up later never freezes twice)."""
        if self._model is None:
            self._model = torch.jit.freeze(self._scripted)
        return self._model

    def warm_up(self) -> None:
        """What `warmup=True` does, later: for a caller that first checks the weights
        (~0.1 s) and only then pays for the fastest graph, without loading them twice."""
        self._model = self._fastest(self._scripted)

    def _fastest(self, model: torch.jit.ScriptModule) -> torch.jit.ScriptModule:
        """Freeze and warm up. On CPU the oneDNN-optimised graph is ~3x faster for the
        plain model but slower with SE blocks: without SE it is taken as it is, with
        SE both are timed (~0.3 s of start-up saved where the answer is known)."""
        cpu = self.device.type == "cpu"
        has_se = self.manifest.get("config", {}).get("use_se", True)
        candidates = [torch.jit.freeze(model)] if has_se or not cpu else []
        if cpu:
            candidates.append(torch.jit.optimize_for_inference(torch.jit.freeze(model)))
        x = torch.zeros(min(WARMUP_FACES, self.max_faces), len(CROP_SCALES), 3, CROP_SIZE, CROP_SIZE, dtype=torch.uint8,
                        device=self.device)
        best, best_time = candidates[0], float("inf")
        with torch.inference_mode():
            for candidate in candidates:
                for _ in range(2):  # TorchScript profiles the first two runs, then optimises
                    candidate(x)
                if len(candidates) == 1:
                    break
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    candidate(x)
                    if self.device.type == "cuda":
                        torch.cuda.synchronize()
                    times.append(time.perf_counter() - t0)
                if statistics.median(times) < best_time:
                    best, best_time = candidate, statistics.median(times)
        return best

    def predict(self, crops: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3, 3, 64, 64) uint8 crops -> ages (N,), distributions (N, 12); one forward
        (on CPU one per `max_faces` faces)."""
        if len(crops) == 0:
            return np.zeros(0, np.float32), np.zeros((0, N_BINS), np.float32)
        ages, dists = [], []
        with torch.inference_mode():
            for chunk in crops.split(self.max_faces):
                a, d = self.model(chunk.to(self.device, non_blocking=True))
                ages.append(a)
                dists.append(d)
        return torch.cat(ages).float().cpu().numpy(), torch.cat(dists).float().cpu().numpy()
