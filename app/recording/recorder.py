"""The worker's recording, if any: started on request, fed each processed frame,
ended by the user, the end of a file, a lost source, a failed write or shutdown.

Qt-free. Every ending goes through `stop`, which finalises the files and says
what was saved, even when finalising fails, so the window always learns how a
recording ended and never shows one running that is not.
"""
from __future__ import annotations

from app.recording.session import Recording
from c3ae.errors import RecordingError
from c3ae.results import FrameResult

Ending = tuple[str, int, str]  # video path, frames saved, error ('' when none)


class Recorder:
    def __init__(self) -> None:
        self._recording: Recording | None = None

    @property
    def frames(self) -> int:
        """Frames in the current recording; -1 when not recording."""
        return self._recording.frames if self._recording is not None else -1

    def start(self, folder: str, fps: float, size: tuple[int, int], with_csv: bool, realtime: bool) -> str | None:
        """Open a timestamped recording in `folder` and return its path (None when one
        is already running); raises RecordingError saying why it cannot start."""
        if self._recording is not None:
            return None
        try:
            self._recording = Recording(folder, fps, size, with_csv, realtime=realtime)
        except OSError as exc:
            raise RecordingError(str(exc)) from exc
        return str(self._recording.path)

    def write(self, result: FrameResult) -> Ending | None:
        """Add a frame, if recording; a failed write ends the recording and returns how."""
        if self._recording is None:
            return None
        try:
            self._recording.write(result)
        except RecordingError as exc:
            return self.stop(str(exc))
        return None

    def stop(self, error: str = "") -> Ending | None:
        """Finalise the files; how the recording ended, or None when there was none."""
        if self._recording is None:
            return None
        recording, self._recording = self._recording, None
        try:
            recording.close()
        except RecordingError as exc:
            error = error or str(exc)
        return str(recording.path), recording.frames, error
