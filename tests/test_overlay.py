import numpy as np
import pytest
from synth import make_faces

from c3ae.draw.overlay import banner, draw_faces, label_text, layout
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
    out = draw_faces(frame, faces)
    assert out.shape == (h, w, 3) and out is frame
    assert out.any(axis=2).sum() > 500  # something was drawn


def test_bar_chart_is_drawn_beside_the_box_and_grows_with_resolution():
    def bar_pixels(w, h):
        frame = np.zeros((h, w, 3), np.uint8)
        s = h / 360
        draw_faces(frame, _faces([(100 * s, 100 * s, 180 * s, 180 * s)], [45]))
        right = frame[:, int(182 * s):int(300 * s)]
        return (right.sum(axis=2) > 0).sum()

    small, large = bar_pixels(640, 360), bar_pixels(1920, 1080)
    assert small > 0 and large > 3 * small


def test_untrained_model_shows_no_bars():
    frame = np.zeros((360, 640, 3), np.uint8)
    draw_faces(frame, _faces([(100, 100, 180, 180)], [45]), trained=False)
    assert frame[102:200, 182:300].sum() == 0  # the label sits above the box; nothing at its right


def test_bars_can_be_switched_off():
    frame = np.zeros((360, 640, 3), np.uint8)
    draw_faces(frame, _faces([(100, 100, 180, 180)], [45]), show_bars=False)
    assert frame[102:200, 182:300].sum() == 0


def test_banner_marks_the_top_of_the_frame():
    frame = np.zeros((360, 640, 3), np.uint8)
    banner(frame, "UNTRAINED MODEL")
    assert frame[:10, :, 2].mean() > 50 and frame[100:].sum() == 0


def _rects_overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _xyxy(rect):
    x, y, w, h = rect
    return (x, y, x + w, y + h)


@pytest.mark.parametrize("size,n", [((640, 360), 12), ((1280, 720), 30), ((3840, 2160), 40)])
def test_crowded_labels_and_charts_never_cover_another_face_or_label(size, n):
    w, h = size
    rng = np.random.default_rng(n)
    boxes = []
    while len(boxes) < n:  # faces of 6-12% of the frame height, not overlapping each other
        s = rng.uniform(0.06, 0.12) * h
        x, y = rng.uniform(0, w - s), rng.uniform(0, h - s)
        if not any(_rects_overlap((x, y, x + s, y + s), b) for b in boxes):
            boxes.append((x, y, x + s, y + s))
    faces = _faces(boxes, rng.uniform(5, 80, n))
    texts = [label_text(faces, i) for i in range(n)]
    places = layout(faces, (h, w), texts)
    rects = [(i, _xyxy(p.label)) for i, p in enumerate(places) if p.label]
    rects += [(i, _xyxy(p.bars)) for i, p in enumerate(places) if p.bars]
    for k, (i, r) in enumerate(rects):
        assert 0 <= r[0] and r[2] <= w and 0 <= r[1] and r[3] <= h
        assert not any(_rects_overlap(r, b) for j, b in enumerate(boxes) if j != i)
        assert not any(_rects_overlap(r, r2) for r2 in [q for _, q in rects[k + 1:]])
    assert sum(p.label is not None for p in places) >= 0.8 * n  # most faces keep a label


def test_label_text_grows_with_resolution_and_says_band_and_doubt():
    faces = _faces([(100, 100, 180, 180)], [29]).replace(ages_low=np.float32([25]), ages_high=np.float32([34]))
    assert label_text(faces, 0) == "#1 29 y (25-34)"
    assert label_text(faces.replace(uncertain=np.array([True])), 0) == "#1 29 y? (25-34)"
    assert label_text(faces.replace(ages_smoothed=np.float32([np.nan])), 0) == "#1 ..."
    heights = [layout(faces, (h, int(h * 16 / 9)), ["#1 29 y (25-34)"])[0].label[3] for h in (360, 1080, 2160)]
    assert heights[0] >= 12 and heights[1] > 1.6 * heights[0] and heights[2] > 1.6 * heights[1]


