import json

import numpy as np
from synth import make_faces

from c3ae.track.quality import frame_sharpness
from c3ae.track.uncertainty import (
    FEATURES,
    ErrorModel,
    distribution_terms,
    fit_band_scale,
    fit_frame_error,
    frame_factors,
)
from c3ae.twopoint import encode


def test_distribution_terms_tell_a_sure_answer_from_a_torn_one():
    sure = encode(np.array([30.0]))
    torn = (encode(np.array([20.0])) + encode(np.array([60.0]))) / 2
    (s_spread, s_gap, s_entropy), (t_spread, t_gap, t_entropy) = distribution_terms(np.vstack([sure, torn]))
    assert s_spread < 1e-6 and t_spread > 15
    assert s_gap > t_gap and s_entropy < t_entropy


def test_frame_factors_have_one_row_per_face_and_a_neutral_sharpness_without_crops():
    faces = make_faces([(100, 100, 180, 180), (300, 100, 330, 130)])
    faces = faces.replace(ages=np.float32([30, 60]), dists=encode(np.float32([30, 60])))
    x = frame_factors(faces)
    assert x.shape == (2, len(FEATURES)) and np.isfinite(x).all()
    col = {name: x[:, k] for k, name in enumerate(FEATURES)}
    assert (col["relative_sharpness"] == 0).all() and col["small_face"][0] == 0 and col["small_face"][1] > 0
    assert np.allclose(col["age"], [3.0, 6.0])


def test_a_softer_face_than_its_frame_reads_less_sharp():
    faces = make_faces([(100, 100, 180, 180)])
    faces = faces.replace(ages=np.float32([30]), dists=encode(np.float32([30])))
    rng = np.random.default_rng(0)
    frame_sharp = frame_sharpness(rng.integers(0, 255, (360, 640, 3)).astype(np.uint8))  # a sharp frame
    sharp = frame_factors(faces, np.array([5000.0]), frame_sharp)
    soft = frame_factors(faces, np.array([50.0]), frame_sharp)
    k = FEATURES.index("relative_sharpness")
    assert soft[0, k] < sharp[0, k]


def test_the_fitted_error_follows_the_factors_that_drive_it():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (2000, len(FEATURES)))
    truth = 6 + 2 * x[:, 0] - 1.5 * x[:, 4]
    errors = np.abs(truth + rng.normal(0, 1, len(x)))
    intercept, coef = fit_frame_error(x, errors)
    assert abs(intercept - 6) < 0.3 and abs(coef[0] - 2) < 0.2 and abs(coef[4] + 1.5) < 0.2
    assert max(abs(c) for k, c in enumerate(coef) if k not in (0, 4)) < 0.2


def test_the_band_scale_holds_eight_in_ten_true_ages_of_new_people():
    def people(seed: int, n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        ages = rng.uniform(2, 80, n)
        error = rng.uniform(2, 10, n)  # each person's expected |error|
        fused = ages + rng.normal(0.5, 1, n) * error * 1.25  # a little bias too
        return fused, error, ages

    low, high = fit_band_scale(*people(0))
    fused, error, ages = people(1)
    model = ErrorModel(low=low, high=high)
    bands = np.array([model.band(f, e) for f, e in zip(fused, error)])
    assert 0.75 <= np.mean((bands[:, 0] <= ages) & (ages <= bands[:, 1])) <= 0.85
    assert low < 0 < high and abs(low) > abs(high)  # fused ages read old: the band reaches further down


def test_the_model_file_round_trips_and_defaults_where_absent(tmp_path):
    model = ErrorModel(4.0, tuple(float(k) / 10 for k in range(len(FEATURES))), 5.5, -1.1, 1.4, 30.0)
    path = tmp_path / "uncertainty.json"
    path.write_text(json.dumps({**model.to_json(), "fitted_on": "test"}))
    assert ErrorModel.load(path) == model and ErrorModel.load(tmp_path / "absent.json") == ErrorModel()
    assert model.frame_error(np.zeros((2, len(FEATURES)))).tolist() == [4.0, 4.0]
    assert ErrorModel(intercept=-3.0).frame_error(np.zeros((1, len(FEATURES))))[0] == 1.0  # never below the floor
    scaled = ErrorModel(float(np.log(7.0)), model.coef, 5.5, -1.1, 1.4, 30.0, log_scale=True)
    path.write_text(json.dumps(scaled.to_json()))
    assert ErrorModel.load(path) == scaled
    assert np.isclose(scaled.frame_error(np.zeros((1, len(FEATURES))))[0], 6.0)  # exp(line) - 1
