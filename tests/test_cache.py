"""The crop cache: crops cut from a cached patch are the live `face_crops` output.

The only difference allowed is the second bilinear resampling (image -> patch
-> crop instead of image -> crop): the 0.8 crop is cut 1:1 from the 96 px
patch (80 px per face size), so it matches to rounding; the 1.2 and 1.6
crops are resampled once more, which on dataset faces costs a mean of about
1 and 2 grey levels (measured on 40 UTKFace/FairFace faces: 0.00 / 1.02 /
2.05, the shipped model's age moved by a mean 0.36 years). The bounds below
leave a little room over those figures; a geometry error (a shifted,
rotated or rescaled crop) costs tens of grey levels.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from synth import make_faces, real_faces

from c3ae.crops.context import face_crops
from c3ae.training.augment import AugmentConfig
from c3ae.training.cache import PATCH, CropCache, PatchBatches, augmented_cuts, cut_crops, face_patches

BOUND = (0.5, 2.0, 3.0)  # mean abs difference per crop (0.8, 1.2, 1.6), grey levels


def _textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth but detailed image (blurred noise plus gradients): interpolation-friendly like a photo."""
    import cv2

    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.uniform(0, 255, (h, w, 3)).astype(np.float32), (0, 0), 3)
    grad = np.linspace(0, 120, w, dtype=np.float32)[None, :, None]
    return np.clip((noise - 128) * 4 + 128 + grad - 60, 0, 255).astype(np.uint8)


def _diff(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """Mean abs difference per crop scale, over faces, channels and pixels."""
    return np.abs(a.numpy().astype(float) - b.numpy().astype(float)).mean(axis=(0, 2, 3, 4))


@pytest.mark.parametrize("roll", [0.0, 17.0])
def test_unjittered_cut_equals_live_crops_synthetic(roll):
    frame = _textured(360, 480)
    faces = make_faces([(150, 80, 310, 240), (20, 200, 120, 300)], roll_deg=roll)  # one inside, one at a border
    live = face_crops(frame, faces)
    cached = cut_crops(face_patches(frame, faces))
    assert cached.shape == live.shape == (2, 3, 3, 64, 64) and cached.dtype == torch.uint8
    assert (_diff(cached, live) < BOUND).all(), _diff(cached, live)


def test_unjittered_cut_equals_live_crops_dataset_faces():
    for image in real_faces(2):
        h, w = image.shape[:2]
        s = min(h, w) * 0.4
        faces = make_faces([(w / 2 - s / 2, h / 3 - s / 2, w / 2 + s / 2, h / 3 + s / 2)])
        diff = _diff(cut_crops(face_patches(image, faces)), face_crops(image, faces))
        assert (diff < BOUND).all(), diff


def test_jittered_cut_differs_and_is_seeded():
    frame = _textured(300, 300, seed=1)
    patches = face_patches(frame, make_faces([(90, 90, 210, 210)]))
    plain = cut_crops(patches)
    jitter = np.zeros((1, 3, 3))
    jitter[0, :, 0] = 0.08
    moved = cut_crops(patches, jitter)
    assert _diff(moved, plain).min() > 5  # a shift of 8% of each crop's side is visible in every crop
    rotated = cut_crops(patches, extra_angle=np.array([0.15]))
    assert _diff(rotated, plain).min() > 2
    cfg = AugmentConfig()
    a = augmented_cuts(patches, np.random.default_rng(3), cfg)
    assert torch.equal(a, augmented_cuts(patches, np.random.default_rng(3), cfg))
    assert not torch.equal(a, augmented_cuts(patches, np.random.default_rng(4), cfg))


def test_memmap_round_trip_and_batches(tmp_path):
    import json

    from c3ae.crops.context import CONTEXT
    from c3ae.training.cache import VERSION

    frame = _textured(240, 320, seed=2)
    patches = face_patches(frame, make_faces([(40, 40, 140, 140), (180, 60, 300, 180), (100, 120, 200, 220)]))
    arr = np.lib.format.open_memmap(tmp_path / f"patches_{PATCH}.npy", mode="w+", dtype=np.uint8,
                                    shape=patches.shape)
    arr[:] = patches
    arr.flush()
    del arr
    np.save(tmp_path / f"hashes_{PATCH}.npy", np.array(["a", "b", "c"]))
    (tmp_path / f"meta_{PATCH}.json").write_text(json.dumps({"version": VERSION, "context": CONTEXT}))
    cache = CropCache.open(tmp_path)
    assert isinstance(cache.patches, np.memmap) and cache.index == {"a": 0, "b": 1, "c": 2}
    np.testing.assert_array_equal(cache.patches, patches)
    ds = PatchBatches(tmp_path, PATCH, np.array([2, 0, 1]), np.array([30.0, 3, 10]), np.array([30.0, 10, 20]),
                      augment=False)
    crops, low, high = ds[[0, 1, 2, 0]]  # sampler order, with a repeat
    assert crops.shape == (4, 3, 3, 64, 64)
    assert torch.equal(crops[0], cut_crops(patches[2:3])[0]) and torch.equal(crops[3], crops[0])
    assert low.tolist() == [30, 3, 10, 30] and high.tolist() == [30, 10, 20, 30]
    pairs = PatchBatches(tmp_path, PATCH, np.array([2, 0, 1]), np.array([30.0, 3, 10]),
                         np.array([30.0, 10, 20]), augment=True, cfg=AugmentConfig(), copies=2)
    crops, low, high = pairs[[1, 2]]  # two faces, two cuts each, side by side
    assert crops.shape == (4, 3, 3, 64, 64) and low.tolist() == [3, 3, 10, 10] and high.tolist() == [10, 10, 20, 20]
    assert not torch.equal(crops[0], crops[1])  # the second cut is nudged
    same = (crops[0].float() - crops[1].float()).abs().mean()
    other = (crops[0].float() - crops[2].float()).abs().mean()
    assert same < other  # ... but both are cut from face 0's patch
    crops, low, _ = PatchBatches(tmp_path, PATCH, np.array([2, 0, 1]), np.array([30.0, 3, 10]),
                                 np.array([30.0, 10, 20]), augment=False, copies=2)[[1, 2]]
    assert torch.equal(crops[0], crops[1]) and torch.equal(crops[1], cut_crops(patches[0:1])[0])
    assert low.tolist() == [3, 3, 10, 10]
