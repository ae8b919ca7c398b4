import numpy as np
import pytest
import torch
from synth import coordinate_frame, make_faces

from c3ae.crops.context import face_crops
from c3ae.errors import WeightsError
from c3ae.model.network import C3AE
from c3ae.model.runner import AgeEngine
from c3ae.model.weights import export, manifest_path


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("w") / "c3ae.pt"
    export(C3AE(use_se=False), path, trained=True, config={"use_se": False})
    return path


def test_batched_equals_one_by_one(exported):
    engine = AgeEngine(exported, device="cpu")
    crops = torch.randint(0, 256, (8, 3, 3, 64, 64), dtype=torch.uint8)
    ages, dists = engine.predict(crops)
    for i in range(8):
        a, d = engine.predict(crops[i:i + 1])
        np.testing.assert_allclose(a, ages[i:i + 1], rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(d, dists[i:i + 1], atol=1e-5)
    assert engine.trained and engine.device.type == "cpu"


def test_exported_weights_match_the_eager_model(exported):
    torch.manual_seed(3)
    eager = C3AE(use_se=False).eval()
    crops = torch.randint(0, 256, (4, 3, 3, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        want, _ = eager(crops)
    got, _ = AgeEngine(exported, device="cpu").predict(crops)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-3)


def test_predict_answers_every_face_of_a_frame_in_one_call(exported):
    engine = AgeEngine(exported, device="cpu")
    faces = make_faces([(100, 100, 180, 180), (300, 100, 380, 180)])
    ages, dists = engine.predict(face_crops(coordinate_frame(), faces))
    assert np.isfinite(ages).all() and dists.shape == (2, 12)
    ages, dists = engine.predict(face_crops(coordinate_frame(), faces[[]]))
    assert ages.shape == (0,) and dists.shape == (0, 12)


def test_without_weights_the_model_is_marked_untrained():
    engine = AgeEngine(None, device="cpu", warmup=False)
    assert engine.trained is False and "UNTRAINED" in engine.status


def test_corrupt_weights_are_a_clear_error(exported, tmp_path):
    bad = tmp_path / "c3ae.pt"
    data = bytearray(exported.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    manifest_path(bad).write_text(manifest_path(exported).read_text())
    with pytest.raises(WeightsError, match="corrupt"):
        AgeEngine(bad, device="cpu")


def test_missing_manifest_or_file_is_a_clear_error(exported, tmp_path):
    lone = tmp_path / "lone.pt"
    lone.write_bytes(exported.read_bytes())
    with pytest.raises(WeightsError, match="manifest"):
        AgeEngine(lone, device="cpu")
    with pytest.raises(WeightsError, match="does not exist"):
        AgeEngine(tmp_path / "nope.pt", device="cpu")


def test_cuda_request_without_cuda_is_a_clear_error(exported):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(WeightsError, match="CUDA"):
        AgeEngine(exported, device="cuda")


def test_a_crowd_larger_than_one_cpu_forward_gives_the_same_answers(tmp_path):
    torch.manual_seed(1)
    path = tmp_path / "w.pt"
    export(C3AE(use_se=False), path, trained=True, config={"use_se": False})
    engine = AgeEngine(path, device="cpu", warmup=False)
    crops = torch.randint(0, 256, (engine.max_faces * 2 + 3, 3, 3, 64, 64), dtype=torch.uint8)
    ages, dists = engine.predict(crops)
    assert ages.shape == (len(crops),) and dists.shape == (len(crops), 12)
    one_by_one = np.array([engine.predict(crops[i:i + 1])[0][0] for i in range(len(crops))])
    np.testing.assert_allclose(ages, one_by_one, rtol=1e-4, atol=1e-3)


def test_checking_the_weights_then_warming_up_freezes_the_model_once(exported, monkeypatch):
    frozen = []
    freeze = torch.jit.freeze
    monkeypatch.setattr(torch.jit, "freeze", lambda model: frozen.append(model) or freeze(model))
    engine = AgeEngine(exported, device="cpu", warmup=False)  # as annotate checks the weights first
    assert frozen == []
    engine.warm_up()
    assert len(frozen) == 1
    ages, _ = engine.predict(torch.zeros(1, 3, 3, 64, 64, dtype=torch.uint8))
    assert np.isfinite(ages).all() and len(frozen) == 1
