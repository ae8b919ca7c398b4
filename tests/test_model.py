import io

import pytest
import torch

from c3ae.model import C3AE, count_parameters
from c3ae.twopoint import BINS


@pytest.mark.parametrize("use_se", [False, True])
def test_outputs_and_size_limits(use_se):
    model = C3AE(use_se=use_se).eval()
    crops = torch.randint(0, 256, (5, 3, 3, 64, 64), dtype=torch.uint8)
    age, dist = model(crops)
    assert age.shape == (5,) and dist.shape == (5, 12)
    torch.testing.assert_close(dist.sum(1), torch.ones(5))
    assert count_parameters(model) <= 60_000
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(model), buf)
    assert len(buf.getvalue()) <= 0.3 * 1024 * 1024


def test_plain_model_is_smaller_than_se_model():
    assert count_parameters(C3AE(use_se=False)) < count_parameters(C3AE(use_se=True))


def test_cascade_starts_as_expectation_over_bins():
    model = C3AE().eval()
    age, dist = model(torch.rand(3, 3, 3, 64, 64) * 255)
    torch.testing.assert_close(age, dist @ torch.from_numpy(BINS), rtol=1e-5, atol=1e-4)


def test_features_are_three_times_4x4x32():
    model = C3AE().eval()
    assert model.forward_features(torch.zeros(2, 3, 3, 64, 64)).shape == (2, 1536)
    one_crop = C3AE(n_crops=1).eval()
    assert one_crop.forward_features(torch.zeros(2, 1, 3, 64, 64)).shape == (2, 512)
