import importlib.metadata

import cv2
import numpy as np
import pytest
from synth import real_faces

from c3ae.detect import face_models
from c3ae.detect.blazeface import CLOSE_UP_EVERY, FaceDetector, prefer_close_ups, reduction
from c3ae.errors import FaceModelMissing
from c3ae.faces import Faces
from c3ae.options import default_detector_for


@pytest.fixture(scope="module")
def detector():
    with FaceDetector("short", video=False) as det:
        yield det


def test_real_portrait_gives_one_face_with_keypoints_inside(detector):
    img = real_faces(1)[0]
    faces = detector.detect(img)
    assert len(faces) == 1 and faces.scores[0] > 0.5
    x1, y1, x2, y2 = faces.boxes[0]
    nose = faces.keypoints[0, 2]
    assert x1 < nose[0] < x2 and y1 < nose[1] < y2
    assert faces.keypoints[0, 0, 0] < faces.keypoints[0, 1, 0]  # subject's right eye is image-left


def test_pad_maps_coordinates_back_to_the_input(detector):
    img = real_faces(1)[0]
    plain = detector.detect(img)
    padded = detector.detect(img, pad=0.3)
    np.testing.assert_allclose(padded.keypoints[0, 2], plain.keypoints[0, 2], atol=6)


def test_full_range_model_in_video_mode_on_a_small_face():
    img = real_faces(1)[0]
    frame = np.full((360, 640, 3), 80, np.uint8)
    small = cv2.resize(img, None, fx=0.45, fy=0.45)  # ~55 px face in a 640x360 frame
    frame[100:100 + small.shape[0], 300:300 + small.shape[1]] = small
    with FaceDetector("full", video=True) as det:
        results = [det.detect(frame) for _ in range(3)]  # timestamps advance on their own
    assert all(len(r) == 1 for r in results)


def test_empty_scene_gives_no_faces(detector):
    assert len(detector.detect(np.full((360, 640, 3), 127, np.uint8))) == 0


def test_score_and_size_thresholds_filter(detector):
    img = real_faces(1)[0]
    detector.min_size = 10_000
    try:
        assert len(detector.detect(img)) == 0
    finally:
        detector.min_size = 0.0


def test_missing_model_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(face_models, "MODEL_DIR", tmp_path)
    with pytest.raises(FaceModelMissing, match="make models"):
        FaceDetector("short")


def test_default_model_per_source():
    assert default_detector_for(0) == "short" and default_detector_for("1") == "short"
    assert default_detector_for("party.mp4") == "full"


def test_exactly_one_opencv_distribution_is_installed():
    """mediapipe declares opencv-contrib-python; we install it without deps so
    the headless contrib build is the only cv2 and cannot be overwritten."""
    names = {d.metadata["Name"].lower() for d in importlib.metadata.distributions()}
    opencv = sorted(n for n in names if n.startswith("opencv"))
    assert opencv == ["opencv-contrib-python-headless"]
    assert hasattr(cv2, "face")  # contrib modules present


def _close_up_frame(img: np.ndarray, face_px: float, stills: FaceDetector) -> np.ndarray:
    """The portrait's face `face_px` tall, centred in a 1280x720 frame."""
    x1, y1, x2, y2 = stills.detect(img, pad=0.3).boxes[0]
    scale = face_px / max(x2 - x1, y2 - y1)
    big = cv2.resize(img, None, fx=scale, fy=scale)
    cx, cy = int((x1 + x2) / 2 * scale), int((y1 + y2) / 2 * scale)
    src = big[max(cy - 360, 0):cy + 360, max(cx - 640, 0):cx + 640]
    frame = np.full((720, 1280, 3), 70, np.uint8)
    oy, ox = (720 - src.shape[0]) // 2, (1280 - src.shape[1]) // 2
    frame[oy:oy + src.shape[0], ox:ox + src.shape[1]] = src
    return frame


def test_in_video_a_close_up_is_found_in_every_frame(detector):
    frame = _close_up_frame(real_faces(1)[0], 460, detector)
    with FaceDetector("full", video=True) as full:
        found = [full.detect(frame) for _ in range(6)]
    assert all(len(r) == 1 and r.sizes[0] > 300 and r.scores[0] > 0.7 for r in found)


