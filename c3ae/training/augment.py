"""Training-only augmentation around the ONE crop function (`c3ae.crops.context.face_crops`).

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

What real pictures do to a face is applied to the whole IMAGE before the
crops are cut (`degrade`), so the three crops see one consistent photo, as
live: stage and low light (gamma, strong colour casts, hard side light),
sensor noise, motion blur, JPEG compression, greyscale/sepia with grain of old
scanned prints, and a hand or microphone over the lower face. Each is off
when its probability is 0, which is how the ablation switches them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from c3ae.crops.context import face_crops
from c3ae.faces import Faces
from c3ae.training.degrade import motion_blur


@dataclass
class AugmentConfig:
    shift: float = 0.04  # std of each crop box's centre shift, fraction of its side
    log_scale: float = 0.06  # std of each crop box's log scale
    max_angle_deg: float = 10.0  # uniform extra rotation
    brightness: float = 25.0  # uniform offset in grey levels
    contrast: float = 0.3  # contrast factor exp(U(-c, c))
    temperature: float = 0.10  # blue x (1 - t), red x (1 + t), t ~ U(-T, T)
    p_grey: float = 0.05
    p_lowres: float = 0.2  # downscale by 1.5..lowres_max and back
    lowres_max: float = 3.0  # 4.0 reaches a 40 px face upscaled to the 64 px middle crop
    p_flip: float = 0.5
    p_erase: float = 0.3  # per crop
    erase_area: tuple[float, float] = (0.02, 0.15)
    # whole-image degradations (see `degrade`); all 0 = the original recipe
    p_gamma: float = 0.0  # gamma exp(U(-gamma, gamma)): stage and low light
    gamma: float = 0.6
    p_cast: float = 0.0  # per-channel gains U(1 - cast, 1 + cast): coloured stage light
    cast: float = 0.4
    p_sidelight: float = 0.0  # brightness ramp 0.35..1.2 across the face at a random angle
    p_noise: float = 0.0  # Gaussian sensor noise, sigma U(3, noise) grey levels
    noise: float = 14.0
    p_motion: float = 0.0  # linear motion blur of 3-9 px at a random angle
    p_jpeg: float = 0.0  # JPEG quality U(12, 45)
    p_oldprint: float = 0.0  # sepia or grey, faded contrast, film grain
    p_occlude: float = 0.0  # a skin-toned or dark blob over the mouth/chin (hand, microphone)


ROBUST = dict(p_gamma=0.25, p_cast=0.15, p_sidelight=0.2, p_noise=0.2, p_motion=0.1, p_jpeg=0.25,
              p_oldprint=0.06, p_occlude=0.1, lowres_max=4.0)


def _ramp(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    h, w = shape
    theta = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (np.cos(theta) * (xx - w / 2) + np.sin(theta) * (yy - h / 2)) / (0.5 * max(h, w))
    lo, hi = rng.uniform(0.35, 0.7), rng.uniform(1.0, 1.2)
    return lo + (hi - lo) * np.clip((t + 1) / 2, 0, 1)


def degrade(image: np.ndarray, faces: Faces, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Whole-image degradations of a BGR uint8 image (returns a new image or the same one)."""
    out = image
    if rng.random() < cfg.p_occlude and len(faces):
        out = out.copy()
        x1, y1, x2, y2 = faces.boxes[0]
        w, h = x2 - x1, y2 - y1
        cx = x1 + w * rng.uniform(0.2, 0.8)
        cy = y1 + h * rng.uniform(0.7, 1.05)
        axes = (max(2, int(w * rng.uniform(0.12, 0.3))), max(2, int(h * rng.uniform(0.15, 0.35))))
        colour = (rng.uniform(60, 160), rng.uniform(90, 180), rng.uniform(140, 230)) if rng.random() < 0.6 \
            else tuple(float(v) for v in rng.uniform(10, 60, 3))
        cv2.ellipse(out, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    x = None

    def f() -> np.ndarray:
        nonlocal x
        if x is None:
            x = out.astype(np.float32)
        return x

    if rng.random() < cfg.p_gamma:
        x = 255.0 * (f() / 255.0) ** math.exp(rng.uniform(-cfg.gamma, cfg.gamma))
    if rng.random() < cfg.p_cast:
        x = f() * rng.uniform(1 - cfg.cast, 1 + cfg.cast, 3).astype(np.float32)
    if rng.random() < cfg.p_sidelight:
        x = f() * _ramp(image.shape[:2], rng)[..., None]
    if rng.random() < cfg.p_oldprint:
        grey = f() @ np.array([0.114, 0.587, 0.299], np.float32)
        tone = np.array([0.75, 0.92, 1.08], np.float32) if rng.random() < 0.6 else np.ones(3, np.float32)
        fade = rng.uniform(0.6, 0.9)
        x = (grey[..., None] * tone - 128) * fade + 128 + rng.uniform(-10, 25)
        x = x + rng.normal(0, rng.uniform(4, 12), grey.shape)[..., None].astype(np.float32)
    if rng.random() < cfg.p_noise:
        x = f() + rng.normal(0, rng.uniform(3, cfg.noise), image.shape).astype(np.float32)
    if x is not None:
        out = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    if rng.random() < cfg.p_motion:
        length = int(rng.integers(3, 10))
        out = motion_blur(out, length, float(rng.uniform(0, 180)))
    if rng.random() < cfg.p_jpeg:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(12, 46))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


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
    return photometric_batch(crops[None], rng, cfg)[0]


