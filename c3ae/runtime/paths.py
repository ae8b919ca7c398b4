"""Where the repository's own files live (weights, face models, data split), and
whether a path the user gives fits the system's limits (checked before any work)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS_DIR = ROOT / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "c3ae.pt"  # the shipped network (TorchScript), with its manifest beside it
DATASETS = ROOT.parent / "shared" / "datasets"


def _limit(folder: Path, name: str, default: int) -> int:
    """A pathconf limit of the nearest folder that exists (the file system's own)."""
    while not os.path.isdir(folder) and folder != folder.parent:  # os.path: a too long name is no error
        folder = folder.parent
    try:
        return os.pathconf(folder, name)
    except (OSError, ValueError):
        return default


def name_limit(folder: Path) -> int:
    """Longest file name, in bytes, that `folder`'s file system takes (NAME_MAX)."""
    return _limit(folder, "PC_NAME_MAX", 255)


def too_long(path: str | Path) -> str | None:
    """Why the system would refuse `path` as too long (a name over NAME_MAX or the
    whole over PATH_MAX bytes), in words; None when it fits."""
    path = Path(path)
    size = len(os.fsencode(path.absolute()))
    longest = max((len(os.fsencode(part)) for part in path.parts), default=0)
    whole = _limit(path.parent, "PC_PATH_MAX", 4096)
    if size >= whole:
        return f"the path is {size} bytes long; the limit is {whole - 1}"
    limit = name_limit(path.parent)
    if longest > limit:
        return f"a name in it is {longest} bytes long; the limit is {limit}"
    return None
