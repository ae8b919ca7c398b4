import numpy as np
import torch
from synth import make_faces

from c3ae.cuts import ShotCutDetector
from c3ae.faces import Faces, box_overlaps
from c3ae.pipeline import SeekHistory
from c3ae.track.fusion import HOLD
from c3ae.track.tracker import FaceTracker
from c3ae.twopoint import encode


def _with_ages(faces: Faces, ages) -> Faces:
    ages = np.asarray(ages, np.float32)
    return faces.replace(ages=ages, dists=encode(ages))


def _face(x, y=100, size=80, age=30.0, score=0.9) -> Faces:
    f = _with_ages(make_faces([(x, y, x + size, y + size)]), [age])
    return f.replace(scores=np.float32([score]))


def _solid_crops(colours) -> torch.Tensor:
    """(N, 3, 3, 64, 64) crops of one BGR colour each, with a little texture so they look sharp."""
    rng = np.random.default_rng(0)
    out = np.empty((len(colours), 3, 64, 64, 3), np.uint8)
    for i, c in enumerate(colours):
        out[i] = np.clip(np.array(c) + rng.integers(-40, 40, (3, 64, 64, 1)), 0, 255)
    return torch.from_numpy(out.transpose(0, 1, 4, 2, 3).copy())


def test_box_overlaps_iou():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], float)
    np.testing.assert_allclose(box_overlaps(a, b)[0], [[1.0, 50 / 150, 0.0]])


def test_moving_face_keeps_its_id_and_a_new_face_gets_a_new_one():
    tracker = FaceTracker()
    ids = []
    for t in range(30):
        x = 50 + 6 * t  # 6 px per frame
        ids.append(tracker.update(_with_ages(make_faces([(x, 100, x + 80, 180)]), [30])).track_ids[0])
    assert set(ids) == {1}
    out = tracker.update(_with_ages(make_faces([(230, 100, 310, 180), (500, 200, 560, 260)]), [30, 60]))
    assert out.track_ids[0] == 1 and out.track_ids[1] == 2


def test_two_crossing_faces_keep_their_ids():
    tracker = FaceTracker()
    for t in range(20):
        a, b = 100 + 10 * t, 400 - 10 * t
        out = tracker.update(_with_ages(make_faces([(a, 100, a + 60, 160), (b, 130, b + 60, 190)]), [20, 70]))
        assert out.track_ids.tolist() == [1, 2]


def test_crossing_behind_another_face_keeps_ids():
    """The rear face is hidden while they overlap; its filter carries it across."""
    tracker = FaceTracker()
    for t in range(40):
        a, b = 100 + 10 * t, 490 - 10 * t
        boxes, ages = [(a, 100, a + 60, 160)], [20]
        if abs(a - b) > 50:  # b is behind a while they overlap
            boxes.append((b, 110, b + 60, 170))
            ages.append(70)
        out = tracker.update(_with_ages(make_faces(boxes), ages))
        assert out.track_ids[0] == 1
        if len(boxes) == 2:
            assert out.track_ids[1] == 2


def test_fast_move_with_little_overlap_still_matches():
    tracker = FaceTracker()
    tracker.update(_with_ages(make_faces([(100, 100, 160, 160)]), [30]))
    out = tracker.update(_with_ages(make_faces([(145, 100, 205, 160)]), [30]))  # IoU ~0.14
    assert out.track_ids.tolist() == [1]


def test_track_survives_missed_frames_then_expires():
    tracker = FaceTracker(max_missed=10)
    for _ in range(5):
        tracker.update(_face(100))
    for missed in range(1, 11):
        out = tracker.update(Faces.empty())
        assert out.track_ids.tolist() == [1] and out.missed.tolist() == [missed]
        assert np.isfinite(out.ages_smoothed[0])  # a carried track keeps its age
    out = tracker.update(_face(102))
    assert out.track_ids.tolist() == [1] and out.missed.tolist() == [0]
    for _ in range(11):
        out = tracker.update(Faces.empty())
    assert len(out) == 0
    assert tracker.update(_face(100)).track_ids.tolist() == [2]


def test_a_one_frame_detection_is_not_carried():
    tracker = FaceTracker()
    tracker.update(_face(100))
    assert len(tracker.update(Faces.empty())) == 0
    assert tracker.summaries() == []


def test_weak_detection_keeps_a_track_but_starts_none():
    tracker = FaceTracker(high_score=0.5)
    for _ in range(5):
        tracker.update(_face(100))
    out = tracker.update(Faces.concatenate([_face(102, score=0.35), _face(400, score=0.35)]))
    assert out.track_ids.tolist() == [1] and out.missed.tolist() == [0]