def photometric_batch(crops: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Faces' crops (B, K, 3, S, S) uint8 BGR -> augmented uint8 (same shape).

    One draw per face for what a photo does to all its crops (resolution,
    temperature, greyscale, contrast, brightness, flip), one per crop for
    erasing; vectorised over the batch except the rare resize and erase."""
    b, k, _, size, _ = crops.shape
    x = crops.astype(np.float32)
    for i in np.flatnonzero(rng.random(b) < cfg.p_lowres):
        small = max(8, int(round(size / rng.uniform(1.5, cfg.lowres_max))))
        for j in range(k):
            img = np.ascontiguousarray(x[i, j].transpose(1, 2, 0))
            img = cv2.resize(cv2.resize(img, (small, small), interpolation=cv2.INTER_AREA), (size, size),
                             interpolation=cv2.INTER_LINEAR)
            x[i, j] = img.transpose(2, 0, 1)
    # colour temperature (channels are B, G, R)
    t = rng.uniform(-cfg.temperature, cfg.temperature, b).astype(np.float32)[:, None, None, None]
    x[:, :, 0] *= 1.0 - t
    x[:, :, 2] *= 1.0 + t
    grey = rng.random(b) < cfg.p_grey
    if grey.any():
        g = 0.114 * x[grey, :, 0] + 0.587 * x[grey, :, 1] + 0.299 * x[grey, :, 2]
        x[grey] = g[:, :, None]
    contrast = np.exp(rng.uniform(-cfg.contrast, cfg.contrast, b)).astype(np.float32)[:, None, None, None, None]
    mean = x.mean(axis=(1, 2, 3, 4), keepdims=True)
    shift = rng.uniform(-cfg.brightness, cfg.brightness, b).astype(np.float32)[:, None, None, None, None]
    x = (x - mean) * contrast + mean + shift
    flip = rng.random(b) < cfg.p_flip
    x[flip] = x[flip][..., ::-1]
    for i, j in zip(*np.nonzero(rng.random((b, k)) < cfg.p_erase)):
        area = rng.uniform(*cfg.erase_area) * size * size
        aspect = math.exp(rng.uniform(math.log(0.3), math.log(3.3)))
        h = int(min(size, round(math.sqrt(area * aspect))))
        w = int(min(size, round(math.sqrt(area / aspect))))
        y0 = int(rng.integers(0, size - h + 1))
        x0 = int(rng.integers(0, size - w + 1))
        x[i, j, :, y0:y0 + h, x0:x0 + w] = rng.uniform(0, 255, (3, h, w))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def augmented_crops(image: np.ndarray, faces: Faces, rng: np.random.Generator,
                    cfg: AugmentConfig | None = None) -> torch.Tensor:
    """Training crops (N, 3, 3, 64, 64) uint8 of every face in `image`, augmented."""
    cfg = cfg or AugmentConfig()
    image = degrade(image, faces, rng, cfg)
    jitter, angle = geometry(len(faces), 3, rng, cfg)
    crops = face_crops(image, faces, jitter=jitter, extra_angle=angle).numpy()
    return torch.from_numpy(photometric_batch(crops, rng, cfg))
