import numpy as np
from synth import make_faces

from c3ae.faces import Faces
from c3ae.track import FaceTracker, iou_matrix
from c3ae.twopoint import encode


def _with_ages(faces: Faces, ages) -> Faces:
    ages = np.asarray(ages, np.float32)
    return faces.replace(ages=ages, dists=encode(ages))


def test_iou_matrix():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], float)
    np.testing.assert_allclose(iou_matrix(a, b), [[1.0, 50 / 150, 0.0]])


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
        out = tracker.update(_with_ages(make_faces([(a, 100, a + 60, 160), (b, 260, b + 60, 320)]), [20, 70]))
        assert out.track_ids.tolist() == [1, 2]


def test_fast_move_with_little_overlap_still_matches():
    tracker = FaceTracker()
    tracker.update(_with_ages(make_faces([(100, 100, 160, 160)]), [30]))
    out = tracker.update(_with_ages(make_faces([(145, 100, 205, 160)]), [30]))  # IoU ~0.14
    assert out.track_ids.tolist() == [1]


def test_track_survives_missed_frames_then_expires():
    tracker = FaceTracker(max_missed=3)
    tracker.update(_with_ages(make_faces([(100, 100, 180, 180)]), [40]))
    for missed in (1, 2, 3):
        out = tracker.update(Faces.empty())
        assert out.track_ids.tolist() == [1] and out.missed.tolist() == [missed]
        assert out.ages_smoothed[0] == np.float32(40)
    out = tracker.update(_with_ages(make_faces([(102, 100, 182, 180)]), [40]))
    assert out.track_ids.tolist() == [1] and out.missed.tolist() == [0]
    for _ in range(4):
        out = tracker.update(Faces.empty())
    assert len(out) == 0
    assert tracker.update(_with_ages(make_faces([(100, 100, 180, 180)]), [40])).track_ids.tolist() == [2]


def test_still_face_age_does_not_flicker():
    rng = np.random.default_rng(0)
    tracker = FaceTracker(smoothing=0.85)
    raw = 35 + rng.normal(0, 4, 200)
    smoothed = [tracker.update(_with_ages(make_faces([(100, 100, 180, 180)]), [a])).ages_smoothed[0]
                for a in raw]
    tail = np.array(smoothed[20:])
    assert np.std(tail) < 0.35 * np.std(raw[20:])
    assert abs(tail.mean() - 35) < 1.0
    assert np.abs(np.diff(tail)).max() < 2.0  # no frame-to-frame jump worth a label change


def test_smoothing_zero_follows_the_frame():
    tracker = FaceTracker(smoothing=0.0)
    for a in (20, 50, 35):
        out = tracker.update(_with_ages(make_faces([(100, 100, 180, 180)]), [a]))
        assert out.ages_smoothed[0] == np.float32(a)


def test_reset_forgets_tracks():
    tracker = FaceTracker()
    tracker.update(_with_ages(make_faces([(100, 100, 180, 180)]), [40]))
    tracker.reset()
    assert tracker.update(_with_ages(make_faces([(100, 100, 180, 180)]), [40])).track_ids.tolist() == [1]
    assert len(tracker.update(Faces.empty())) == 1
