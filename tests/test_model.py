import io

import pytest
import torch

from c3ae.model.network import C3AE, count_parameters
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


def test_flip_average_is_the_mean_of_a_face_and_its_mirror():
    torch.manual_seed(0)
    plain = C3AE().eval()
    averaged = C3AE(flip_average=True).eval()
    averaged.load_state_dict(plain.state_dict())
    crops = torch.randint(0, 256, (4, 3, 3, 64, 64), dtype=torch.uint8)
    _, d = plain(crops)
    _, d_mirror = plain(crops.flip(-1))
    age, dist = averaged(crops)
    torch.testing.assert_close(dist, (d + d_mirror) / 2)
    torch.testing.assert_close(age, plain.to_age(dist).squeeze(1))
    # the same answer for a face and its mirror image, and from the scripted model
    age_m, _ = averaged(crops.flip(-1))
    torch.testing.assert_close(age_m, age, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(torch.jit.script(averaged)(crops)[0], age)
    averaged.train()  # training reads each crop once
    assert averaged(crops)[1].shape == (4, 12)
