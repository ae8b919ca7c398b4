"""Multi-shot test clips (`c3ae.training.clips.multishot_clip`): real dataset faces
pasted into scenes that cut, fade, pan, cross and get covered by a hand. Frames
are built in memory (never written into the repo); without the datasets the
callers skip."""
from __future__ import annotations

import numpy as np
import pytest

from c3ae.errors import NoDatasetFaces
from c3ae.training import clips
from c3ae.training.clips import multishot_clip

__all__ = ["adult_faces", "multishot_clip"]


def adult_faces(n: int) -> list[np.ndarray]:
    """n different adults (25-60) from All-Age-Faces, or skip."""
    try:
        return clips.adult_faces(n)
    except NoDatasetFaces as exc:
        pytest.skip(str(exc))
