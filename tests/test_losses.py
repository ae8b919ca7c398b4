"""The cascade loss (c3ae.training.losses)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from c3ae import twopoint
from c3ae.model.network import C3AE
from c3ae.training.losses import cascade_loss, consistency, interval_l1, kl_two_point, span_targets, two_point


def test_two_point_matches_numpy_encoding():
    ages = torch.tensor([0.0, 3.0, 10.0, 37.5, 109.9, 110.0])
    np.testing.assert_allclose(two_point(ages).numpy(), twopoint.encode(ages.numpy()), atol=1e-6)


def test_two_point_clamps_ages_beyond_the_bins():
    t = two_point(torch.tensor([116.0, -1.0]))
    assert t[0, -1] == pytest.approx(1.0) and t[1, 0] == pytest.approx(1.0)


def test_kl_is_zero_for_the_target_and_positive_otherwise():
    ages = torch.tensor([5.0, 42.0, 88.0])
    assert float(kl_two_point(two_point(ages), ages)) == pytest.approx(0.0, abs=1e-6)
    uniform = torch.full((3, 12), 1 / 12)
    assert float(kl_two_point(uniform, ages)) > 0.5


def test_cascade_loss_combines_kl_and_l1():
    ages = torch.tensor([20.0, 60.0])
    dist = torch.softmax(torch.randn(2, 12), 1)
    pred = torch.tensor([25.0, 50.0])
    loss, parts = cascade_loss(pred, dist, ages, alpha=10)
    assert parts["l1"] == pytest.approx(7.5)
    assert float(loss) == pytest.approx(7.5 + 10 * parts["kl"], rel=1e-5)
    l1_only, _ = cascade_loss(pred, dist, ages, alpha=0)
    assert float(l1_only) == pytest.approx(7.5)


def test_loss_trains_the_model():
    torch.manual_seed(0)
    model = C3AE(use_se=False, channels=8)
    crops = torch.randint(0, 256, (8, 3, 3, 64, 64), dtype=torch.uint8)
    ages = torch.linspace(5, 80, 8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        age, dist = model(crops)
        loss, _ = cascade_loss(age, dist, ages)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert all(p.grad is not None for p in model.to_dist.parameters())
    assert losses[-1] < losses[0]


def test_span_target_is_the_average_code_over_the_group():
    low, high = torch.tensor([10.0, 25.0]), torch.tensor([20.0, 25.0])
    t = span_targets(low, high)
    assert torch.allclose(t.sum(1), torch.ones(2))
    # the group 10-19 spreads over bins 10 and 20 (never 0 or 30); its mean is the group middle
    assert torch.allclose(t[0, 1:3], torch.tensor([0.5, 0.5])) and t[0, [0, 3]].abs().sum() < 1e-6
    assert torch.allclose(t @ torch.from_numpy(twopoint.BINS), torch.tensor([15.0, 25.0]), atol=1e-4)
    # an exact age (low == high) is its plain two-point code
    assert torch.allclose(t[1], two_point(torch.tensor([25.0]))[0])


def test_interval_l1_is_zero_inside_the_group_and_linear_outside():
    low, high = torch.full((4,), 10.0), torch.full((4,), 20.0)
    pred = torch.tensor([10.0, 19.0, 7.0, 26.0])
    assert torch.allclose(interval_l1(pred, low, high), torch.tensor([0.0, 0.0, 3.0, 6.0]))


def test_group_loss_does_not_pull_an_inside_prediction_to_the_middle():
    pred = torch.tensor([11.0], requires_grad=True)
    dist = torch.softmax(torch.zeros(1, len(twopoint.BINS)), 1)
    loss, parts = cascade_loss(pred, dist, torch.tensor([10.0]), alpha=0.0, high=torch.tensor([20.0]))
    loss.backward()
    assert parts["l1"] == 0 and float(pred.grad) == 0
    # the same prediction against the group's middle as an exact age would be pulled up
    pred.grad = None
    cascade_loss(pred, dist, torch.tensor([15.0]), alpha=0.0)[0].backward()
    assert float(pred.grad) < 0


def test_distill_loss_mixes_label_and_teacher():
    from c3ae.training.distill import distill_loss

    low = torch.tensor([30.0, 10.0])
    high = torch.tensor([30.0, 20.0])  # an exact age and a group [10, 20)
    t_dist = two_point(torch.tensor([34.0, 15.0]))
    t_age = torch.tensor([34.0, 15.0])
    age = torch.tensor([34.0, 15.0], requires_grad=True)
    dist = t_dist.clone().requires_grad_(True)
    # the student equals the teacher: only the label part is left, and the grouped face is inside its group
    loss, parts = distill_loss(age, dist, low, high, t_age, t_dist, alpha=10, weight=0.5)
    label, _ = cascade_loss(age, dist, low, 10, high=high)
    assert float(loss.detach()) == pytest.approx(0.5 * float(label.detach()), rel=1e-5)
    assert parts["soft_l1"] == pytest.approx(0.0) and parts["soft_kl"] == pytest.approx(0.0, abs=1e-6)
    only_teacher, _ = distill_loss(age, dist, low, high, t_age, t_dist, alpha=10, weight=1.0)
    assert float(only_teacher.detach()) == pytest.approx(0.0, abs=1e-5)


def test_teacher_age_is_clamped_into_a_group_but_not_for_exact_ages():
    from c3ae.training.distill import teacher_ages

    t = teacher_ages(torch.tensor([25.0, 8.0, 12.0]), torch.tensor([10.0, 10.0, 30.0]),
                     torch.tensor([20.0, 20.0, 30.0]))
    assert t.tolist() == [20.0, 10.0, 12.0]  # clamped, clamped, an exact label's teacher is kept


def test_ensemble_targets_average_members():
    from c3ae.training.distill import ensemble_predict

    torch.manual_seed(0)
    crops = torch.randint(0, 256, (4, 3, 3, 64, 64), dtype=torch.uint8)
    members = [C3AE(use_se=False).eval() for _ in range(2)]
    with torch.no_grad():
        outs = [m(crops) for m in members]
        age, dist = ensemble_predict(members, crops)
        same_age, same_dist = ensemble_predict([members[0], members[0]], crops)
    torch.testing.assert_close(age, (outs[0][0] + outs[1][0]) / 2)
    torch.testing.assert_close(dist.sum(1), torch.ones(4))
    torch.testing.assert_close(same_age, outs[0][0])
    torch.testing.assert_close(same_dist, outs[0][1])


def test_consistency_is_half_the_gap_between_two_cuts_and_pulls_them_together():
    ages = torch.tensor([30.0, 34.0, 10.0, 10.0], requires_grad=True)  # face 1: 4 y apart; face 2: agreeing
    term = consistency(ages, copies=2)
    assert term.item() == pytest.approx((2 + 2 + 0 + 0) / 4)
    term.backward()
    assert ages.grad[0] < 0 < ages.grad[1]  # descending the gradient moves 30 up and 34 down
    assert ages.grad[2] == 0 and ages.grad[3] == 0
    assert consistency(torch.tensor([5.0, 5.0, 5.0]), copies=3).item() == 0
