"""The exit statuses `main.py annotate` reports, for one input and for a batch,
and the failures that are the user's to fix (a message, never a traceback)."""
from __future__ import annotations

from c3ae.errors import FaceModelMissing, OptionsError, RecordingError, SourceError, WeightsError

EXIT_OK, EXIT_TRUNCATED, EXIT_ERROR = 0, 1, 2
EXPECTED_ERRORS = (OptionsError, SourceError, WeightsError, FaceModelMissing, RecordingError)
