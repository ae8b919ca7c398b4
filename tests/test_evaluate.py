"""`python -m c3ae.training.evaluate` on a handful of real faces in several file formats."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from c3ae.model.network import C3AE
from c3ae.model.weights import export
from c3ae.training import evaluate

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
UTK = DATASETS / "utkface"
AAF = DATASETS / "aaf-train"


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "c3ae.pt"
    export(C3AE(use_se=False), path, trained=True, config={"use_se": False})
    return path


@pytest.fixture
def mixed_folder(tmp_path):
    """Real UTKFace chips (read in place, written only to tmp_path) as JPEG, PNG,
    upper-case extension and greyscale, plus one image without a face."""
    files = sorted(UTK.glob("*.jpg"))[:4] if UTK.is_dir() else []
    if len(files) < 4:
        pytest.skip(f"needs real face images from {UTK} (absent on this machine)")
    folder = tmp_path / "faces"
    folder.mkdir()
    shutil.copy(files[0], folder / files[0].name)
    stem = lambda f: f.name.split(".")[0]  # noqa: E731
    cv2.imwrite(str(folder / f"{stem(files[1])}.png"), cv2.imread(str(files[1])))
    cv2.imwrite(str(folder / f"{stem(files[2])}.JPG"), cv2.imread(str(files[2])))
    cv2.imwrite(str(folder / f"{stem(files[3])} grey.png"), cv2.imread(str(files[3]), cv2.IMREAD_GRAYSCALE))
    cv2.imwrite(str(folder / "30_0_0_blank.png"), np.full((200, 200, 3), 128, np.uint8))
    return folder


def test_evaluate_utkface_names(mixed_folder, weights, tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert evaluate.main([str(mixed_folder), "--weights", str(weights), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["n_images"] == 5 and result["n_no_face"] == 1 and result["n_scored"] == 4
    assert result["no_face"][0].endswith("30_0_0_blank.png")
    assert np.isfinite(result["mae"]) and 0 <= result["cs5"] <= 1
    assert sum(d["n"] for d in result["per_decade"].values()) == 4
    assert all(set(d) >= {"n", "mae"} for d in result["per_decade"].values())
    assert out.with_suffix(".png").is_file()
    assert "overall" in capsys.readouterr().out


def test_evaluate_labels_csv(weights, tmp_path):
    files = sorted(AAF.glob("*.jpg"))[:2] if AAF.is_dir() else []
    if len(files) < 2:
        pytest.skip(f"needs real face images from {AAF} (absent on this machine)")
    folder = tmp_path / "csv"
    (folder / "sub").mkdir(parents=True)
    cv2.imwrite(str(folder / "sub" / "a one.PNG"), cv2.imread(str(files[0])))
    cv2.imwrite(str(folder / "b.jpeg"), cv2.imread(str(files[1]), cv2.IMREAD_GRAYSCALE))
    (tmp_path / "labels.csv").write_text("file,age\nsub/a one.PNG,2\nb.jpeg,3\n")
    out = tmp_path / "eval.json"
    assert evaluate.main([str(folder), "--labels", str(tmp_path / "labels.csv"), "--weights", str(weights),
                          "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["n_images"] == 2 and result["n_no_face"] == 0
    assert list(result["per_decade"]) == ["0-9"]


def test_evaluate_refuses_corrupt_weights(weights, tmp_path, capsys):
    folder = tmp_path / "one"
    folder.mkdir()
    cv2.imwrite(str(folder / "30_0_0_x.png"), np.zeros((50, 50, 3), np.uint8))
    bad = tmp_path / "bad" / "c3ae.pt"
    bad.parent.mkdir()
    shutil.copy(weights, bad)
    shutil.copy(weights.with_suffix(".json"), bad.with_suffix(".json"))
    data = bytearray(bad.read_bytes())
    data[100] ^= 0xFF
    bad.write_bytes(bytes(data))
    assert evaluate.main([str(folder), "--weights", str(bad)]) == 1
    assert "corrupt" in capsys.readouterr().err
