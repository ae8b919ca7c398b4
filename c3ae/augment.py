"""Training-only augmentation around the ONE crop function (`c3ae.crops.face_crops`).

Geometry goes through `face_crops` itself (so augmented crops are still exactly
what the live app would cut from a slightly different detection):

* independent jitter of each of the three crop boxes: shift (dx, dy) in units
  of the crop side and scale exp(ds);
* a small extra rotation on top of the eye levelling.

Appearance is changed on the crop tensor (the same draw for the three crops
of a face, since they come from one photo):

* brightness, contrast, colour temperature (blue/red gains in opposite
  directions), occasionally greyscale;
* occasional loss of resolution (small or blurry faces in live video);
* horizontal flip of all three crops;
* random erasing: a noise rectangle in each crop independently.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from .crops import face_crops
from .faces import Faces


@dataclass
class AugmentConfig:
    shift: float = 0.04  # std of each crop box's centre shift, fraction of its side
    log_scale: float = 0.06  # std of each crop box's log scale
    max_angle_deg: float = 10.0  # uniform extra rotation
    brightness: float = 25.0  # uniform offset in grey levels
    contrast: float = 0.3  # contrast factor exp(U(-c, c))
    temperature: float = 0.10  # blue x (1 - t), red x (1 + t), t ~ U(-T, T)
    p_grey: float = 0.05
    p_lowres: float = 0.2  # downscale by 1.5..3 and back
    p_flip: float = 0.5
    p_erase: float = 0.3  # per crop
    erase_area: tuple[float, float] = (0.02, 0.15)


def geometry(n_faces: int, n_crops: int, rng: np.random.Generator, cfg: AugmentConfig
             ) -> tuple[np.ndarray, np.ndarray]:
    """(jitter (N, K, 3), extra_angle (N,)) for `face_crops`."""
    jitter = np.empty((n_faces, n_crops, 3))
    jitter[..., :2] = np.clip(rng.normal(0, cfg.shift, (n_faces, n_crops, 2)), -2.5 * cfg.shift, 2.5 * cfg.shift)
    jitter[..., 2] = np.clip(rng.normal(0, cfg.log_scale, (n_faces, n_crops)), -2.5 * cfg.log_scale,
                             2.5 * cfg.log_scale)
    angle = rng.uniform(-1, 1, n_faces) * math.radians(cfg.max_angle_deg)
    return jitter, angle


def photometric(crops: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """One face's crops (K, 3, S, S) uint8 BGR -> augmented uint8 (same shape)."""
    x = crops.astype(np.float32)
    if rng.random() < cfg.p_lowres:
        factor = rng.uniform(1.5, 3.0)
        size = x.shape[-1]
        small = max(8, int(round(size / factor)))
        for k in range(x.shape[0]):
            img = np.ascontiguousarray(x[k].transpose(1, 2, 0))
            img = cv2.resize(cv2.resize(img, (small, small), interpolation=cv2.INTER_AREA), (size, size),
                             interpolation=cv2.INTER_LINEAR)
            x[k] = img.transpose(2, 0, 1)
    # colour temperature (channels are B, G, R)
    t = rng.uniform(-cfg.temperature, cfg.temperature)
    x[:, 0] *= 1.0 - t
    x[:, 2] *= 1.0 + t
    if rng.random() < cfg.p_grey:
        grey = 0.114 * x[:, 0] + 0.587 * x[:, 1] + 0.299 * x[:, 2]
        x[:] = grey[:, None]
    contrast = math.exp(rng.uniform(-cfg.contrast, cfg.contrast))
    mean = x.mean()
    x = (x - mean) * contrast + mean + rng.uniform(-cfg.brightness, cfg.brightness)
    if rng.random() < cfg.p_flip:
        x = x[..., ::-1]
    x = np.ascontiguousarray(x)
    size = x.shape[-1]
    for k in range(x.shape[0]):
        if rng.random() < cfg.p_erase:
            area = rng.uniform(*cfg.erase_area) * size * size
            aspect = math.exp(rng.uniform(math.log(0.3), math.log(3.3)))
            h = int(min(size, round(math.sqrt(area * aspect))))
            w = int(min(size, round(math.sqrt(area / aspect))))
            y0 = int(rng.integers(0, size - h + 1))
            x0 = int(rng.integers(0, size - w + 1))
            x[k, :, y0:y0 + h, x0:x0 + w] = rng.uniform(0, 255, (3, h, w))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def augmented_crops(image: np.ndarray, faces: Faces, rng: np.random.Generator,
                    cfg: AugmentConfig | None = None) -> torch.Tensor:
    """Training crops (N, 3, 3, 64, 64) uint8 of every face in `image`, augmented."""
    cfg = cfg or AugmentConfig()
    jitter, angle = geometry(len(faces), 3, rng, cfg)
    crops = face_crops(image, faces, jitter=jitter, extra_angle=angle).numpy()
    out = np.stack([photometric(c, rng, cfg) for c in crops]) if len(crops) else crops
    return torch.from_numpy(out)
