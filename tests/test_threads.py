"""Thread policy (c3ae.runtime.threads) and overlapped stages (c3ae.runtime.overlap)."""
import threading

import cv2
import numpy as np
import pytest
import torch
from synth import face_clip_frames, real_faces

from c3ae import run
from c3ae.model.runner import AgeEngine
from c3ae.options import PipelineOptions
from c3ae.pipeline import FramePipeline
from c3ae.runtime import overlap, threads


@pytest.mark.parametrize("cores, intra, overlapped", [(1, 1, False), (2, 1, True), (4, 1, True), (6, 2, True),
                                                      (8, 4, True), (64, 4, True)])
def test_intra_op_threads_only_where_cores_are_left_over(cores, intra, overlapped):
    plan = threads.plan_for(cores)
    assert (plan.torch_threads, plan.opencv_threads, plan.encoder_threads) == (intra, intra, intra)
    assert plan.overlap is overlapped and plan.cores == cores


def test_apply_puts_the_plan_in_force():
    before = torch.get_num_threads(), cv2.getNumThreads()
    try:
        plan = threads.apply(threads.plan_for(8))
        assert torch.get_num_threads() == plan.torch_threads == 4
        assert threads.current() == plan
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])
        threads._applied = None


def test_ahead_keeps_the_order_and_runs_on_another_thread():
    names = []

    def produce():
        for i in range(50):
            names.append(threading.current_thread().name)
            yield i

    assert list(overlap.ahead(produce(), name="helper")) == list(range(50))
    assert set(names) == {"helper"}
    assert list(overlap.ahead(range(5), enabled=False)) == list(range(5))


def test_ahead_raises_the_producers_error_in_the_consumer():
    def produce():
        yield 1
        raise ValueError("bad frame")

    items = overlap.ahead(produce())
    assert next(items) == 1
    with pytest.raises(ValueError, match="bad frame"):
        next(items)


def test_closing_ahead_stops_and_closes_the_producer():
    closed = threading.Event()

    def produce():
        try:
            yield from range(10_000)
        finally:
            closed.set()

    items = overlap.ahead(produce(), depth=2)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert closed.wait(5)


def test_overlapped_pipeline_gives_the_sequential_results():
    frames = face_clip_frames(real_faces(2), n=30, face_h=160)
    engine = AgeEngine(None, device="cpu", warmup=False)  # any model: both runs use the same one
    results = []
    for enabled in (False, True):
        pipeline = FramePipeline(PipelineOptions(detector="full", device="cpu"), engine=engine)
        try:
            results.append(list(run.frames(frames, pipeline, draw=False, overlapped=enabled)))
        finally:
            pipeline.close()
    sequential, overlapped = results
    assert sum(len(r.faces) for r in sequential) >= 30
    for a, b in zip(sequential, overlapped, strict=True):
        for name in ("boxes", "scores", "track_ids", "missed", "ages", "ages_smoothed"):
            np.testing.assert_array_equal(getattr(a.faces, name), getattr(b.faces, name), err_msg=name)
