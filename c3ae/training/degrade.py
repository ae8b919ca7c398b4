"""What real video does to a face that dataset stills never show: the degradations
of the video benchmark (`c3ae.training.videobench`), on which the uncertainty
model is fitted (issue 33: a quality tuned on sharp stills floored on a stage clip).

* `h264`: the whole clip through x264 at webcam bitrates (blocks, smeared skin);
* `soften`: a 2-3x smaller camera image blown back up (a digital zoom, a low-res stream);
* `motion_blur`: a straight streak of a moving head;
* `stage_light`: a strongly coloured light from one side that leaves the other dark;
* `three_quarter`: the photo's face turned away, as a perspective warp of the flat
  photo (the far half narrower and shorter): an approximation, no true 3-D turn.
"""
from __future__ import annotations

import io

import av
import cv2
import numpy as np

WEBCAM_KBPS = (250, 400, 700, 1000)  # what a 640x360 video call or a cheap stream gets


def h264(frames: list[np.ndarray], kbps: float, fps: int = 25) -> list[np.ndarray]:
    """The frames after an H.264 encode at `kbps` and a decode (same sizes, BGR)."""
    h, w = frames[0].shape[:2]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.bit_rate = int(kbps * 1000)
        stream.options = {"preset": "veryfast"}
        for frame in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        out.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer) as source:
        decoded = [f.to_ndarray(format="bgr24") for f in source.decode(video=0)]
    return decoded[:len(frames)] + decoded[-1:] * (len(frames) - len(decoded))


def soften(frame: np.ndarray, factor: float) -> np.ndarray:
    """Down by `factor` (area), back up (linear): the detail of a smaller camera image."""
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def motion_blur(frame: np.ndarray, length: int, angle_deg: float) -> np.ndarray:
    """A straight streak `length` px long at `angle_deg`."""
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle_deg, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    return cv2.filter2D(frame, -1, kernel / max(kernel.sum(), 1e-6))


def stage_light(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """(H, W, 3) float gains: a saturated colour from one side, fading to dark on the other."""
    h, w = shape[:2]
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = ((xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle)) + 0.5
    ramp = np.clip(ramp, 0, 1)
    colour = np.array([(1.0, 0.45, 1.0), (1.0, 0.6, 0.35), (0.35, 0.7, 1.0), (0.5, 0.5, 1.0)][rng.integers(4)],
                      np.float32)  # BGR: magenta, blue, amber, red
    dark, bright = rng.uniform(0.2, 0.45), rng.uniform(1.2, 1.7)
    return (dark + (bright - dark) * ramp)[..., None] * colour


def three_quarter(image: np.ndarray, box: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The photo warped so that its face looks turned to one side; (image, new face box)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, h = (x1 + x2) / 2, y2 - y1
    squeeze, shrink = rng.uniform(0.5, 0.75), rng.uniform(0.05, 0.12) * h
    src = np.float32([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
    far_x = cx + (x2 - cx) * squeeze
    dst = np.float32([[x1, y1], [far_x, y1 + shrink], [far_x, y2 - shrink], [x1, y2]])
    if rng.random() < 0.5:  # turned the other way: mirror the construction
        src[:, 0] = x1 + x2 - src[:, 0]
        dst[:, 0] = x1 + x2 - dst[:, 0]
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(image, m, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    return warped, np.array([dst[:, 0].min(), y1, dst[:, 0].max(), y2], np.float32)
