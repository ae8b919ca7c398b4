import cv2
import numpy as np
import pytest
from synth import coordinate_frame, make_faces

from c3ae.crops.context import CONTEXT, CROP_SCALES, FACE_SIZE_PER_EYE_MOUTH, face_crops, face_geometry
from c3ae.faces import Faces


def _centre_value(crop_chw: np.ndarray) -> np.ndarray:
    return crop_chw[:, 31:33, 31:33].reshape(3, -1).mean(1)


def test_shape_and_dtype_for_n_faces():
    frame = coordinate_frame()
    faces = make_faces([(100, 100, 180, 180), (300, 120, 360, 180), (500, 50, 600, 150)])
    crops = face_crops(frame, faces)
    assert crops.shape == (3, 3, 3, 64, 64) and str(crops.dtype) == "torch.uint8"
    assert face_crops(frame, faces[[]]).shape == (0, 3, 3, 64, 64)


def test_crops_are_centred_on_the_keypoint_centre():
    w, h = 640, 360
    frame = coordinate_frame(w, h)
    faces = make_faces([(200, 100, 300, 200)])
    faces.keypoints[0, 2] += (6, 9)  # move the nose: the centre is the mean of eyes, nose and mouth
    centre = faces.keypoints[0, :4].mean(axis=0)
    crops = face_crops(frame, faces, level_eyes=False).numpy()[0]
    for k in range(3):
        b, g, _ = _centre_value(crops[k])
        assert b == pytest.approx((centre[0] - 0.5) * 255 / (w - 1), abs=1.5)
        assert g == pytest.approx((centre[1] - 0.5) * 255 / (h - 1), abs=1.5)


def test_crops_do_not_depend_on_the_detectors_box():
    """Short- and full-range BlazeFace draw boxes of different sizes for the same face;
    with the same keypoints the crops must be the same."""
    frame = coordinate_frame()
    faces = make_faces([(270, 130, 370, 230)])
    wider = faces.replace(boxes=faces.boxes + np.array([[-4, -4, 4, 4]], np.float32))
    assert np.array_equal(face_crops(frame, faces).numpy(), face_crops(frame, wider).numpy())


def test_box_is_used_when_keypoints_are_missing_or_implausible():
    faces = make_faces([(270, 130, 370, 230), (0, 0, 100, 100)])
    faces.keypoints[0] = np.nan
    faces.keypoints[1, 3] = faces.keypoints[1, 0]  # mouth on an eye: size far below the box
    centres, sizes = face_geometry(faces)
    assert np.allclose(sizes, [100, 100]) and np.allclose(centres, [[320, 180], [50, 50]])


def test_crop_sides_follow_the_scales():
    w, h = 640, 360
    frame = coordinate_frame(w, h)
    faces = make_faces([(270, 130, 370, 230)])  # 100 px face in the middle
    crops = face_crops(frame, faces, level_eyes=False, context=None).numpy()[0].astype(float)
    for k, scale in enumerate(CROP_SCALES):
        # blue grows linearly with x: its span across the crop gives the crop width in pixels
        span = (crops[k, 0, 32, -1] - crops[k, 0, 32, 0]) * (w - 1) / 255
        # make_faces puts the mouth 0.4 box heights below the eyes
        assert span == pytest.approx(40 * FACE_SIZE_PER_EYE_MOUTH * scale * 63 / 64, rel=0.06)


def test_border_faces_are_reflect_padded_never_black():
    rng = np.random.default_rng(0)
    frame = rng.integers(60, 200, (360, 640, 3), dtype=np.uint8)
    faces = make_faces([(-40, -30, 60, 70), (590, 300, 700, 410)])  # cut by the frame border
    crops = face_crops(frame, faces).numpy()
    assert crops.min() >= 60


def test_eyes_are_levelled_when_asked():
    frame = np.full((360, 640, 3), 30, np.uint8)
    faces = make_faces([(250, 110, 390, 250)], roll_deg=25)
    for x, y in faces.keypoints[0, :2]:
        cv2.circle(frame, (int(x), int(y)), 4, (255, 255, 255), -1)

    def eye_rows(crop):
        grey = crop[1].astype(float)  # green channel of the inner crop
        left, right = grey[:, :32], grey[:, 32:]
        return np.unravel_index(left.argmax(), left.shape)[0], np.unravel_index(right.argmax(), right.shape)[0]

    levelled = face_crops(frame, faces, level_eyes=True).numpy()[0, 0]
    raw = face_crops(frame, faces, level_eyes=False).numpy()[0, 0]
    r1, r2 = eye_rows(levelled)
    assert abs(r1 - r2) <= 1
    r1, r2 = eye_rows(raw)
    assert abs(r1 - r2) >= 8


