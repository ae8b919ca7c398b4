"""How many threads each stage gets, decided on purpose from the cores we may use.

Measured on 2 cores: 80-95 FPS quiet, but 22 FPS with one core held by another
program, and 75 FPS there with OMP_NUM_THREADS=1. The cause is intra-op
parallelism: torch (and OpenCV) split each small operation over all cores and
wait at a barrier for the slowest part; when one part lands on the busy core
it waits a whole scheduler slice (milliseconds) for a sub-millisecond op.
So this policy parallelises ACROSS stages, never inside them, until there are
cores to spare:

* the stages already run on their own threads in `annotate` (decode, detect +
  crop, model + track + draw, encode); with 2 or more cores, detection of frame
  n+1 overlaps the model on frame n (`c3ae.runtime.overlap`);
* torch and OpenCV get one thread each until the machine has more cores than
  those stage threads plus one for the rest of the desktop (`RESERVED_CORES`),
  then a few (the C3AE forward and our OpenCV calls are too small for more);
* the detector (TFLite with XNNPACK, inside MediaPipe Tasks) runs one thread on
  desktop Linux and MediaPipe offers no setting for it: it counts as a stage;
* the H.264 encoder gets the same intra-op count (x264 slices wait for each other too);
* so does FFmpeg's decoder of a file or stream: decoding has its own thread, and
  FFmpeg's default of one decoding thread per core spent 5.3 ms of CPU on a
  1080p frame against 4.8 with one thread (the frame threads hand over work);
* a big frame's tiles (`c3ae.detect.tiles`) are the one place where a stage
  splits: up to one detector per core takes whole tiles (about 10 ms each)
  from a shared list, so a busy core takes fewer of them instead of holding
  the others at a barrier for every small operation.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

RESERVED_CORES = 4  # decode+encode, detect, model, and one for whatever else the desktop runs
MAX_INTRA_THREADS = 4  # a 0.25 MB model and 64 px crops gain nothing beyond this
MAX_TILE_WORKERS = 4  # 28 tiles of a 2560x1440 frame: more workers wait on the last tile
LIBRARY_DEFAULT = -1  # a thread count left to the library itself


@dataclass(frozen=True)
class ThreadPlan:
    """Thread counts for one process; `apply` puts them in force."""

    cores: int
    torch_threads: int  # intra-op threads of the C3AE forward (LIBRARY_DEFAULT: torch's own choice)
    opencv_threads: int  # OpenCV's parallel_for: colour conversion, resizing, drawing (LIBRARY_DEFAULT too)
    encoder_threads: int  # libx264's threads for the output video (0: x264's own choice)
    decoder_threads: int  # FFmpeg's threads decoding a file or stream (0: FFmpeg's own choice)
    overlap: bool  # detect frame n+1 on a helper thread while the model reads frame n
    tile_workers: int = 1  # detectors taking a big frame's tiles at once


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. under taskset or a container)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan_for(cores: int | None = None) -> ThreadPlan:
    """The plan for `cores` usable cores (this process's when None)."""
    cores = max(1, cores if cores is not None else usable_cores())
    intra = max(1, min(MAX_INTRA_THREADS, cores - RESERVED_CORES))
    # one core: a helper thread would only add switches, nothing runs beside it
    return ThreadPlan(cores=cores, torch_threads=intra, opencv_threads=intra, encoder_threads=intra,
                      decoder_threads=intra, overlap=cores >= 2, tile_workers=min(cores, MAX_TILE_WORKERS))


_applied: ThreadPlan | None = None


def library_defaults() -> ThreadPlan:
    """The libraries' own thread counts and every stage on one thread: what runs
    without a policy (the benches' baseline)."""
    return replace(plan_for(), torch_threads=LIBRARY_DEFAULT, opencv_threads=LIBRARY_DEFAULT, encoder_threads=0,
                   decoder_threads=0, overlap=False)


def apply(plan: ThreadPlan | None = None) -> ThreadPlan:
    """Set torch's and OpenCV's thread counts for the whole process (idempotent);
    returns the plan in force. Call it before the first model forward."""
    global _applied
    plan = plan or plan_for()
    if plan == _applied:
        return plan
    import cv2
    import torch

    if plan.torch_threads != LIBRARY_DEFAULT:
        torch.set_num_threads(plan.torch_threads)
    try:  # allowed only before torch's first inter-op work; we use none, one thread is enough
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    if plan.opencv_threads != LIBRARY_DEFAULT:
        cv2.setNumThreads(plan.opencv_threads)
    _applied = plan
    return plan


def apply_share(cores: int) -> None:
    """The plan of a process that has `cores` of the machine to itself (a batch
    worker's setup: this module imports nothing heavy until it runs)."""
    apply(plan_for(cores))


def current() -> ThreadPlan:
    """The plan in force, or the one `apply` would choose (for the encoder and the benches)."""
    return _applied or plan_for()
