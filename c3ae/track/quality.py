"""How much one detection of a face can be trusted for its age, and what it looks like.

`face_quality` multiplies five factors in [0, 1], each of which stands for a
reason the age model is known to be less reliable:

* detector score - low scores are partial, turned or badly lit faces;
* size - below ~48 px the inner 0.8 crop is upsampled and wrinkles are gone;
* sharpness - variance of the Laplacian of the inner crop at the face's own
  resolution (motion blur, defocus), so a small but clear face is not taken
  for a blurred one;
* pose - the nose's offset from the eyes' midpoint, in eye distances, grows as
  the head turns (yaw), and the eye-ear spans become lopsided;
* border - a box cut by the frame edge holds only part of the face.

The fusion weighs each frame's age by quality squared, so a poor frame counts
little (a clear 40 px face about half a close-up, a blurred one far less). How
wide a track's band is, and whether it reads "?", is learned from evidence
instead (`c3ae.track.uncertainty`, which also uses `yaw`, `sharpness` and
`frame_sharpness`): these hand-set factors floor on compressed video. What a
face looks like, for telling people apart, is `c3ae.track.identity`.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from c3ae.crops import CROP_SCALES
from c3ae.faces import Faces

SHARP_LAPLACIAN_VAR = 120.0  # of the 64 px inner crop: sharp dataset faces give 240-650
INNER_SCALE = CROP_SCALES[0]  # the inner crop's side, in face sizes
_RIGHT_EYE, _LEFT_EYE, _NOSE, _RIGHT_EAR, _LEFT_EAR = 0, 1, 2, 4, 5


def _ramp(x: np.ndarray, lo: float, hi: float, floor: float = 0.05) -> np.ndarray:
    """0 -> `floor` below lo, linear to 1 at hi: a factor, never a hard cut."""
    return np.clip((np.asarray(x, np.float64) - lo) / (hi - lo), floor, 1.0)


def yaw(faces: Faces) -> np.ndarray:
    """How far each head is turned, from the keypoints: ~0 frontal, ~1 near profile
    (NaN where the keypoints say nothing)."""
    kp = faces.keypoints.astype(np.float64)
    eyes = kp[:, _LEFT_EYE] - kp[:, _RIGHT_EYE]
    eye_dist = np.maximum(np.linalg.norm(eyes, axis=1), 1e-6)
    axis = eyes / eye_dist[:, None]  # along the eyes, so head roll does not count
    mid = (kp[:, _LEFT_EYE] + kp[:, _RIGHT_EYE]) / 2
    nose_offset = np.abs(np.sum((kp[:, _NOSE] - mid) * axis, axis=1)) / eye_dist
    right_span = np.abs(np.sum((kp[:, _RIGHT_EYE] - kp[:, _RIGHT_EAR]) * axis, axis=1))
    left_span = np.abs(np.sum((kp[:, _LEFT_EAR] - kp[:, _LEFT_EYE]) * axis, axis=1))
    lopsided = np.abs(right_span - left_span) / np.maximum(right_span + left_span, 1e-6)
    return np.maximum(nose_offset / 0.5, lopsided)  # both ~0 frontal, ~1 near profile


def pose_factor(faces: Faces, turn: np.ndarray | None = None) -> np.ndarray:
    """1 for a frontal face, falling to 0.05 towards profile (`turn`: the faces' `yaw`,
    where the caller has it already)."""
    turn = yaw(faces) if turn is None else turn
    return np.nan_to_num(1.0 - _ramp(turn, 0.25, 0.8, floor=0.0), nan=0.5).clip(0.05, 1.0)


def frame_sharpness(frame: np.ndarray) -> float:
    """Variance of the Laplacian of the whole frame at 640 px wide at most: how sharp
    this video is at all (compression and a soft lens blur every face alike), the
    reference a face's own sharpness is read against."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if grey.shape[1] > 640:
        f = 640 / grey.shape[1]
        grey = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def border_factor(faces: Faces, frame_shape: tuple[int, ...]) -> np.ndarray:
    """Fraction of the box inside the frame, squared: a half face counts a quarter."""
    h, w = frame_shape[:2]
    b = faces.boxes.astype(np.float64)
    area = np.maximum((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), 1e-6)
    inside = (np.clip(np.minimum(b[:, 2], w) - np.maximum(b[:, 0], 0), 0, None)
              * np.clip(np.minimum(b[:, 3], h) - np.maximum(b[:, 1], 0), 0, None))
    return np.clip(inside / area, 0.05, 1.0) ** 2


def sharpness(crops: torch.Tensor, sizes: np.ndarray | None = None) -> np.ndarray:
    """Variance of the Laplacian of each face's inner crop (crops: N, K, 3, S, S uint8).

    With the faces' `sizes` (pixels), a crop larger than the face's own pixels
    is first brought back to them: upsampling a small face smooths it, and that
    loss is its size (counted apart), not blur. A clear 40 px face then reads
    as sharp as a clear close-up, a blurred one still as blurred."""
    out = np.empty(len(crops))
    for i, crop in enumerate(crop_images(crops, 0)):
        grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        native = int(round(INNER_SCALE * sizes[i])) if sizes is not None else grey.shape[0]
        if 8 <= native < grey.shape[0]:
            grey = cv2.resize(grey, (native, native), interpolation=cv2.INTER_AREA)
        out[i] = cv2.Laplacian(grey, cv2.CV_32F).var()
    return out


def crop_images(crops: torch.Tensor, k: int) -> np.ndarray:
    """Crop k of every face as (N, S, S, 3) contiguous BGR images, in one copy
    (torch's channel interleave: 1.2 ms for 48 faces against numpy's 2.8)."""
    return crops[:, k].permute(0, 2, 3, 1).contiguous().numpy()


def face_quality(faces: Faces, frame_shape: tuple[int, ...] | None = None,
                 crops: torch.Tensor | None = None, sharp: np.ndarray | None = None,
                 turn: np.ndarray | None = None) -> np.ndarray:
    """(N,) quality in [0, 1]; factors whose input is missing count as 1. `sharp`:
    the faces' `sharpness`, where the caller has it already (else from `crops`);
    `turn`: their `yaw`, likewise."""
    if not len(faces):  # a frame between looks: nothing to rate
        return np.zeros(0, np.float32)
    q = _ramp(faces.scores, 0.3, 0.75) * _ramp(faces.sizes, 16.0, 48.0) * pose_factor(faces, turn)
    if frame_shape is not None:
        q = q * border_factor(faces, frame_shape)
    if sharp is None and crops is not None and len(crops) == len(faces):
        sharp = sharpness(crops, faces.sizes)
    if sharp is not None:
        q = q * _ramp(sharp, 0.15 * SHARP_LAPLACIAN_VAR, SHARP_LAPLACIAN_VAR)
    return q.astype(np.float32)