def test_same_crop_at_any_resolution():
    """A big face in 1080p and the same face in 360p must give the same crops:
    the pyramid averages the large face instead of aliasing it."""
    rng = np.random.default_rng(1)
    small_noise = rng.integers(0, 255, (54, 96, 3), dtype=np.uint8)
    hi = cv2.resize(small_noise, (1920, 1080), interpolation=cv2.INTER_CUBIC)
    hi = cv2.add(hi, rng.integers(0, 40, hi.shape, dtype=np.uint8))  # fine texture that aliases
    lo = cv2.resize(hi, (640, 360), interpolation=cv2.INTER_AREA)
    box = np.array([900, 400, 1200, 700], float)
    crops_hi = face_crops(hi, make_faces([tuple(box)])).numpy().astype(float)
    crops_lo = face_crops(lo, make_faces([tuple(box / 3)])).numpy().astype(float)
    assert np.abs(crops_hi - crops_lo).mean() < 3.0  # 5.5 without the pyramid


def test_jitter_moves_each_crop_independently():
    frame = coordinate_frame()
    faces = make_faces([(200, 100, 300, 200)])
    jitter = np.zeros((1, 3, 3))
    jitter[0, 2, 0] = 0.1  # shift only the outer crop right by 10% of its side
    base = face_crops(frame, faces, level_eyes=False).numpy()[0]
    moved = face_crops(frame, faces, level_eyes=False, jitter=jitter).numpy()[0]
    np.testing.assert_array_equal(base[:2], moved[:2])
    assert _centre_value(moved[2])[0] > _centre_value(base[2])[0] + 3


def test_greyscale_frames_are_accepted():
    grey = cv2.cvtColor(coordinate_frame(), cv2.COLOR_BGR2GRAY)
    crops = face_crops(grey, make_faces([(200, 100, 300, 200)])).numpy()
    np.testing.assert_array_equal(crops[:, :, 0], crops[:, :, 1])


def test_context_beyond_the_window_never_reaches_a_crop():
    """A live frame's surroundings past CONTEXT face sizes (background, neighbours) must not
    change the crops: there they are reflected from inside, as for a tight dataset chip."""
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    faces = make_faces([(270, 130, 370, 230)], roll_deg=8)
    centres, sizes = face_geometry(faces)
    yy, xx = np.mgrid[0:360, 0:640]
    # the window's corners lie CONTEXT * size / sqrt(2) from the centre; 8 px for interpolation
    far = np.hypot(xx - centres[0, 0], yy - centres[0, 1]) > CONTEXT * sizes[0] / np.sqrt(2) + 8
    other = frame.copy()
    other[far] = rng.integers(0, 256, (int(far.sum()), 3), dtype=np.uint8)
    jitter = np.zeros((1, 3, 3))
    jitter[0, 2] = (0.05, -0.04, 0.0)
    a = face_crops(frame, faces, jitter=jitter).numpy()
    assert np.array_equal(a, face_crops(other, faces, jitter=jitter).numpy())
    # without the limit the surroundings do show in the widest crop
    assert not np.array_equal(face_crops(frame, faces, jitter=jitter, context=None).numpy()[0, 2],
                              face_crops(other, faces, jitter=jitter, context=None).numpy()[0, 2])


def test_crops_read_only_their_faces_region_of_a_big_frame():
    """Crops come from a pyramid of the face's region, not of the whole frame, and
    equal those of a whole-frame pyramid: here, of a frame that is just that region
    (on the same pixel grid); border faces too (their reflection is the frame edge's)."""
    rng = np.random.default_rng(3)
    big = cv2.GaussianBlur(rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8), (0, 0), 1.5)
    big[::7] = 255  # sharp detail, which a misaligned pyramid would shift
    inner = make_faces([(800, 420, 1010, 640)], roll_deg=12)  # 1.6x crop: two pyramid levels down
    (cx, cy), = face_geometry(inner)[0]
    reads = face_geometry(inner)[1][0] * max(CROP_SCALES) * np.sqrt(0.5)  # a rotated crop's half diagonal
    x0, y0 = int(cx - reads - 20) // 4 * 4, int(cy - reads - 20) // 4 * 4  # on level 2's grid, 20 px to spare
    part = big[y0:int(cy + reads + 20), x0:int(cx + reads + 20)]  # whole pyramid = the region's
    shift = np.array([x0, y0], np.float32)
    moved = inner.replace(boxes=inner.boxes - np.tile(shift, 2), keypoints=inner.keypoints - shift)
    for context in (CONTEXT, None):  # None: the crops' corners read real pixels too
        assert np.array_equal(face_crops(big, inner, context=context).numpy(),
                              face_crops(part, moved, context=context).numpy())
    edge = make_faces([(-30, 10, 170, 210)])
    assert np.array_equal(face_crops(big, edge).numpy(), face_crops(big[:768, :1024], edge).numpy())
    assert np.array_equal(face_crops(big, Faces.concatenate([inner, edge])).numpy()[1],
                          face_crops(big, edge).numpy()[0])
