"""The shipped weights: size, manifest, and the checksum failure path."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from c3ae.errors import WeightsError
from c3ae.model.runner import DEFAULT_WEIGHTS, AgeEngine
from c3ae.model.weights import manifest_path, sha256_file

SHIPPED = DEFAULT_WEIGHTS


@pytest.fixture
def shipped():
    if not SHIPPED.is_file():
        pytest.skip(f"{SHIPPED} is not present")
    return SHIPPED


def _copy(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / src.name
    shutil.copy(src, dst)
    shutil.copy(manifest_path(src), manifest_path(dst))
    return dst


def test_shipped_weights_are_small_trained_and_verified(shipped):
    manifest = json.loads(manifest_path(shipped).read_text())
    assert manifest["trained"] is True
    assert manifest["sha256"] == sha256_file(shipped)
    assert shipped.stat().st_size <= 300_000
    engine = AgeEngine(shipped, device="cpu", warmup=False)
    assert engine.trained
    params = sum(p.numel() for p in torch.jit.load(str(shipped)).parameters())
    assert params <= 60_000
    card = (shipped.parent / "MODEL_CARD.md").read_text()
    assert manifest["sha256"] in card


def test_flipped_byte_is_a_clear_error(shipped, tmp_path):
    copy = _copy(shipped, tmp_path)
    data = bytearray(copy.read_bytes())
    data[len(data) // 3] ^= 0x01
    copy.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"corrupt or was replaced.*sha256"):
        AgeEngine(copy, device="cpu")


def test_truncated_file_is_a_clear_error(shipped, tmp_path):
    copy = _copy(shipped, tmp_path)
    copy.write_bytes(copy.read_bytes()[:1000])
    with pytest.raises(WeightsError, match="corrupt"):
        AgeEngine(copy, device="cpu")


def test_manifest_hash_of_garbage_is_not_loadable(shipped, tmp_path):
    # a garbage file whose manifest was updated to match: the load itself must fail cleanly
    copy = _copy(shipped, tmp_path)
    copy.write_bytes(b"not a torchscript archive" * 10)
    manifest = json.loads(manifest_path(copy).read_text())
    manifest["sha256"] = sha256_file(copy)
    manifest_path(copy).write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="not a loadable TorchScript"):
        AgeEngine(copy, device="cpu")


def test_missing_or_broken_manifest_is_a_clear_error(shipped, tmp_path):
    copy = _copy(shipped, tmp_path)
    manifest_path(copy).write_text("{not json")
    with pytest.raises(WeightsError, match="unreadable"):
        AgeEngine(copy, device="cpu")
    manifest_path(copy).unlink()
    with pytest.raises(WeightsError, match="no manifest"):
        AgeEngine(copy, device="cpu")
