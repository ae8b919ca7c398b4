"""The C3AE cascade loss: alpha * KL(two-point target || predicted distribution) + L1(age).

The two-point target of an age y puts mass on the two bins around y (see
`c3ae.twopoint`); the KL term trains the distribution layer, the L1 term the
whole cascade down to the regressed age. alpha = 0 gives plain L1 regression
(the ablation). Ages outside the bin range (UTKFace goes to 116) are clamped
for the KL target only; the L1 term sees the true age.
"""
from __future__ import annotations

import torch

from .twopoint import BIN_WIDTH, BINS, MAX_AGE, MIN_AGE

DEFAULT_ALPHA = 10.0


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


def kl_two_point(dist: torch.Tensor, ages: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Mean over the batch of KL(target || dist); 0 * log 0 counts as 0."""
    target = two_point(ages)
    terms = torch.where(target > 0, target * (torch.log(target.clamp_min(eps)) - torch.log(dist.clamp_min(eps))),
                        torch.zeros_like(target))
    return terms.sum(dim=1).mean()


def cascade_loss(age_pred: torch.Tensor, dist_pred: torch.Tensor, ages: torch.Tensor,
                 alpha: float = DEFAULT_ALPHA) -> tuple[torch.Tensor, dict[str, float]]:
    """(loss, {'kl': ..., 'l1': ...}) for a batch; alpha = 0 is L1 only."""
    ages = ages.float()
    l1 = (age_pred - ages).abs().mean()
    kl = kl_two_point(dist_pred, ages)
    loss = l1 + alpha * kl if alpha else l1
    return loss, {"kl": float(kl.detach()), "l1": float(l1.detach())}
