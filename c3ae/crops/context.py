"""The three C3AE context crops: ONE function for training and live inference.

Each face gives three square 64x64 crops, all centred on the face centre,
whose sides are `CROP_SCALES` times the face size (`face_geometry`):

* 0.8  - the inner face: eyes, nose, mouth, skin texture (wrinkles).
* 1.2  - the whole face with forehead, hairline, jaw and chin.
* 1.6  - the head with hair, ears and chin: grey hair, baldness, head shape.

Centre and size come from the keypoints, not the box, so that the crops do
not depend on which detector found the face: on the same 238 FairFace faces
pasted into wider frames, BlazeFace full range drew boxes a median 6% larger
than short range (p10-p90 0.99-1.13), while the eye-to-mouth distance agreed
(median ratio 1.000, mean deviation 4.6% against 7.1% for the box), and the
ages of the shipped model moved by a mean 2.9 years between the two
detectors with box geometry, 2.4 with keypoint geometry. The face size is
`FACE_SIZE_PER_EYE_MOUTH` times the distance from the eyes' midpoint to the
mouth (the median box size / that distance for short range, so crops keep
the scale the model was trained at); the centre is the mean of the eyes, nose
and mouth. Where keypoints are missing or implausible the box is used.

Context is limited to `CONTEXT` face sizes around the centre: beyond that
window a crop is filled by reflecting what is inside it, in live frames
exactly as in dataset images. The datasets are tight chips (FairFace 224 px
with a 0.25 margin, UTKFace 200 px): the 1.6x crop of their faces is a median
49% (FairFace) and 55% (UTKFace) reflected fill, while a live frame has real
background, microphones and neighbours there that no training image showed.
Within 1.2 face sizes the chips are mostly real (median fill 12% and 20%), so
the widest crop now sees the same kind of picture in training and live.

The BlazeFace box spans roughly brows to chin, so 0.8 stays inside the face.
1.6 reaches the hair while staying modest, because tight training chips
(UTKFace, box ~170 px in a 200 px image) have no real pixels beyond that and
a wider crop would be mostly reflected fill, unlike live frames. Where a crop
leaves the frame (a face cut by the border, or a tight dataset chip) it is
filled by reflection (BORDER_REFLECT_101), never by black, so that a border face and a padded training chip look alike.

Crops are optionally rotated so the eyes are level. Large downscales read from
a Gaussian pyramid level so that a big face is averaged, not aliased, into
64 px, whatever the frame resolution. The pyramid is built per face over the
region its crops keep (within the context window; plus the pyramid's reach,
aligned to its pixel grid), not over the whole frame: the crops are the same
as from a whole-frame pyramid, and a 1080p frame costs a face's region
instead of the frame.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from c3ae.crops import CROP_SCALES, CROP_SIZE
from c3ae.faces import Faces

RIGHT_EYE, LEFT_EYE, NOSE, MOUTH = 0, 1, 2, 3
FACE_SIZE_PER_EYE_MOUTH = 2.25
CONTEXT = 1.2  # face sizes of real pixels a crop may show; reflected beyond
# keypoint sizes outside this ratio to the box size are implausible (bad keypoints): use the box
PLAUSIBLE_KEYPOINT_SIZE = (0.6, 1.6)


def face_geometry(faces: Faces) -> tuple[np.ndarray, np.ndarray]:
    """(centres (N, 2), sizes (N,)) of the faces, from the keypoints when they are usable."""
    box_sizes = np.maximum(faces.sizes.astype(np.float64), 1.0)
    box_centres = faces.centres.astype(np.float64)
    kps = faces.keypoints.astype(np.float64)
    eye_mid = (kps[:, RIGHT_EYE] + kps[:, LEFT_EYE]) / 2
    kp_sizes = FACE_SIZE_PER_EYE_MOUTH * np.linalg.norm(eye_mid - kps[:, MOUTH], axis=1)
    ratio = kp_sizes / box_sizes
    usable = np.isfinite(ratio) & (ratio > PLAUSIBLE_KEYPOINT_SIZE[0]) & (ratio < PLAUSIBLE_KEYPOINT_SIZE[1])
    sizes = np.where(usable, kp_sizes, box_sizes)
    kp_centres = kps[:, [RIGHT_EYE, LEFT_EYE, NOSE, MOUTH]].mean(axis=1)
    centres = np.where(usable[:, None], kp_centres, box_centres)
    return centres, sizes


def _pyramid(frame: np.ndarray, levels: int) -> list[np.ndarray]:
    pyr = [frame]
    for _ in range(levels):
        if min(pyr[-1].shape[:2]) < 2:
            break
        pyr.append(cv2.pyrDown(pyr[-1]))
    return pyr


def _region(frame: np.ndarray, centre: np.ndarray, reach: float, levels: int) -> tuple[int, int, list[np.ndarray]]:
    """(x0, y0, pyramid) of the part of `frame` within `reach` of `centre`, grown by what
    `levels` pyrDowns read beyond it, with a corner on every level's pixel grid, so the
    pyramid's pixels there equal a whole-frame pyramid's."""
    h, w = frame.shape[:2]
    grid = 2**levels
    reach += 2 ** (levels + 3) + 8  # pyrDown's 5-tap kernel at each level, and the warp's bilinear neighbour
    x0 = max(int((centre[0] - reach) // grid) * grid, 0)
    y0 = max(int((centre[1] - reach) // grid) * grid, 0)
    x1, y1 = min(int(math.ceil(centre[0] + reach)), w), min(int(math.ceil(centre[1] + reach)), h)
    if x1 - x0 < 2 or y1 - y0 < 2:  # the crops lie wholly outside the frame: the warp reflects the frame
        return 0, 0, _pyramid(frame, levels)
    return x0, y0, _pyramid(frame[y0:y1, x0:x1], levels)


def eye_angles(faces: Faces) -> np.ndarray:
    """Roll of each face in radians (0 = eyes level), from the two eye keypoints."""
    d = faces.keypoints[:, LEFT_EYE] - faces.keypoints[:, RIGHT_EYE]
    angles = np.arctan2(d[:, 1], d[:, 0])
    return np.nan_to_num(angles).astype(np.float64)


def face_crops(
    frame: np.ndarray,
    faces: Faces,
    *,
    scales: tuple[float, ...] = CROP_SCALES,
    size: int = CROP_SIZE,
    level_eyes: bool = True,
    jitter: np.ndarray | None = None,
    extra_angle: np.ndarray | None = None,
    context: float | None = CONTEXT,
) -> torch.Tensor:
    """Frame (H, W, 3 BGR or H, W grey, uint8) + N faces -> (N, len(scales), 3, size, size) uint8.

    `jitter` (N, len(scales), 3) moves each crop box independently by (dx, dy)
    times its side and scales it by exp(ds); `extra_angle` (N,) adds a rotation
    in radians. Both are for training augmentation; live inference passes None.
    `context` limits real pixels to that many face sizes around the face centre
    (None: no limit).
    """
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    n, k = len(faces), len(scales)
    out = np.empty((n, k, size, size, 3), dtype=np.uint8)
    if n == 0:
        return torch.from_numpy(out).permute(0, 1, 4, 2, 3).contiguous()

    centres, face_sizes = face_geometry(faces)
    angles = eye_angles(faces) if level_eyes else np.zeros(n)
    if extra_angle is not None:
        angles = angles + np.asarray(extra_angle, dtype=np.float64)
    sides = face_sizes[:, None] * np.asarray(scales, dtype=np.float64)[None, :]
    shifts = np.zeros((n, k, 2))
    if jitter is not None:
        jitter = np.asarray(jitter, dtype=np.float64).reshape(n, k, 3)
        sides = sides * np.exp(jitter[..., 2])
        shifts = jitter[..., :2] * sides[..., None]

    # pyramid level per crop: keep the remaining bilinear downscale below 2x
    levels = np.clip(np.floor(np.log2(np.maximum(sides / size, 1.0))), 0, 8).astype(int)
    # a rotated square crop reads within half its diagonal of its centre; one wider than the
    # context window keeps only that window's pixels, around the face centre
    reaches = sides * math.sqrt(0.5) + np.linalg.norm(shifts, axis=2)
    if context is not None:
        window = context * face_sizes[:, None]
        reaches = np.where(sides > window, window * math.sqrt(0.5), reaches)
    reaches = reaches.max(axis=1)

    for i in range(n):
        cos, sin = math.cos(angles[i]), math.sin(angles[i])
        x0, y0, pyr = _region(frame, centres[i], float(reaches[i]), int(levels[i].max()))
        for j in range(k):
            side = sides[i, j]
            cx, cy = centres[i] + shifts[i, j]
            level = min(levels[i, j], len(pyr) - 1)
            step = side / size  # source pixels per crop pixel
            # crop pixel (u, v) -> source point: centre + R(angle) @ offset, where
            # the offset of pixel centre u is (u + 0.5) * step - side / 2
            a = np.array([[cos * step, -sin * step, 0.0], [sin * step, cos * step, 0.0]])
            offset = 0.5 * step - side / 2
            a[0, 2] = cx + (cos - sin) * offset - 0.5 - x0  # -0.5: MediaPipe coords are pixel edges
            a[1, 2] = cy + (sin + cos) * offset - 0.5 - y0
            if level:  # pyrDown keeps every second pixel centre: x_L = x / 2^L
                a = a * 2.0 ** -level
            cv2.warpAffine(pyr[level], a, (size, size), dst=out[i, j],
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REFLECT_101)
            if context is not None and side > context * face_sizes[i]:
                # the face centre sits at -shift from the crop centre, in the crop's rotated frame
                dx, dy = -shifts[i, j]
                _reflect_outside(out[i, j], size / 2 + (cos * dx + sin * dy) / step,
                                 size / 2 + (-sin * dx + cos * dy) / step, context * face_sizes[i] / step)
    # channels first by torch's interleave: 2.4x numpy's for these shapes
    return torch.from_numpy(out).permute(0, 1, 4, 2, 3).contiguous()


def _reflect_outside(crop: np.ndarray, cu: float, cv: float, window: float) -> None:
    """Replace, in place, the pixels outside a square window (centre (cu, cv), side
    `window`, crop pixels) by reflecting the window's content at its edges."""
    size = crop.shape[0]
    u0, v0 = int(round(cu - window / 2)), int(round(cv - window / 2))
    u1, v1 = u0 + int(round(window)), v0 + int(round(window))
    u0, v0, u1, v1 = max(u0, 0), max(v0, 0), min(u1, size), min(v1, size)
    if u1 - u0 < 2 or v1 - v0 < 2 or (u0, v0, u1, v1) == (0, 0, size, size):
        return
    inner = crop[v0:v1, u0:u1].copy()
    crop[:] = cv2.copyMakeBorder(inner, v0, size - v1, u0, size - u1, cv2.BORDER_REFLECT_101)


def crops_to_image(crops: torch.Tensor) -> np.ndarray:
    """(N, K, 3, S, S) crops -> one BGR image, a row per face (debug views, grids)."""
    arr = crops.numpy().transpose(0, 1, 3, 4, 2)  # N, K, S, S, 3
    if len(arr) == 0:
        return np.zeros((crops.shape[-1], crops.shape[-1] * crops.shape[1], 3), np.uint8)
    return np.concatenate([np.concatenate(list(row), axis=1) for row in arr], axis=0)
