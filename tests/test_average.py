"""Weight averaging: the mean of the weights, and BatchNorm statistics measured under them."""
from __future__ import annotations

import torch

from c3ae.engine.model import C3AE
from c3ae.training.average import average_states, refresh_batchnorm


def test_the_average_of_two_states_is_their_mean_and_keeps_the_batch_counter() -> None:
    a, b = C3AE(use_se=False).state_dict(), C3AE(use_se=False).state_dict()
    b = {k: v + 2.0 if v.is_floating_point() else v + 5 for k, v in b.items()}
    mean = average_states([a, b])
    key = "to_dist.weight"
    assert torch.allclose(mean[key], 0.5 * (a[key] + b[key]))
    counter = "stem.0.1.num_batches_tracked"
    assert mean[counter].dtype == torch.long and int(mean[counter]) == int(b[counter])


def test_refreshed_batchnorm_holds_the_statistics_of_the_given_batches() -> None:
    torch.manual_seed(0)
    model = C3AE(use_se=False)
    first = model.stem[0][1]
    first.running_mean.fill_(50.0)  # stale statistics from other weights
    batches = [torch.randint(0, 255, (8, 3, 3, 64, 64), dtype=torch.uint8) for _ in range(3)]
    model.eval()
    refresh_batchnorm(model, batches)
    assert not model.training and first.momentum == 0.1
    with torch.no_grad():  # the first conv's outputs over all batches: their per-channel mean
        x = torch.cat(batches).reshape(-1, 3, 64, 64).float()
        conv = model.stem[0][0]((x - 127.5) / 64.0)
    expected = conv.mean(dim=(0, 2, 3))
    assert torch.allclose(first.running_mean, expected, atol=1e-4)