def test_new_track_shows_no_age_until_it_has_enough_frames():
    tracker = FaceTracker(min_frames=5)
    shown = [tracker.update(_face(100, age=40)).ages_smoothed[0] for _ in range(6)]
    assert np.isnan(shown[:4]).all() and np.isfinite(shown[4:]).all()
    out = tracker.update(_face(100, age=40))
    assert out.ages_low[0] < 40 < out.ages_high[0]


def test_still_face_shown_age_is_steady_and_inside_its_band():
    rng = np.random.default_rng(0)
    tracker = FaceTracker(smoothing=0.85)
    raw = 35 + rng.normal(0, 4, 300)
    outs = [tracker.update(_face(100, age=a)) for a in raw]
    shown = np.array([o.ages_smoothed[0] for o in outs[10:]])
    low = np.array([o.ages_low[0] for o in outs[10:]])
    high = np.array([o.ages_high[0] for o in outs[10:]])
    assert np.percentile(shown, 90) - np.percentile(shown, 10) <= 3.0
    assert ((low <= shown) & (shown <= high)).all()
    assert abs(np.median(shown) - 35) < 2.5 and (high - low).mean() < 15


def test_a_poor_first_guess_gives_way_to_better_frames_and_the_table_agrees():
    tracker = FaceTracker(smoothing=0.8, high_score=0.3)
    for _ in range(6):  # barely detected: says 52
        out = tracker.update(_face(100, age=52, score=0.4))
    assert abs(out.ages_smoothed[0] - 52) < 1
    for _ in range(60):  # a clear close-up: 36
        out = tracker.update(_face(100, age=36))
    assert abs(out.ages_smoothed[0] - 36) < 1
    person = tracker.summaries()[0]
    assert abs(person.age - out.ages_smoothed[0]) <= HOLD
    np.testing.assert_allclose([person.age_low, person.age_high], [out.ages_low[0], out.ages_high[0]], atol=1e-3)


def test_poor_faces_count_little_and_are_uncertain():
    tracker = FaceTracker(smoothing=0.95, high_score=0.3)
    for _ in range(20):
        out = tracker.update(_face(100, age=30))
    for _ in range(10):  # barely detected frames of the same face claim 70
        out = tracker.update(_face(100, age=70, score=0.32))
    assert out.ages_smoothed[0] < 35
    small = FaceTracker()
    for _ in range(10):
        out = small.update(_face(100, size=18, score=0.55))
    assert out.uncertain[0] and not tracker.update(_face(100, size=80)).uncertain[0]


def test_a_different_looking_face_in_the_same_place_is_a_new_track():
    tracker = FaceTracker()
    red, blue = _solid_crops([(40, 40, 200)]), _solid_crops([(200, 60, 30)])
    for _ in range(5):
        assert tracker.update(_face(100), crops=red).track_ids.tolist() == [1]
    out = tracker.update(_face(100), crops=blue)
    assert 1 not in out.track_ids[out.missed == 0].tolist()


def test_a_shot_cut_ends_every_track():
    tracker = FaceTracker()
    rng = np.random.default_rng(1)
    shot_a = np.clip(rng.normal((60, 120, 200), 20, (360, 640, 3)), 0, 255).astype(np.uint8)
    shot_b = np.clip(rng.normal((200, 90, 40), 20, (360, 640, 3)), 0, 255).astype(np.uint8)
    cuts = ShotCutDetector()
    for _ in range(5):
        assert tracker.update(_face(100), frame=shot_a, shot=cuts.judge(shot_a)).track_ids.tolist() == [1]
    out = tracker.update(_face(100), frame=shot_b, shot=cuts.judge(shot_b))
    assert tracker.cut and out.track_ids.tolist() == [2]
    assert [s.track_id for s in tracker.summaries()] == [1]


def test_after_a_cut_the_same_place_starts_afresh_with_the_new_persons_age():
    tracker = FaceTracker(min_frames=5)
    rng = np.random.default_rng(1)
    shot_a = np.clip(rng.normal((60, 120, 200), 20, (360, 640, 3)), 0, 255).astype(np.uint8)
    shot_b = np.clip(rng.normal((200, 90, 40), 20, (360, 640, 3)), 0, 255).astype(np.uint8)
    cuts = ShotCutDetector()
    for _ in range(40):
        tracker.update(_face(100, age=70), frame=shot_a, shot=cuts.judge(shot_a))
    shown = [tracker.update(_face(100, age=20), frame=shot_b, shot=cuts.judge(shot_b)).ages_smoothed[0]
             for _ in range(5)]
    assert np.isnan(shown[:4]).all() and abs(shown[4] - 20) < 1


