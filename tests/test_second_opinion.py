import numpy as np

from c3ae.training.second_opinion import Gate, fit_gate, passes, scores


def test_the_gate_leaves_children_and_the_old_alone_and_blends_adults():
    gate = Gate(low=25, high=60, weight=0.5)
    ours, ssr = np.array([8.0, 40.0, 75.0]), np.array([20.0, 50.0, 60.0])
    np.testing.assert_allclose(gate(ours, ssr), [8.0, 45.0, 75.0])
    assert Gate(25, 60, 0.5, disagree=5)(ours, ssr)[1] == 40.0  # they disagree too much: ours alone


def _data(n: int, seed: int) -> dict[str, np.ndarray]:
    """Ours reads adults 4 years young; the other model reads adults right and children 11 years old."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(1, 70, n)
    ours = age + rng.normal(0, 3, n) - 4 * ((age > 25) & (age < 60))
    ssr = age + rng.normal(0, 3, n) + 11 * (age < 20)
    low = np.where(np.arange(n) % 2 == 0, np.nan, np.floor(age / 10) * 10)  # half have group labels
    return {"age": age, "low": low, "high": low + 10, "ours": ours, "ssr": ssr, "dataset": np.full(n, "x")}


def test_a_gate_fitted_on_validation_helps_adults_without_hurting_anyone():
    val = _data(3000, 0)
    gate, tried = fit_gate(val)
    assert gate.weight > 0 and gate.low >= 20 and len(tried) > 100
    assert passes(scores(val["ours"], val), scores(gate(val["ours"], val["ssr"]), val))
    test = _data(3000, 1)  # people the fit never saw: better, children untouched
    base, gated = scores(test["ours"], test), scores(gate(test["ours"], test["ssr"]), test)
    assert gated["mae"] < base["mae"] - 0.15 and gated["groups"]["0-9"] == base["groups"]["0-9"]


def test_the_rule_refuses_a_blend_that_hurts_a_group():
    data = _data(3000, 2)
    base = scores(data["ours"], data)
    plain = scores(0.5 * data["ours"] + 0.5 * data["ssr"], data)  # children read older
    assert not passes(base, plain)
