"""The C3AE cascade loss, for exact ages and for age groups (intervals).

Exact age y: alpha * KL(two-point(y) || predicted distribution) + |age - y|,
the loss of the paper. The two-point target of y puts mass on the two bins
around y (see `c3ae.twopoint`); the KL term trains the distribution layer,
the L1 term the whole cascade down to the regressed age.

Group label [low, high) (FairFace's apparent-age groups): every age in the
group is equally likely, so the distribution target is the two-point code
AVERAGED over the group (the code is linear between bins, so this is the exact
expectation, computed on a fine grid), and the L1 term becomes the distance
from the predicted age to the interval: zero anywhere inside the group. A
group is therefore never pulled to its middle by the age term, which is what
pushed teenagers to the 20s when a group's middle was used as a label.
An exact age is the interval with low == high, so one code path serves both.

Ages outside the bin range (UTKFace goes to 116) are clamped for the KL
target only; the L1 term sees the true age. alpha = 0 gives plain L1.
"""
from __future__ import annotations

import torch

from c3ae.twopoint import BIN_WIDTH, BINS, MAX_AGE, MIN_AGE

DEFAULT_ALPHA = 10.0
SPAN_GRID = 32  # ages sampled evenly inside a group for its averaged target


def two_point(ages: torch.Tensor) -> torch.Tensor:
    """Ages (N,) -> two-point targets (N, 12), torch version of `twopoint.encode`."""
    y = ages.float().clamp(MIN_AGE, MAX_AGE)
    pos = (y - MIN_AGE) / BIN_WIDTH
    lower = pos.floor().long().clamp(max=len(BINS) - 2)
    upper_w = pos - lower.float()
    out = torch.zeros(y.shape[0], len(BINS), dtype=torch.float32, device=ages.device)
    out.scatter_(1, lower[:, None], (1.0 - upper_w)[:, None])
    out.scatter_add_(1, lower[:, None] + 1, upper_w[:, None])
    return out


def span_targets(low: torch.Tensor, high: torch.Tensor, grid: int = SPAN_GRID) -> torch.Tensor:
    """Intervals [low, high) (N,) -> the two-point code averaged over each interval (N, 12).

    Where low == high this is exactly `two_point(low)`."""
    low, high = low.float(), high.float()
    t = (torch.arange(grid, device=low.device, dtype=torch.float32) + 0.5) / grid
    ages = low[:, None] + (high - low)[:, None] * t[None, :]
    return two_point(ages.reshape(-1)).reshape(len(low), grid, len(BINS)).mean(dim=1)


def kl_to_target(dist: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Mean over the batch of KL(target || dist); 0 * log 0 counts as 0."""
    terms = torch.where(target > 0, target * (torch.log(target.clamp_min(eps)) - torch.log(dist.clamp_min(eps))),
                        torch.zeros_like(target))
    return terms.sum(dim=1).mean()


def kl_two_point(dist: torch.Tensor, ages: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Mean over the batch of KL(two-point(ages) || dist)."""
    return kl_to_target(dist, two_point(ages), eps)


def interval_l1(age_pred: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Per-sample distance from the predicted age to [low, high]; |pred - y| when low == high."""
    return torch.relu(low - age_pred) + torch.relu(age_pred - high)


def cascade_loss(age_pred: torch.Tensor, dist_pred: torch.Tensor, ages: torch.Tensor,
                 alpha: float = DEFAULT_ALPHA, high: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, dict[str, float]]:
    """(loss, {'kl': ..., 'l1': ...}) for a batch; alpha = 0 is L1 only.

    `ages` are exact ages, or the lower ends of group intervals whose upper ends
    are `high` (equal to `ages` for the exact ones)."""
    low = ages.float()
    high = low if high is None else high.float()
    l1 = interval_l1(age_pred, low, high).mean()
    kl = kl_to_target(dist_pred, span_targets(low, high))
    loss = l1 + alpha * kl if alpha else l1
    return loss, {"kl": float(kl.detach()), "l1": float(l1.detach())}


def consistency(age_pred: torch.Tensor, copies: int) -> torch.Tensor:
    """Mean absolute distance of each copy's age from its face's mean age.

    `age_pred` holds `copies` differently augmented cuts of each face next to one
    another; the term pulls them together, so that what changes between video
    frames (light, blur, a few pixels of box) moves the age less."""
    per_face = age_pred.reshape(-1, copies)
    return (per_face - per_face.mean(dim=1, keepdim=True)).abs().mean()
