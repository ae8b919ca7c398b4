import numpy as np

from c3ae.engine.twopoint import encode
from c3ae.track.fusion import AgeFusion, age_band


def test_band_of_a_sharp_estimate_is_the_model_error_floor():
    age, low, high = age_band(encode(29.0))
    assert abs(age - 29) < 1e-4 and 23 < low < 26 and 32 < high < 35


def test_band_widens_with_disagreement_and_poor_quality():
    _, low, high = age_band(encode(30.0))
    mixed = (encode(20.0) + encode(40.0)) / 2
    _, mlow, mhigh = age_band(mixed)
    _, qlow, qhigh = age_band(encode(30.0), quality=0.25)
    assert mhigh - mlow > 1.5 * (high - low) and qhigh - qlow > 1.5 * (high - low)


def test_band_stays_within_the_bins():
    assert age_band(encode(1.0))[1] == 0.0 and age_band(encode(109.0))[2] == 110.0


def test_nothing_is_shown_until_min_frames_then_it_holds_inside_the_band():
    fusion = AgeFusion(decay=0.9, min_frames=4)
    rng = np.random.default_rng(0)
    shown = []
    for a in 40 + rng.normal(0, 3, 100):
        fusion.add(encode(a), 1.0)
        shown.append(fusion.shown)
    assert np.isnan(shown[:3]).all() and fusion.ready
    assert len(set(shown[20:])) <= 3  # a handful of values over 80 frames, not one per frame
    assert fusion.low <= fusion.shown <= fusion.high


def test_quality_weights_the_evidence_and_marks_doubt():
    fusion = AgeFusion(decay=1.0)
    for _ in range(10):
        fusion.add(encode(30.0), 1.0)
    for _ in range(10):
        fusion.add(encode(70.0), 0.1)  # weight 0.01 each
    assert abs(fusion.whole_track()[0] - 30) < 1 and not fusion.uncertain
    poor = AgeFusion()
    for _ in range(10):
        poor.add(encode(30.0), 0.1)
    assert poor.uncertain and poor.ready


def test_a_missing_estimate_is_skipped():
    fusion = AgeFusion(min_frames=1)
    fusion.add(np.full(12, np.nan), 1.0)
    assert fusion.frames == 0 and not fusion.ready and np.isnan(fusion.whole_track()[0])
