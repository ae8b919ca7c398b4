"""The frame loop, in one place: a source in, one `FrameResult` per frame out.

    for result in frames(source, pipeline):
        sink.write(result)

Headless annotation (one file, a batch's worker, a stream), the benches and
the tests all run this generator, so they overlap the stages the same way:
decoding runs ahead on its own thread, the cut verdict and detection of the
next frames (`FramePipeline.prepare`) on another, up to `PREPARE_AHEAD`
frames early, while the crops, the model, the tracker and drawing (`finish`)
take them in order on the caller's thread. The results are those of running every
stage one after another (`c3ae.runtime.overlap`). Closing the generator (a
`break`, an exception) stops both helper threads.

The desktop app steps, seeks and pauses, so its worker calls
`FramePipeline.process` one frame at a time instead; a live view cannot
run frames ahead of what it shows.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from c3ae.pipeline import PREPARE_AHEAD, FramePipeline, FrameResult
from c3ae.runtime import overlap, threads
from c3ae.source.video import DEFAULT_FPS, VideoSource

DECODE_AHEAD = 4  # decoded frames waiting for detection


def _decoded(source: VideoSource | Iterable[np.ndarray], fps: float) -> Iterator[tuple[np.ndarray, int, float]]:
    """(frame, index, presentation time) until the source ends."""
    if isinstance(source, VideoSource):
        while (frame := source.read()) is not None:
            yield frame, source.position - 1, source.time_s
        return
    for index, frame in enumerate(source):
        yield frame, index, index / fps


def frames(source: VideoSource | Iterable[np.ndarray], pipeline: FramePipeline, *, limit: int | None = None,
           draw: bool = True, overlapped: bool | None = None, ahead: int = PREPARE_AHEAD,
           stop: Callable[[], bool] | None = None, fps: float = DEFAULT_FPS) -> Iterator[FrameResult]:
    """The pipeline's record of each frame of `source` (a `VideoSource`, or frames
    at `fps`), in order, up to `limit` frames.

    Decoding always runs ahead on its own thread, so `stop` ends even a stream's
    reconnect wait; `overlapped`: run detection ahead on another (default: the
    thread policy's choice, `c3ae.runtime.threads`: not on one core);
    `ahead`: how many frames detection may run ahead of the model; `stop`,
    polled while waiting, ends the loop at once, even while a stream reconnects."""
    decoding = isinstance(source, VideoSource)  # frames of our own, not the caller's to keep clean
    if overlapped is None:
        overlapped = threads.current().overlap
    decoded = overlap.ahead(_decoded(source, fps), depth=DECODE_AHEAD, name="decode", until=stop)
    prepared = overlap.ahead((pipeline.prepare(*item) for item in decoded), name="detect", depth=ahead,
                             enabled=overlapped)
    try:
        for done, item in enumerate(prepared):
            if done == limit:
                return
            yield pipeline.finish(item, draw, onto_frame=decoding)
    finally:
        prepared.close()
        decoded.close()
