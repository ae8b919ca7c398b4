"""Age calibration against the pull toward the middle (c3ae.model.calibration, c3ae.training.calibrate)."""
import json

import numpy as np
import pytest
import torch

from c3ae.model.calibration import AgeCalibration, Calibrated
from c3ae.model.network import C3AE
from c3ae.model.runner import AgeEngine
from c3ae.model.weights import export
from c3ae.training.calibrate import bias_per_decade, cross_fitted, fit
from c3ae.twopoint import BINS, decode


def test_map_hits_the_knots_and_has_slope_one_outside():
    cal = AgeCalibration(np.array([10.0, 20.0, 50.0]), np.array([0.0, 20.0, 70.0]))
    ages = torch.tensor([10.0, 15.0, 20.0, 35.0, 50.0, 5.0, 60.0])
    out, _ = cal(ages, torch.softmax(torch.zeros(7, 12), 1))
    assert torch.allclose(out, torch.tensor([0.0, 10.0, 20.0, 45.0, 70.0, -5.0, 80.0]))
    assert np.allclose(cal.map_numpy(ages.numpy()), out.numpy())
    assert torch.allclose(cal.transport.sum(1), torch.ones(12))


def test_refuses_knots_that_are_not_increasing():
    with pytest.raises(ValueError):
        AgeCalibration(np.array([10.0, 10.0]), np.array([0.0, 5.0]))


def test_distribution_moves_with_the_age():
    cal = AgeCalibration(np.array([0.0, 110.0]), np.array([10.0, 120.0]))  # everything 10 years older
    dist = torch.zeros(1, 12)
    dist[0, 3] = 1.0  # all mass at 30
    _, moved = cal(torch.tensor([30.0]), dist)
    assert decode(moved.numpy())[0] == pytest.approx(40.0)


def test_fit_removes_a_shrinkage_bias_on_faces_it_was_not_fitted_on():
    rng = np.random.default_rng(0)
    true = rng.uniform(1, 80, 6000)
    pred = 0.65 * true + 12 + rng.normal(0, 3, true.shape)  # young read old, old read young
    before = bias_per_decade(pred, true)
    after = bias_per_decade(cross_fitted(pred, true, rng.random(len(true)) < 0.5), true)
    assert max(abs(before["0-9"]), abs(before["70-79"])) > 8
    assert all(abs(v) < 1.5 for v in after.values())
    x, y = fit(pred, true)
    assert (np.diff(x) > 0).all() and y[0] == 0


def test_calibrated_weights_load_in_the_engine(tmp_path):
    model = C3AE(channels=8, use_se=False).eval()
    cal = AgeCalibration(np.array([0.0, 50.0, 100.0]), np.array([0.0, 60.0, 110.0]))
    export(model, tmp_path / "plain.pt", trained=True, config={})
    export(Calibrated(model, cal), tmp_path / "cal.pt", trained=True, config={})
    crops = torch.randint(0, 256, (4, 3, 3, 64, 64), dtype=torch.uint8)
    plain, _ = AgeEngine(tmp_path / "plain.pt", device="cpu", warmup=False).predict(crops)
    ages, dists = AgeEngine(tmp_path / "cal.pt", device="cpu", warmup=False).predict(crops)
    np.testing.assert_allclose(ages, cal.map_numpy(plain), atol=1e-3)
    assert dists.shape == (4, len(BINS))
    assert json.loads((tmp_path / "cal.json").read_text())["trained"] is True
