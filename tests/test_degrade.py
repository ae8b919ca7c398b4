import numpy as np

from c3ae.training import degrade


def _scene(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frame = np.full((120, 160, 3), 100, np.uint8)
    frame[30:90, 50:110] = rng.integers(0, 255, (60, 60, 3))  # a detailed patch
    return frame


def _detail(frame: np.ndarray) -> float:
    return float(np.abs(np.diff(frame[30:90, 50:110].astype(np.float32), axis=1)).mean())


def test_h264_at_a_webcam_bitrate_keeps_the_clip_and_loses_detail():
    frames = [np.roll(_scene(), t, axis=1) for t in range(8)]
    out = degrade.h264(frames, 250)
    assert len(out) == 8 and all(f.shape == frames[0].shape for f in out)
    assert abs(float(out[4].mean()) - float(frames[4].mean())) < 10  # the same picture ...
    assert _detail(out[4]) < 0.8 * _detail(frames[4])  # ... with less detail


def test_soften_and_motion_blur_remove_detail_and_keep_the_size():
    frame = _scene()
    for out in (degrade.soften(frame, 2.5), degrade.motion_blur(frame, 9, 30.0)):
        assert out.shape == frame.shape and _detail(out) < 0.7 * _detail(frame)


def test_stage_light_is_bright_and_coloured_on_one_side_dark_on_the_other():
    gain = degrade.stage_light((90, 160), np.random.default_rng(1))
    brightness = gain.mean(axis=2)
    assert brightness.max() > 1.5 * brightness.min() and gain.max() > 1.0 and gain.min() < 0.5
    assert np.ptp(gain.mean(axis=(0, 1))) > 0.1  # a colour, not white


def test_a_three_quarter_turn_narrows_the_face_and_says_where_it_is():
    image, box = _scene(), np.array([50, 30, 110, 90], np.float32)
    turned, new_box = degrade.three_quarter(image, box, np.random.default_rng(2))
    assert turned.shape == image.shape
    assert new_box[2] - new_box[0] < 0.9 * (box[2] - box[0]) and new_box[1] == box[1] and new_box[3] == box[3]
