import numpy as np

from c3ae.track.fusion import HOLD, WINDOW, AgeFusion, weighted_median
from c3ae.track.uncertainty import ErrorModel
from c3ae.twopoint import encode


def test_nothing_is_shown_until_min_frames_then_the_shown_age_converges_and_stays():
    fusion = AgeFusion(min_frames=4)
    rng = np.random.default_rng(0)
    shown = []
    for a in 40 + rng.normal(0, 4, 120):
        fusion.add(encode(a), 1.0)
        shown.append(fusion.shown)
    shown = np.array(shown)
    assert np.isnan(shown[:3]).all() and fusion.ready
    settled = shown[3 + 15:]
    assert np.percentile(settled, 90) - np.percentile(settled, 10) <= 3.0
    assert len(set(settled)) <= 15  # a handful of values, not one per frame
    assert abs(fusion.shown - fusion.age) <= HOLD and fusion.low <= fusion.shown <= fusion.high


def test_a_first_guess_does_not_stay_once_better_frames_disagree():
    fusion = AgeFusion(min_frames=5)
    for _ in range(5):  # the singer: a poor start says 52
        fusion.add(encode(52.0), 0.4)
    assert abs(fusion.shown - 52) < 1
    for _ in range(60):  # then a steady, lit close-up says 36
        fusion.add(encode(36.0), 1.0)
    assert abs(fusion.shown - 36) < 1 and abs(fusion.shown - fusion.age) <= HOLD


def test_quality_weights_the_evidence():
    fusion = AgeFusion()
    for _ in range(10):
        fusion.add(encode(30.0), 1.0)
    for _ in range(10):
        fusion.add(encode(70.0), 0.1)
    assert abs(fusion.age - 30) < 1


def test_the_band_is_the_tracks_expected_error_scaled_and_says_question_mark_only_when_it_says_little():
    model = ErrorModel(low=-1.0, high=1.5, readable_px=30.0)
    fusion = AgeFusion(model=model)
    for e in [4.0] * 8 + [100.0] * 3:  # a few frames the model could not read do not widen it
        fusion.add(encode(40.0), 1.0, error=e, size=80.0)
    assert fusion.error == 4.0 and np.allclose(fusion.fused_band(), (36.0, 46.0))
    assert not fusion.uncertain and fusion.low == 36.0
    wide = AgeFusion(model=model)
    for _ in range(8):
        wide.add(encode(40.0), 1.0, error=15.0, size=80.0)  # a band of 37.5 years says little
    assert wide.uncertain and wide.ready and np.isnan(wide.low) and np.isnan(wide.high)
    assert np.isfinite(wide.fused_band()).all()  # still known, for the benchmark; only not shown
    small = AgeFusion(model=model)
    for _ in range(8):
        small.add(encode(40.0), 1.0, error=4.0, size=20.0)
    assert small.uncertain


def test_the_chart_follows_recent_frames_while_the_age_keeps_the_whole_track():
    fusion = AgeFusion(decay=0.5)
    for a in [20.0] * 10 + [40.0] * 3:
        fusion.add(encode(a), 1.0)
    recent_age = float(fusion.recent @ np.arange(12) * 10)
    assert recent_age > 35 and fusion.age < 26


def test_a_missing_estimate_is_skipped():
    fusion = AgeFusion(min_frames=1)
    fusion.add(np.full(12, np.nan), 1.0)
    assert fusion.frames == 0 and not fusion.ready and np.isnan(fusion.age)


def test_weighted_median_is_the_value_holding_half_the_weight():
    assert weighted_median([10, 20, 30], [1, 1, 1]) == 20
    assert weighted_median([10, 20, 30], [1, 1, 5]) == 30
    assert np.isnan(weighted_median([], []))


def test_one_confident_early_reading_does_not_hold_the_shown_age():
    """The singer: a sharp, frontal first second says 51; the rest of the shot,
    seen a little less well (stage light), says 36. The shown age goes to 36."""
    fusion = AgeFusion(min_frames=5)
    rng = np.random.default_rng(3)
    for a in 51 + rng.normal(0, 1, 10):
        fusion.add(encode(a), 1.0)
    assert abs(fusion.shown - 51) < 2
    for a in 36 + rng.normal(0, 3, WINDOW + 5):
        fusion.add(encode(a), 0.5)
    assert abs(fusion.shown - 36) <= 2


def test_after_a_second_the_shown_age_sits_within_two_years_of_that_seconds_weighted_median():
    """Evidence that drifts (light, pose, distance change within a shot), with mixed quality."""
    fusion = AgeFusion(min_frames=5)
    rng = np.random.default_rng(4)
    n = 200
    truth = np.concatenate([np.full(60, 50.0), np.linspace(50, 32, 80), np.full(60, 32.0)])
    ages = truth + rng.normal(0, 4, n)
    quality = rng.uniform(0.2, 1.0, n)
    gaps = []
    for t in range(n):
        fusion.add(encode(ages[t]), quality[t])
        if t + 1 >= WINDOW:
            last = slice(t + 1 - WINDOW, t + 1)
            gaps.append(abs(fusion.shown - weighted_median(ages[last], quality[last] ** 2)))
    assert max(gaps) <= 2.0


def test_a_steady_face_does_not_flicker():
    fusion = AgeFusion(min_frames=5)
    rng = np.random.default_rng(5)
    shown = []
    for a, q in zip(40 + rng.normal(0, 5, 250), rng.uniform(0.3, 1.0, 250)):
        fusion.add(encode(a), q)
        shown.append(fusion.shown)
    settled = np.array(shown[WINDOW:])
    assert np.percentile(settled, 90) - np.percentile(settled, 10) <= 3.0
    assert np.mean(np.diff(settled) != 0) < 0.25  # it changes on fewer than a frame in four


def test_evidence_that_swings_between_two_readings_moves_the_label_by_less_than_the_swing():
    """A steady face whose frames read 37.3 for a second, then 43.3, then 37.3 ...: the
    label is a whole year, stays within HOLD of the last second, and moves only by
    the swing less twice the hold."""
    fusion = AgeFusion(min_frames=5)
    shown, gaps = [], []
    ages = np.tile(np.repeat([37.3, 43.3], WINDOW), 4)
    for t, a in enumerate(ages):
        fusion.add(encode(a), 1.0)
        shown.append(fusion.shown)
        if t + 1 >= WINDOW:
            gaps.append(abs(fusion.shown - fusion.age))
    settled = np.array(shown[2 * WINDOW:])  # from the first swing on
    assert np.all(settled == np.round(settled))
    assert max(gaps) <= HOLD
    assert settled.max() - settled.min() <= 6 - 2 * HOLD + 1  # whole years: the edge rounds inward
