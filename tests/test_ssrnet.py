"""The SSR-Net port against an independent numpy forward of the Keras model, on a tiny
h5 written here (random weights in the Keras layout, channels last throughout)."""
import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="h5py is a training-only dependency (requirements-training.txt)")

from c3ae.training.ssrnet import load_h5, predict, ssr_crop  # noqa: E402

# Keras layer -> kernel shape, as SSR_net(64, [3, 3, 3], 1, 1) builds it
CONVS = {1: (3, 3, 3, 32), 2: (3, 3, 32, 32), 3: (3, 3, 32, 32), 4: (3, 3, 32, 32), 5: (3, 3, 3, 16),
         6: (3, 3, 16, 16), 7: (3, 3, 16, 16), 8: (3, 3, 16, 16), 9: (1, 1, 16, 10), 10: (1, 1, 32, 10),
         11: (1, 1, 16, 10), 12: (1, 1, 32, 10), 13: (1, 1, 16, 10), 14: (1, 1, 32, 10)}
DENSES = {"dense_1": (160, 3), "dense_2": (160, 3), "delta_s1": (160, 1), "dense_3": (3, 6),
          "pred_age_stage1": (6, 3), "local_delta_stage1": (6, 3),
          "dense_4": (90, 3), "dense_5": (90, 3), "delta_s2": (90, 1), "dense_6": (3, 6),
          "pred_age_stage2": (6, 3), "local_delta_stage2": (6, 3),
          "dense_7": (90, 3), "dense_8": (90, 3), "delta_s3": (90, 1), "dense_9": (3, 6),
          "pred_age_stage3": (6, 3), "local_delta_stage3": (6, 3)}


def _write_h5(path, rng) -> dict:
    weights = {}

    def put(f, layer, name, value):
        f.require_group(layer).require_group(layer).create_dataset(f"{name}:0", data=value.astype(np.float32))
        weights[(layer, name)] = value.astype(np.float32)

    with h5py.File(path, "w") as f:
        for i, shape in CONVS.items():
            put(f, f"conv2d_{i}", "kernel", rng.normal(0, 0.3 / np.sqrt(np.prod(shape[:3])), shape))
            put(f, f"conv2d_{i}", "bias", rng.normal(0, 0.05, shape[3]))
        for i in range(1, 9):
            n = 32 if i <= 4 else 16
            put(f, f"batch_normalization_{i}", "gamma", rng.uniform(0.5, 1.5, n))
            put(f, f"batch_normalization_{i}", "beta", rng.normal(0, 0.1, n))
            put(f, f"batch_normalization_{i}", "moving_mean", rng.normal(0, 20 if i in (1, 5) else 0.2, n))
            var = rng.uniform(0.5, 2.0, n) * (900 if i in (1, 5) else 1)
            var[:4] = 1e-3  # where Keras' eps (1e-3, not torch's 1e-5) matters
            put(f, f"batch_normalization_{i}", "moving_variance", var)
        for layer, shape in DENSES.items():
            put(f, layer, "kernel", rng.normal(0, 1.0 / np.sqrt(shape[0]), shape))
            put(f, layer, "bias", rng.normal(0, 0.1, shape[1]) + (0.3 if layer.startswith("pred") else 0))
    return weights


def _numpy_forward(w: dict, image: np.ndarray) -> np.ndarray:
    """Keras semantics on (N, H, W, C) float images."""
    def conv(x, i):
        k, b = w[(f"conv2d_{i}", "kernel")], w[(f"conv2d_{i}", "bias")]
        win = np.lib.stride_tricks.sliding_window_view(x, k.shape[:2], axis=(1, 2))  # N, H', W', C, kh, kw
        return np.einsum("nhwcij,ijco->nhwo", win, k) + b

    def bn(x, i):
        g = lambda n: w[(f"batch_normalization_{i}", n)]  # noqa: E731
        return g("gamma") * (x - g("moving_mean")) / np.sqrt(g("moving_variance") + 1e-3) + g("beta")

    def pool(x, k, op):
        n, h, wd, c = x.shape
        x = x[:, :h // k * k, :wd // k * k].reshape(n, h // k, k, wd // k, k, c)
        return op(op(x, axis=4), axis=2)

    def dense(x, layer):
        return x @ w[(layer, "kernel")] + w[(layer, "bias")]

    relu, tanh, avg, mx = (lambda v: np.maximum(v, 0)), np.tanh, np.mean, np.max
    def stream(first: int, act, op) -> tuple:
        """Four conv-BN blocks (layers first..first+3), each of the first three pooled by `op`."""
        pooled, v = [], image
        for k in range(4):
            v = act(bn(conv(v, first + k), first + k))
            if k < 3:
                v = pool(v, 2, op)
                pooled.append(v)
        return v, pooled

    x, (x1, x2, _) = stream(1, relu, avg)
    s, (s1, s2, _) = stream(5, tanh, mx)
    flat = lambda v: v.reshape(len(v), -1)  # noqa: E731
    feeds = [(flat(relu(conv(s, 9))), flat(relu(conv(x, 10))), ("dense_1", "dense_2", "delta_s1", "dense_3"), 1),
             (flat(pool(relu(conv(s2, 11)), 4, mx)), flat(pool(relu(conv(x2, 12)), 4, avg)),
              ("dense_4", "dense_5", "delta_s2", "dense_6"), 2),
             (flat(pool(relu(conv(s1, 13)), 8, mx)), flat(pool(relu(conv(x1, 14)), 8, avg)),
              ("dense_7", "dense_8", "delta_s3", "dense_9"), 3)]
    age, scale = 0.0, 1.0
    for s_f, x_f, (sm, xm, dl, ft), k in feeds:
        delta = tanh(dense(s_f * x_f, dl))[:, 0]
        feat = relu(dense(relu(dense(s_f, sm)) * relu(dense(x_f, xm)), ft))
        pred, local = relu(dense(feat, f"pred_age_stage{k}")), tanh(dense(feat, f"local_delta_stage{k}"))
        scale = scale * 3 * (1 + delta)
        age = age + ((np.arange(3) + local) * pred).sum(axis=1) / scale
    return age * 101


def test_the_port_matches_a_numpy_forward_of_the_keras_model(tmp_path):
    rng = np.random.default_rng(0)
    weights = _write_h5(tmp_path / "tiny.h5", rng)
    images = rng.integers(0, 256, (3, 64, 64, 3)).astype(np.uint8)
    ours = predict(load_h5(tmp_path / "tiny.h5"), images)
    reference = _numpy_forward(weights, images.astype(np.float64))
    assert np.abs(reference).max() > 1  # the weights reach the output
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-3)


def test_the_crop_is_the_box_plus_four_tenths_padded_with_black():
    image = np.full((100, 100, 3), 200, np.uint8)
    crop = ssr_crop(image, np.array([0, 20, 50, 70]))  # 20 px beyond the left edge: black
    assert crop.shape == (64, 64, 3)
    assert crop[:, :8].max() == 0 and crop[:, 30:].min() == 200
