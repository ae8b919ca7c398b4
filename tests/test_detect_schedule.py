"""The detection schedule (c3ae.detect.schedule) alone, and in the pipeline: which
frames are looked at, and that rows stay honest about it."""
from collections.abc import Iterator

import cv2
import numpy as np
import pytest
import torch
from synth import face_clip_frames, make_faces, real_faces

from c3ae.cuts import ShotCutDetector
from c3ae.detect.schedule import STEADY_FACTOR, DetectionSchedule, crowded, same_faces
from c3ae.faces import Faces
from c3ae.model.runner import AgeEngine
from c3ae.options import PipelineOptions
from c3ae.pipeline import FramePipeline
from c3ae.run import frames as run_frames
from c3ae.training.clips import backdrop

GREY = np.full((360, 640, 3), 90, np.uint8)
LEFT, RIGHT, MIDDLE = (100, 140, 180, 220), (450, 140, 530, 220), (300, 140, 380, 220)


def run(schedule: DetectionSchedule, world: list[list[tuple]], frames: list[np.ndarray] | None = None) -> list[bool]:
    """Feed the schedule a world of per-frame face boxes; which frames it looked at."""
    looked, cuts = [], ShotCutDetector()
    for i, boxes in enumerate(world):
        due = schedule.due(cuts.judge(GREY if frames is None else frames[i]))
        looked.append(due)
        if due:
            schedule.seen(make_faces(boxes) if boxes else Faces.empty())
    return looked


def test_every_one_looks_at_every_frame():
    assert all(run(DetectionSchedule(1), [[LEFT]] * 10))


def moving(box: tuple, frame: int, step: float = 4.0) -> tuple:
    """`box` moved `step` px a frame to the right (4 px: 0.05 of an 80 px face)."""
    return (box[0] + step * frame, box[1], box[2] + step * frame, box[3])


def test_moving_faces_are_looked_at_until_confirmed_then_every_kth_frame():
    looked = run(DetectionSchedule(3), [[moving(LEFT, i), moving(RIGHT, i)] for i in range(12)])
    assert looked == [True, True, True, False, False, True, False, False, True, False, False, True]


def test_still_faces_are_looked_at_less_often_and_faces_that_start_moving_again_more():
    assert STEADY_FACTOR == 2
    looked = run(DetectionSchedule(3), [[LEFT, RIGHT]] * 12)
    assert looked == [True, True, True, False, False, False, False, False, True, False, False, False]
    world = [[LEFT]] * 9 + [[moving(LEFT, i)] for i in range(1, 12)]
    looked = run(DetectionSchedule(3), world)
    assert looked[8] and looked[9:20] == [False, False, False, False, False, True, False, False, True, False, False]


@pytest.mark.parametrize("enters", range(6, 12))
@pytest.mark.parametrize("still", [False, True])
def test_a_face_entering_is_found_within_every_frames_and_looked_at_until_confirmed(enters, still):
    world = [[moving(LEFT, 0 if still else i)] + ([RIGHT] if i >= enters else []) for i in range(20)]
    looked = run(DetectionSchedule(3), world)
    found = next(i for i in range(enters, 20) if looked[i])
    assert found - enters <= (3 * STEADY_FACTOR - 1 if still else 2)
    assert looked[found:found + 3] == [True, True, True]  # the tracker confirms it on its third detection


def test_a_lost_face_is_looked_for_on_the_next_frame():
    world = [[moving(LEFT, i), moving(RIGHT, i)] for i in range(5)] + [[moving(LEFT, i)] for i in range(5, 10)]
    looked = run(DetectionSchedule(3), world)
    assert looked[5] and looked[6]  # frame 5 is a regular look; it lost one face, so frame 6 looks again
    assert looked[7:9] == [False, False]


def test_faces_close_together_are_looked_at_every_frame():
    near = (190, 140, 270, 220)  # 90 px from LEFT: less than two face sizes
    assert crowded(make_faces([LEFT, near])) and not crowded(make_faces([LEFT, RIGHT]))
    assert all(run(DetectionSchedule(3), [[LEFT, near]] * 10))


def test_faces_match_by_place_and_size():
    previous = make_faces([LEFT, RIGHT])
    moved = make_faces([(455, 145, 535, 225), (110, 140, 190, 220), MIDDLE, (100, 140, 300, 340)])
    assert same_faces(previous, moved).tolist() == [1, 0, -1, -1]  # a new face and a grown one are new


def test_a_cut_is_looked_at_even_with_the_faces_at_the_same_places():
    frames = [backdrop(1)] * 6 + [backdrop(2)] * 6
    looked = run(DetectionSchedule(3), [[LEFT]] * 12, frames)
    assert looked[:6] == [True, True, True, False, False, False]
    assert looked[6:9] == [True, True, True]  # the tracker ends its tracks at a cut: confirm them again