def test_summaries_have_one_row_per_track_with_its_span():
    tracker = FaceTracker(max_missed=2)
    for t in range(10):
        tracker.update(_face(100, age=30) if t < 8 else Faces.empty())
    for _ in range(6):
        tracker.update(_face(400, age=60))
    rows = tracker.summaries()
    assert [(r.track_id, r.first_frame, r.last_frame, r.frames) for r in rows] == [(1, 0, 7, 8), (2, 10, 15, 6)]
    assert rows[0].age_low < 30 < rows[0].age_high and rows[1].age_low < 60 < rows[1].age_high
    assert rows[0].seconds(10.0) == 0.8


def test_restoring_a_snapshot_replays_the_same_results():
    rng = np.random.default_rng(2)
    frames = [_face(100 + 3 * t, age=float(a)) for t, a in enumerate(30 + rng.normal(0, 5, 40))]
    tracker, history = FaceTracker(), SeekHistory()
    first = []
    for i, f in enumerate(frames):
        first.append(tracker.update(f))
        history.put(i, (tracker.snapshot(), None))
    tracker.restore(history.get(19)[0])
    for i in range(20, 40):
        again = tracker.update(frames[i])
        np.testing.assert_array_equal(again.track_ids, first[i].track_ids)
        np.testing.assert_array_equal(again.ages_smoothed, first[i].ages_smoothed)
        np.testing.assert_array_equal(again.boxes, first[i].boxes)
    small = SeekHistory(budget=6)  # three frames of one track each
    for i in range(5):
        small.put(i, history.get(i))
    assert [small.get(i) is not None for i in range(5)] == [False, False, True, True, True]


def test_restoring_a_snapshot_replays_the_same_bands_with_the_videos_sharpness(monkeypatch):
    from c3ae.track import tracker as tracker_module
    from c3ae.track.uncertainty import FEATURES, ErrorModel

    coef = tuple(-3.0 if name == "relative_sharpness" else 0.0 for name in FEATURES)  # bands follow the video
    monkeypatch.setattr(tracker_module, "fitted_model", lambda: ErrorModel(intercept=8.0, coef=coef))
    rng = np.random.default_rng(3)
    frames = [np.clip(rng.normal(120, 10 + 3 * t, (360, 640, 3)), 0, 255).astype(np.uint8) for t in range(30)]
    crops = _solid_crops([(60, 120, 200)])
    tracker, history, first = FaceTracker(), SeekHistory(), []
    for i, frame in enumerate(frames):
        first.append(tracker.update(_face(100, age=40.0 + i % 3), frame=frame, crops=crops))
        history.put(i, (tracker.snapshot(), None))
    tracker.restore(history.get(14)[0])  # mid-way between two measures of the video's sharpness
    for i in range(15, 30):
        again = tracker.update(_face(100, age=40.0 + i % 3), frame=frames[i], crops=crops)
        np.testing.assert_array_equal(again.ages_low, first[i].ages_low)
        np.testing.assert_array_equal(again.ages_high, first[i].ages_high)


def test_reset_forgets_tracks():
    tracker = FaceTracker()
    for _ in range(3):
        tracker.update(_face(100))
    tracker.reset()
    assert tracker.update(_face(100)).track_ids.tolist() == [1]
    assert tracker.summaries() == []


def test_tracks_survive_a_camera_flash():
    tracker = FaceTracker()
    rng = np.random.default_rng(3)
    scene = np.clip(rng.normal((60, 120, 200), 20, (360, 640, 3)), 0, 255).astype(np.uint8)
    white = np.full_like(scene, 255)
    cuts = ShotCutDetector()
    for _ in range(6):
        tracker.update(_face(100), frame=scene, shot=cuts.judge(scene))
    flash = tracker.update(Faces.empty(), frame=white, shot=cuts.judge(white))
    assert tracker.cut and len(flash) == 0
    after = tracker.update(_face(101), frame=scene, shot=cuts.judge(scene))
    assert after.track_ids.tolist() == [1] and np.isfinite(after.ages_smoothed[0])
    assert [s.track_id for s in tracker.summaries()] == [1]


def test_last_kept_names_the_detections_that_got_a_track_in_order():
    """The record's crops follow `last_kept`: a weak detection no track could take is skipped."""
    tracker = FaceTracker(high_score=0.5)
    out = tracker.update(Faces.concatenate([_face(400, score=0.3), _face(100), _face(250)]))
    assert tracker.last_kept.tolist() == [1, 2]
    assert np.array_equal(out.boxes[out.missed == 0], Faces.concatenate([_face(100), _face(250)]).boxes)
    tracker.update(Faces.empty())
    assert tracker.last_kept.tolist() == []
