import numpy as np
import pytest

from c3ae.twopoint import BINS, decode, encode


def test_round_trip_every_integer_and_fractional_age():
    ages = np.concatenate([np.arange(0, 111), np.linspace(0, 110, 997)])
    dists = encode(ages)
    assert dists.shape == (len(ages), 12)
    np.testing.assert_allclose(decode(dists), ages, atol=1e-4)
    np.testing.assert_allclose(dists.sum(1), 1.0, atol=1e-6)


def test_mass_sits_on_the_two_neighbouring_bins():
    d = encode(np.array([37.0, 40.0, 110.0]))
    assert np.count_nonzero(d[0]) == 2 and d[0, 3] == pytest.approx(0.3) and d[0, 4] == pytest.approx(0.7)
    assert d[1, 4] == pytest.approx(1.0) and np.count_nonzero(d[1]) == 1
    assert d[2, 11] == pytest.approx(1.0)


def test_vectorised_over_any_shape():
    ages = np.array([[3.0, 55.5], [99.0, 0.0]])
    assert encode(ages).shape == (2, 2, 12)
    np.testing.assert_allclose(decode(encode(ages)), ages, atol=1e-4)


def test_out_of_range_ages_are_clamped_with_a_warning():
    with pytest.warns(UserWarning, match="2 age"):
        d = encode(np.array([-5.0, 130.0, 50.0]))
    np.testing.assert_allclose(decode(d), [0.0, 110.0, 50.0], atol=1e-4)


def test_bins():
    assert BINS.tolist() == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]