def test_a_change_of_colour_alone_is_not_looked_at_as_a_cut():
    """A backdrop whose hue sits on the edge of a histogram bin swaps bins from frame
    to frame (seen on 720p and 1080p clips): a cut's colour distance, a steady layout."""
    hsv = np.full((360, 640, 3), (0, 120, 180), np.uint8)
    hsv[:, :320, 2] = 120  # a layout, the same in every frame
    frames = []
    for hue in (31, 37) * 6:  # either side of the bin edge at 33.75
        hsv[..., 0] = hue
        frames.append(cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR))
    cuts = ShotCutDetector()
    shots = [cuts.judge(frame) for frame in frames]
    assert max(shot.distance for shot in shots) > cuts.floor
    assert not any(shot.possible or shot.cut for shot in shots)
    steady = run(DetectionSchedule(3), [[LEFT]] * 12, [frames[0]] * 12)
    assert run(DetectionSchedule(3), [[LEFT]] * 12, frames) == steady


def test_a_hold_looks_at_frames_from_its_start():
    schedule = DetectionSchedule(3)
    run(schedule, [[LEFT]] * 6)
    schedule.hold(start=schedule.frame + 2)
    assert run(schedule, [[LEFT]] * 6) == [False, True, True, True, False, False]


@pytest.fixture(scope="module")
def engine() -> Iterator[AgeEngine]:
    """Warmed up and on one torch thread (as annotate runs it): a frozen graph alone, or
    two threads on a busy machine, take ~0.3 s a forward."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield AgeEngine(device="cpu")
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def entering_clip() -> list[np.ndarray]:
    """Two real faces swaying; the right one enters at frame 20."""
    frames = face_clip_frames(real_faces(2), n=60, face_h=160)
    for frame in frames[:20]:
        frame[:, 330:] = 90
    return frames


def _track(frames: list[np.ndarray], every: int, engine: AgeEngine) -> tuple[list[Faces], list[int], FramePipeline]:
    pipeline = FramePipeline(PipelineOptions(detector="full", device="cpu"), detect_every=every, engine=engine)
    looked, detect = [], pipeline.detector.detect

    def counting(frame):
        looked.append(len(results))
        return detect(frame)

    pipeline.detector.detect = counting
    results: list[Faces] = []
    try:
        for frame in frames:
            results.append(pipeline.process(frame, draw=False).faces)
    finally:
        pipeline.close()
    return results, looked, pipeline


def test_pipeline_rows_are_honest_and_the_entering_face_is_tracked(entering_clip, engine):
    dense, _, everyframe = _track(entering_clip, 1, engine)
    sparse, looked, pipeline = _track(entering_clip, 3, engine)
    assert len(looked) < 0.6 * len(entering_clip)  # the point: most frames are not detected
    for i, faces in enumerate(sparse):
        assert len(faces) == 2 if i >= 23 else len(faces) >= 1
        if i not in looked:  # no detection on this frame, so no face is reported as detected on it
            assert (faces.missed > 0).all() and np.isnan(faces.ages).all()
    entered = lambda results: next(i for i, f in enumerate(results) if len(f) == 2)  # noqa: E731
    assert entered(sparse) - entered(dense) <= 2
    ids = {int(t) for f in sparse[entered(sparse):] for t in f.track_ids}
    assert len(ids) == 2  # each person one track, carried between looks
    people = {s.track_id: s.age for s in everyframe.tracker.summaries()}
    for person in pipeline.tracker.summaries():
        assert person.age == pytest.approx(people[person.track_id], abs=0.5)


def test_overlapped_pipeline_looks_at_the_same_frames_as_the_sequential_one(entering_clip, engine):
    sequential, _, _ = _track(entering_clip, 3, engine)
    pipeline = FramePipeline(PipelineOptions(detector="full", device="cpu"), detect_every=3, engine=engine)
    try:
        overlapped = [r.faces for r in run_frames(entering_clip, pipeline, draw=False, overlapped=True)]
    finally:
        pipeline.close()
    for a, b in zip(sequential, overlapped, strict=True):
        np.testing.assert_array_equal(a.track_ids, b.track_ids)
        np.testing.assert_array_equal(a.missed, b.missed)


def test_the_records_crops_are_those_of_its_detected_faces_in_order():
    """The debug view shows `FrameResult.crops`: one per detected face of the record, cut
    from that face's own detection, also where a weak detection found no track."""
    from c3ae.crops.context import face_crops

    frames = face_clip_frames(real_faces(2), n=8)
    pipeline = FramePipeline(PipelineOptions(detector="full", device="cpu", debug=True), weights=None)
    try:
        for frame in frames:
            result = pipeline.process(frame, draw=False)
        detected = result.faces[result.faces.missed == 0]
        assert len(detected) == 2 and result.crops is not None and result.crops.shape[0] == 2
        assert torch.equal(result.crops, face_crops(frames[-1], detected))
    finally:
        pipeline.close()
