"""Thread policy (c3ae.runtime.threads) and overlapped stages (c3ae.runtime.overlap)."""
import dataclasses
import threading

import cv2
import numpy as np
import pytest
import torch
from synth import face_clip_frames, real_faces, write_clip

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


def test_a_file_is_decoded_with_the_plans_threads(tmp_path):
    """FFmpeg's default is a decoding thread per core; decoding already has its own
    thread beside the others, so the policy's count is what a file gets."""
    from c3ae.source.video import VideoSource

    path = tmp_path / "clip.mp4"
    write_clip(path, [np.full((96, 128, 3), 40 * i, np.uint8) for i in range(5)], fps=10)
    try:
        for count in (1, 3):
            threads._applied = dataclasses.replace(threads.plan_for(), decoder_threads=count)
            source = VideoSource(str(path))
            try:
                assert source._cap.get(cv2.CAP_PROP_N_THREADS) == count
                assert source.read() is not None
            finally:
                source.release()
    finally:
        threads._applied = None


def test_the_loop_draws_onto_frames_it_decoded_and_never_onto_the_callers(tmp_path):
    """A caller's frames (a bench or a test reusing them) stay clean; a decoded
    frame is the loop's own, drawn onto without a copy."""
    from c3ae.source.video import VideoSource

    frames = face_clip_frames(real_faces(1), n=6, face_h=160)
    originals = [f.copy() for f in frames]
    path = write_clip(tmp_path / "clip.mp4", frames, fps=10)
    engine = AgeEngine(None, device="cpu", warmup=False)
    pipeline = FramePipeline(PipelineOptions(detector="full", device="cpu"), engine=engine)
    try:
        given = list(run.frames(frames, pipeline, overlapped=False))
        assert any(len(r.faces) for r in given)
        assert all(r.frame is not f for r, f in zip(given, frames, strict=True))
        for frame, original in zip(frames, originals, strict=True):
            np.testing.assert_array_equal(frame, original)
        pipeline.reset()
        source, read = VideoSource(str(path)), []
        reader = source.read
        source.read = lambda: read.append(reader()) or read[-1]
        try:
            decoded = list(run.frames(source, pipeline, overlapped=False))
        finally:
            source.release()
        assert len(decoded) == len(frames) and any(len(r.faces) for r in decoded)
        assert all(r.frame is f for r, f in zip(decoded, read, strict=False))
        frame = frames[0].copy()  # the window's worker reads each frame for one call: drawn onto, no copy
        assert pipeline.process(frame, onto_frame=True).frame is frame
        assert pipeline.process(frame).frame is not frame
    finally:
        pipeline.close()
