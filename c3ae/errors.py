"""Every exception type the project raises on purpose, in one place.

Each carries a message meant for the user (it says what went wrong and, where
there is one, the fix); the command line and the app show it as it is.
"""
from __future__ import annotations


class OptionsError(ValueError):
    """An option outside its documented range; the message names the option and the range."""


class SourceError(RuntimeError):
    """A camera, video file or stream that cannot be opened or read."""


class SourceCut(SourceError):
    """The connection to an http(s) file was cut part-way: a truncated input (exit 1), not a refusal."""


class FaceModelMissing(FileNotFoundError):
    """The BlazeFace model file is not on disk; the message says how to get it."""


class WeightsError(RuntimeError):
    """Weights that cannot be used: missing, corrupt, or not matching their manifest."""


class UntrainedWeights(RuntimeError):
    """The model would only produce placeholder ages and the user did not accept that."""


class RecordingError(RuntimeError):
    """Writing results failed or was refused (bad output path, disk full); see `c3ae.sink.writer`.
    `frames_saved`: the frames the video holds all the same (a batch row reports them)."""

    def __init__(self, message: str, frames_saved: int = 0) -> None:
        super().__init__(message)
        self.frames_saved = frames_saved


class OutputExists(RecordingError):
    """The output file is already there (callers say how to replace it)."""


class BatchError(RecordingError):
    """The batch cannot start (an output exists, nothing to annotate); nothing was written."""


class NoDatasetFaces(RuntimeError):
    """The dataset portraits are not on this machine (training, test and bench clips)."""