def test_the_short_range_model_runs_only_where_it_can_change_the_answer(detector, monkeypatch):
    """A confident full-range close-up gets no second opinion (the periodic search
    aside); a doubtful one gets it at once, and once confirmed at that place it is
    vouched for until the next periodic call: a steady webcam close-up does not
    run both models on every frame."""
    frame = _close_up_frame(real_faces(1)[0], 460, detector)
    with FaceDetector("full", video=True) as full:
        before = full.close_up_calls
        confident = [full.detect(frame) for _ in range(10)]
        periodic = full.close_up_calls - before
        own = full._to_faces

        def unsure(*args) -> Faces:
            faces = own(*args)
            return faces.replace(scores=np.full(len(faces), 0.3, np.float32))

        monkeypatch.setattr(full, "_to_faces", unsure)
        full._confirmed = Faces.empty()  # nothing confirmed yet: the first doubtful call asks
        before = full.close_up_calls
        first = full.detect(frame)
        asked_at_once = full.close_up_calls - before
        doubtful = [first] + [full.detect(frame) for _ in range(9)]
        asked = full.close_up_calls - before
    assert periodic == 2 and all(len(r) == 1 and r.scores[0] > 0.7 for r in confident)
    assert asked_at_once == 1 and asked <= 1 + 10 // CLOSE_UP_EVERY
    assert all(len(r) == 1 and r.scores[0] > 0.7 for r in doubtful)  # confirmed by the short-range model


def _boxes(boxes, scores) -> Faces:
    boxes = np.array(boxes, np.float32)
    return Faces(boxes, np.zeros((len(boxes), 6, 2), np.float32), np.array(scores, np.float32))


def test_short_range_close_ups_stand_in_only_for_doubtful_or_missing_faces():
    """The full-range model's score collapses on some close-ups (0.8 -> 0.2 on a 420 px
    face in 720p, the short-range model's stays at 0.9)."""
    close = _boxes([[400, 100, 860, 560]], [0.9])
    doubtful = prefer_close_ups(_boxes([[410, 90, 880, 570], [50, 50, 90, 90]], [0.3, 0.8]), close, 216)
    assert sorted(doubtful.scores.astype(float).round(2).tolist()) == [0.8, 0.9]  # replaced; the small face stays
    confident = prefer_close_ups(_boxes([[410, 90, 880, 570]], [0.85]), close, 216)
    assert confident.scores.astype(float).round(2).tolist() == [0.85]
    assert prefer_close_ups(Faces.empty(), close, 216).scores.astype(float).round(2).tolist() == [0.9]
    small_inside = prefer_close_ups(_boxes([[600, 300, 650, 350]], [0.7]), close, 216)  # a false big box
    assert small_inside.scores.astype(float).round(2).tolist() == [0.7]
    unsure = prefer_close_ups(_boxes([[410, 90, 880, 570]], [0.3]), _boxes([[400, 100, 860, 560]], [0.6]), 216)
    assert unsure.scores.astype(float).round(2).tolist() == [0.3]


def test_a_big_video_frame_is_read_halved_with_answers_in_its_own_pixels(detector):
    assert [reduction(*size) for size in ((360, 640), (720, 1280), (1080, 1920), (1440, 2560), (2160, 3840))] \
        == [1, 1, 2, 2, 4]
    img = real_faces(1)[0]
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    face = cv2.resize(img, None, fx=1.2, fy=1.2)
    frame[500:500 + face.shape[0], 1200:1200 + face.shape[1]] = face
    with FaceDetector("full", video=False) as still:  # stills are read whole: where the face should be
        whole = still.detect(frame)
    with FaceDetector("full", video=True) as det:
        found = det.detect(frame)
        assert len(found) == 1 and 1200 < found.boxes[0, 0] < found.boxes[0, 2] < 1200 + face.shape[1]
        np.testing.assert_allclose(found.keypoints[0, :4], whole.keypoints[0, :4], atol=4)
        size = float(found.sizes[0])  # a size threshold is in the frame's pixels, not the halved copy's
        det.min_size = size * 0.8
        assert len(det.detect(frame)) == 1
        det.min_size = size * 1.25
        assert len(det.detect(frame)) == 0
