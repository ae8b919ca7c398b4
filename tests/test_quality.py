import cv2
import numpy as np
import torch
from synth import make_faces, real_faces

from c3ae.crops.context import face_crops
from c3ae.track.fusion import frame_weight
from c3ae.track.identity import appearance, similarity
from c3ae.track.quality import border_factor, face_quality, pose_factor, sharpness


def test_frontal_faces_count_fully_and_turned_ones_little():
    frontal = make_faces([(100, 100, 180, 180)])
    turned = frontal.replace(keypoints=frontal.keypoints.copy())
    turned.keypoints[0, 2, 0] += 0.25 * 80  # nose a quarter face to the side: a strong yaw
    turned.keypoints[0, 5, 0] -= 0.2 * 80  # the far ear folds towards the eye
    rolled = make_faces([(100, 100, 180, 180)], roll_deg=30)  # a tilted head is still frontal
    assert pose_factor(frontal)[0] == 1.0 and pose_factor(rolled)[0] > 0.95
    assert pose_factor(turned)[0] < 0.3


def test_faces_cut_by_the_border_and_small_faces_count_less():
    faces = make_faces([(100, 100, 180, 180), (-40, 100, 40, 180), (300, 100, 316, 116)])
    border = border_factor(faces, (360, 640))
    np.testing.assert_allclose(border[:2], [1.0, 0.25])
    q = face_quality(faces, (360, 640))
    assert q[0] > 0.9 and q[1] < 0.3 and q[2] < 0.1


def test_a_blurred_face_counts_less_than_the_same_face_sharp():
    img = real_faces(1)[0]
    frame = cv2.copyMakeBorder(img, 60, 60, 60, 60, cv2.BORDER_REFLECT)
    h, w = img.shape[:2]
    faces = make_faces([(60 + 0.2 * w, 60 + 0.25 * h, 60 + 0.8 * w, 60 + 0.8 * h)])
    sharp = face_quality(faces, frame.shape, face_crops(frame, faces))[0]
    blurred = cv2.GaussianBlur(frame, (0, 0), 4)
    soft = face_quality(faces, frame.shape, face_crops(blurred, faces))[0]
    assert soft < 0.5 * sharp
    assert sharpness(face_crops(blurred, faces))[0] < sharpness(face_crops(frame, faces))[0]


def test_appearance_ignores_brightness_and_tells_colours_apart():
    rng = np.random.default_rng(0)
    base = np.clip(np.array([60, 110, 200]) + rng.integers(-30, 30, (3, 64, 64, 3)), 0, 255)
    other = np.clip(np.array([200, 90, 50]) + rng.integers(-30, 30, (3, 64, 64, 3)), 0, 255)
    crops = np.stack([base, (base * 0.4), other]).astype(np.uint8)
    looks = appearance(torch.from_numpy(crops.transpose(0, 1, 4, 2, 3).copy()))
    s = similarity(looks, looks)
    assert s[0, 1] > 0.8 and s[0, 2] < 0.2
    black = appearance(torch.zeros((1, 3, 3, 64, 64), dtype=torch.uint8))
    assert black.sum() == 0 and similarity(black, looks)[0, 2] == 1.0  # unknown, never a mismatch
    deep_fade = appearance(torch.from_numpy((crops[:1] * 0.12).astype(np.uint8).transpose(0, 1, 4, 2, 3).copy()))
    assert deep_fade.sum() == 0  # a face at an eighth of its brightness: too dark to tell, unknown


def test_a_small_clear_face_counts_a_good_share_of_a_close_up_and_a_blurred_one_less():
    """Quality (and the fusion weight from it) must not treat a clear 40 px face as
    a blurred one: its upsampled crop is soft because it is small, which size counts."""
    img = real_faces(1)[0]
    frame = cv2.copyMakeBorder(img, 60, 60, 60, 60, cv2.BORDER_REFLECT)
    h, w = img.shape[:2]
    big = make_faces([(60 + 0.2 * w, 60 + 0.25 * h, 60 + 0.8 * w, 60 + 0.8 * h)])
    f = 40.0 / big.sizes[0]
    small_frame = cv2.resize(frame, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    small = big.replace(boxes=big.boxes * f, keypoints=big.keypoints * f)
    q_big = face_quality(big, frame.shape, face_crops(frame, big))[0]
    q_small = face_quality(small, small_frame.shape, face_crops(small_frame, small))[0]
    blurred = cv2.GaussianBlur(small_frame, (0, 0), 1.5)
    q_blurred = face_quality(small, blurred.shape, face_crops(blurred, small))[0]
    assert frame_weight(q_small) > 0.45 * frame_weight(q_big)
    assert q_blurred < 0.6 * q_small
