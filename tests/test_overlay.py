import numpy as np
import pytest
from synth import make_faces

from c3ae.overlay import annotate, banner
from c3ae.twopoint import encode


def _faces(boxes, ages):
    f = make_faces(boxes)
    d = encode(np.array(ages, float))
    return f.replace(ages=np.float32(ages), dists=d, ages_smoothed=np.float32(ages), dists_smoothed=d,
                     track_ids=np.arange(1, len(boxes) + 1))


@pytest.mark.parametrize("size", [(640, 360), (1280, 720), (1920, 1080)])
def test_draws_faces_anywhere_without_leaving_or_resizing_the_frame(size):
    w, h = size
    frame = np.zeros((h, w, 3), np.uint8)
    faces = _faces([(-30, -20, 60, 70), (w - 50, h - 40, w + 30, h + 30), (w / 2, h / 2, w / 2 + 80, h / 2 + 80)],
                   [5, 42, 88])
    out = annotate(frame, faces)
    assert out.shape == (h, w, 3) and out is frame
    assert out.any(axis=2).sum() > 500  # something was drawn


def test_bar_chart_is_drawn_beside_the_box_and_grows_with_resolution():
    def bar_pixels(w, h):
        frame = np.zeros((h, w, 3), np.uint8)
        s = h / 360
        annotate(frame, _faces([(100 * s, 100 * s, 180 * s, 180 * s)], [45]))
        right = frame[:, int(182 * s):int(300 * s)]
        return (right.sum(axis=2) > 0).sum()

    small, large = bar_pixels(640, 360), bar_pixels(1920, 1080)
    assert small > 0 and large > 3 * small


def test_untrained_model_shows_no_bars():
    frame = np.zeros((360, 640, 3), np.uint8)
    annotate(frame, _faces([(100, 100, 180, 180)], [45]), trained=False)
    assert frame[102:200, 182:300].sum() == 0  # the label sits above the box; nothing at its right


def test_bars_can_be_switched_off():
    frame = np.zeros((360, 640, 3), np.uint8)
    annotate(frame, _faces([(100, 100, 180, 180)], [45]), show_bars=False)
    assert frame[102:200, 182:300].sum() == 0


def test_banner_marks_the_top_of_the_frame():
    frame = np.zeros((360, 640, 3), np.uint8)
    banner(frame, "UNTRAINED MODEL")
    assert frame[:10, :, 2].mean() > 50 and frame[100:].sum() == 0
