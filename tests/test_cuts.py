import numpy as np
import pytest

from c3ae.cuts import ShotCutDetector, _thumbnail, signature
from c3ae.training.clips import backdrop, fade


def _cuts(frames) -> list[int]:
    det = ShotCutDetector()
    return [i for i, f in enumerate(frames) if det.update(f)]


def _noisy(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise and a pixel of shake, as in any real shot."""
    dx, dy = rng.integers(-1, 2, 2)
    moved = np.roll(frame, (int(dy), int(dx)), axis=(0, 1)).astype(np.int16)
    return np.clip(moved + rng.normal(0, 4, frame.shape), 0, 255).astype(np.uint8)


def test_hard_cuts_are_found_on_their_frame():
    rng = np.random.default_rng(0)
    frames = [_noisy(backdrop(seed), rng) for seed in range(8) for _ in range(15)]
    assert _cuts(frames) == [15 * k for k in range(1, 8)]


def test_a_pan_is_not_a_cut():
    world = np.concatenate([backdrop(3, (900, 360)), backdrop(4, (900, 360))], axis=1)
    frames = [world[:, 8 * t:8 * t + 640].copy() for t in range(140)]
    assert _cuts(frames) == []


def test_a_dip_in_brightness_is_not_a_cut():
    rng = np.random.default_rng(1)
    scene = backdrop(5)
    frames = [_noisy(fade(scene, 1 - 0.65 * np.sin(np.pi * t / 40)), rng) for t in range(41)]
    assert _cuts(frames) == []


def test_a_fade_through_black_cuts_once_into_a_new_shot_and_not_back_into_the_same():
    a, b = backdrop(6), backdrop(7)
    levels = [1 - t / 10 for t in range(10)] + [0.0] * 5 + [t / 10 for t in range(1, 11)]
    into_b = [fade(a if k < 12 else b, lvl) for k, lvl in enumerate(levels)]
    cuts = _cuts(into_b)
    assert len(cuts) == 1 and 15 <= cuts[0] <= 17  # the first frame with picture again
    assert _cuts([fade(a, lvl) for lvl in levels]) == []


def test_a_camera_flash_is_taken_back_on_the_next_frame():
    rng = np.random.default_rng(2)
    scene = backdrop(8)
    det = ShotCutDetector()
    seen = []
    for t in range(20):
        frame = np.full_like(scene, 255) if t == 10 else _noisy(scene, rng)
        seen.append((det.update(frame), det.flash))
    assert seen[10] == (True, False) and seen[11] == (False, True)
    assert all(s == (False, False) for k, s in enumerate(seen) if k not in (10, 11))


def test_a_change_of_light_colour_is_not_a_cut():
    rng = np.random.default_rng(4)
    scene = backdrop(9)
    tinted = np.clip(scene * np.array([1.3, 0.8, 0.6]), 0, 255).astype(np.uint8)
    assert _cuts([_noisy(scene if t < 10 else tinted, rng) for t in range(20)]) == []


def test_a_signature_computed_ahead_finds_the_same_cuts_as_the_frame():
    rng = np.random.default_rng(5)
    frames = [_noisy(backdrop(seed), rng) for seed in range(3) for _ in range(10)]
    ahead = ShotCutDetector()
    assert [i for i, f in enumerate(frames) if ahead.update(signature(f))] == _cuts(frames) == [10, 20]


@pytest.mark.parametrize("shape", [(360, 640, 3), (2160, 3840, 3), (50, 90, 3), (480, 640)])
def test_frames_of_any_size_reduce_to_the_same_thumbnail(shape):
    frame = np.random.default_rng(6).integers(0, 255, shape, dtype=np.uint8)
    assert _thumbnail(frame).shape == (54, 96, 3)
    assert not signature(frame).dark and signature(np.zeros(shape, np.uint8)).dark