def test_two_faces_side_by_side_get_their_charts_outside_each_other():
    faces = _faces([(200, 150, 280, 230), (285, 150, 365, 230)], [30, 60])
    places = layout(faces, (360, 640), [label_text(faces, i) for i in range(2)])
    for i, p in enumerate(places):
        other = faces.boxes[1 - i]
        for rect in (p.label, p.bars):
            assert rect is not None and not _rects_overlap(_xyxy(rect), other)


def test_a_face_filling_the_frame_gets_its_label_inside_its_box():
    faces = _faces([(-10, -10, 650, 370)], [29])
    place = layout(faces, (360, 640), [label_text(faces, 0)], ["29"])[0]
    assert place.text == "#1 29 y" and place.label is not None and place.bars is None


def test_a_boxed_in_face_keeps_at_least_its_bare_age_inside_its_own_box():
    ring = [(0, 0, 640, 150), (0, 210, 640, 360), (0, 150, 290, 210), (350, 150, 640, 210)]
    faces = _faces([(290, 150, 350, 210)] + ring, [29, 5, 6, 7, 8])
    texts = ["#1 29 y (25-34)"] + [label_text(faces, i) for i in range(1, 5)]
    place = layout(faces, (360, 640), texts, ["29", "5", "6", "7", "8"])[0]
    x, y, w, h = place.label
    assert place.text in ("29", "#1 29 y (25-34)") and 290 <= x and x + w <= 350 and 150 <= y and y + h <= 210


@pytest.mark.parametrize("size,n", [((640, 360), 2), ((2560, 1440), 30)])
def test_drawing_stays_inside_the_boxes_labels_and_charts_it_laid_out(size, n):
    w, h = size
    rng = np.random.default_rng(n)
    boxes = []
    while len(boxes) < n:
        s = rng.uniform(0.06, 0.2) * h
        x, y = rng.uniform(0, w - s), rng.uniform(0, h - s)
        if not any(_rects_overlap((x, y, x + s, y + s), b) for b in boxes):
            boxes.append((x, y, x + s, y + s))
    faces = _faces(boxes, rng.uniform(5, 80, n))
    places = layout(faces, (h, w), [label_text(faces, i) for i in range(n)])
    allowed = np.zeros((h, w), bool)
    for (x1, y1, x2, y2), p in zip(boxes, places):
        allowed[max(int(y1) - 4, 0):int(y2) + 5, max(int(x1) - 4, 0):int(x2) + 5] = True  # the box outline
        for rect in (p.label, p.bars):
            if rect is not None:
                x, y, rw, rh = rect
                allowed[y:y + rh, x:x + rw] = True
    for _ in range(2):  # the second time from the labels drawn before
        frame = np.zeros((h, w, 3), np.uint8)
        draw_faces(frame, faces)
        assert not frame.any(axis=2)[~allowed].any()
        assert sum(frame[y:y + rh, x:x + rw].any() for x, y, rw, rh in (p.label for p in places if p.label)) \
            == sum(p.label is not None for p in places)


def test_the_tallest_bar_is_the_age_bin_with_the_most_weight():
    frame = np.zeros((360, 640, 3), np.uint8)
    faces = _faces([(100, 100, 180, 180)], [45])  # two-point code: 0.5 on the 40 bin, 0.5 on the 50 bin
    dist = np.zeros((1, 12), np.float32)
    dist[0, 3], dist[0, 7] = 0.2, 0.8
    faces = faces.replace(dists_smoothed=dist)
    (place,) = layout(faces, frame.shape, [label_text(faces, 0)])
    draw_faces(frame, faces)
    x, y, w, h = place.bars
    lit_rows = (frame[y:y + h, x:x + w].sum(axis=2) > 0).sum(axis=0)  # lit pixels per column
    bar_w = (w - 13) // 12
    heights = [lit_rows[1 + k * (bar_w + 1):1 + k * (bar_w + 1) + bar_w].max() for k in range(12)]
    assert np.argmax(heights) == 7 and heights[3] < heights[7] / 2 and heights[0] <= 1
