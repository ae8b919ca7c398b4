"""Face detection with the MediaPipe Tasks FaceDetector (BlazeFace).

Two models: 'short' (short range, faces filling a good part of the frame: a
webcam at arm's length, portrait photos) and 'full' (full range sparse, small
faces in wide shots, e.g. 35-45 px faces in 640x360 event video). VIDEO mode
serves streams, IMAGE mode stills. Results come back as a `Faces` batch. In
video, the full-range detector hands close-ups to the short-range model (see
CLOSE_UP_SHARE).
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import types

import cv2
import numpy as np

from c3ae.detect.face_models import model_path
from c3ae.downscale import area_reduced
from c3ae.faces import N_KEYPOINTS, Faces, box_overlaps
from c3ae.options import DEFAULT_MIN_SCORE, DETECTOR_FLOOR

os.environ.setdefault("GLOG_minloglevel", "2")  # keep MediaPipe's C++ logging quiet

# The full-range model's score collapses on a close-up (a 420 px face in a 1280x720 frame:
# 0.8 -> 0.22 as it grows by a tenth, while the short-range model stays at 0.89), so
# in video a full-range detector also runs the short-range one where that can change
# the answer: when a face of this share of the frame's shorter side is doubtful
# (score < CLOSE_UP_TRUST) or was in view on the last call and is gone, and every
# CLOSE_UP_EVERY calls to find a close-up the full-range model does not see at all.
# Its close-ups only stand in for doubtful or missing ones (`prefer_close_ups`), so a
# confident full-range close-up needs no second opinion.
CLOSE_UP_SHARE = 0.3
CLOSE_UP_EVERY = 5
CLOSE_UP_TRUST = 0.75  # a score the full-range model's close-ups fall below and the short-range one's stay above
# BlazeFace reads a frame at 128 (short) or 192 px (full range), and MediaPipe copies and scales
# the whole frame it is given, so a big video frame is first halved (by 2x2 averages: exact, no
# aliasing) while its shorter side is REDUCE_FROM px or more: 1080p is read at 960x540, 1440p at
# 1280x720, 4K at 960x540. On a real 1080p clip, interleaved frame by frame: 9.3 ms a look for the
# whole frame, 0.9 + 5.7 ms halved. At 720p halving saves nothing (5.9 ms against 0.4 + 5.5).
# Other reductions cost more than they save (an area average to 640x360 from 1080p: 2.6 ms, two
# pyrDowns: 2.0 ms), and a bilinear copy at a ratio of 3 aliased the grain of a cluttered
# 1080p scene into faces.
REDUCE_FROM = 1080


def reduction(height: int, width: int) -> int:
    """The factor (a power of two) a video frame of this size is reduced by before detection."""
    factor = 1
    while min(height, width) >= REDUCE_FROM * factor:
        factor *= 2
    return factor


def _face_detector_api() -> types.SimpleNamespace:
    """The few MediaPipe Tasks classes the face detector uses. MediaPipe's package
    `__init__` files import every task and the drawing helpers, which import
    matplotlib.pyplot: most of MediaPipe's ~0.4 s import, for nothing used here.
    When nothing imported MediaPipe yet, its parent packages are registered
    without running their `__init__`, and only the detector's modules load."""
    if "mediapipe" not in sys.modules:
        root = importlib.util.find_spec("mediapipe").submodule_search_locations[0]
        for name in ("mediapipe", "mediapipe.tasks", "mediapipe.tasks.python", "mediapipe.tasks.python.vision"):
            package = types.ModuleType(name)
            package.__path__ = [os.path.join(root, *name.split(".")[1:])]
            sys.modules[name] = package
    from mediapipe.tasks.python.core.base_options import BaseOptions
    from mediapipe.tasks.python.vision.core.image import Image, ImageFormat
    from mediapipe.tasks.python.vision.core.vision_task_running_mode import VisionTaskRunningMode
    from mediapipe.tasks.python.vision.face_detector import FaceDetector, FaceDetectorOptions

    return types.SimpleNamespace(BaseOptions=BaseOptions, Image=Image, ImageFormat=ImageFormat,
                                 RunningMode=VisionTaskRunningMode, FaceDetector=FaceDetector,
                                 FaceDetectorOptions=FaceDetectorOptions)


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence TFLite's C++ start-up chatter (written straight to fd 2, one line
    per sparse tensor) so a user's terminal shows our messages, not its log."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def prefer_close_ups(faces: Faces, close: Faces, big_side: float) -> Faces:
    """Take the short-range model's confident close-ups (`close`) into the full-range
    model's `faces`: one replaces the full-range face it matches (IoU >= 0.3) when that
    face is doubtful (score < CLOSE_UP_TRUST), and is added where no face is; anything
    else keeps the full-range answer (a false big box over a small real face must
    not hide that face)."""
    close = close[(close.sizes >= big_side) & (close.scores >= CLOSE_UP_TRUST)]
    if not len(close):
        return faces
    if not len(faces):
        return close
    iou, inside = box_overlaps(faces.boxes, close.boxes)
    doubtful = (iou >= 0.3) & (faces.scores[:, None] < CLOSE_UP_TRUST)
    taken = doubtful.any(axis=0) | (inside.max(axis=0) <= 0.1)
    return Faces.concatenate([faces[~doubtful.any(axis=1)], close[taken]])


class FaceDetector:
    """Thin wrapper that returns plain arrays; one instance per stream or image set."""

    def __init__(self, model: str = "short", video: bool = True,
                 min_score: float = DEFAULT_MIN_SCORE, min_size: float = 0.0) -> None:
        mp = self._mp = _face_detector_api()
        self.model = model
        self.video = video
        self.min_score = float(min_score)
        self.min_size = float(min_size)
        options = mp.FaceDetectorOptions(
            base_options=mp.BaseOptions(model_asset_path=str(model_path(model))),
            running_mode=mp.RunningMode.VIDEO if video else mp.RunningMode.IMAGE,
            # filter by score ourselves so the threshold can change while running
            min_detection_confidence=DETECTOR_FLOOR,
        )
        self._close_up = FaceDetector("short", video=True, min_score=min_score) if model == "full" and video else None
        self._close_up_seen = False  # a close-up was in the last call's answer
        self._confirmed = Faces.empty()  # the short-range model's confident close-ups on its last call
        self._calls = 0  # calls so far: the clock of the periodic close-up search
        self.close_up_calls = 0  # calls that also ran the short-range model: what the rule costs
        with _quiet_native_stderr():
            self._detector = mp.FaceDetector.create_from_options(options)
            self._last_ts = -1
            self.detect(np.zeros((64, 64, 3), np.uint8))  # first call sets up XNNPACK: do it quietly now

    def detect(self, frame_bgr: np.ndarray, pad: float = 0.0) -> Faces:
        """Faces in a BGR uint8 frame, in that frame's pixel coordinates.

        `pad` (IMAGE mode, for tight face chips) surrounds the image with a black
        border of that fraction of its size first, since BlazeFace misses faces
        that fill the whole image; coordinates are mapped back afterwards. A big
        video frame is read reduced (see `reduction`).
        """
        h, w = frame_bgr.shape[:2]
        factor = reduction(h, w) if self.video and not pad else 1
        if factor == 1:
            return self._detect(frame_bgr, pad, 1)
        faces = self._detect(area_reduced(frame_bgr, factor), 0.0, factor)
        return faces.replace(boxes=faces.boxes * factor, keypoints=faces.keypoints * factor)

    def _detect(self, frame_bgr: np.ndarray, pad: float, factor: int) -> Faces:
        """`detect` on a frame reduced by `factor` (which `min_size` is divided by)."""
        mp = self._mp
        if frame_bgr.ndim == 2:
            frame_bgr = cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2BGR)
        h, w = frame_bgr.shape[:2]
        px, py = int(round(pad * w)), int(round(pad * h))
        if px or py:
            frame_bgr = cv2.copyMakeBorder(frame_bgr, py, py, px, px, cv2.BORDER_CONSTANT, value=0)
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if self.video:
            # MediaPipe wants strictly increasing timestamps; seeking back in a
            # file must not break it, so the detector keeps its own clock.
            self._last_ts += 1
            result = self._detector.detect_for_video(image, self._last_ts)
        else:
            result = self._detector.detect(image)
        faces = self._to_faces(result.detections, rgb.shape[1], rgb.shape[0], px, py, self.min_size / factor)
        if self._close_up is not None:
            faces = self._second_opinion(faces, frame_bgr[py:py + h, px:px + w], factor)
        return faces

    def _second_opinion(self, faces: Faces, frame_bgr: np.ndarray, factor: int) -> Faces:
        """The short-range model, where it decides something: a close-up that was in
        view and is gone, a doubtful close-up it has not confirmed at that place on
        its last call, and every CLOSE_UP_EVERY calls (a close-up the full-range
        model does not see at all). A doubtful close-up it did confirm keeps the
        full-range box with the confirmation's score until the next regular call,
        so a steady webcam close-up costs one short-range call in CLOSE_UP_EVERY."""
        h, w = frame_bgr.shape[:2]
        big_side = CLOSE_UP_SHARE * min(h, w)
        big = faces.sizes >= big_side
        doubtful = big & (faces.scores < CLOSE_UP_TRUST)
        lost = self._close_up_seen and not big.any()
        vouched, iou = np.zeros(len(faces), bool), None
        if doubtful.any() and len(self._confirmed):
            iou, _ = box_overlaps(faces.boxes, self._confirmed.boxes)
            vouched = doubtful & (iou.max(axis=1) >= 0.5)
        self._calls += 1
        if lost or (doubtful & ~vouched).any() or self._calls % CLOSE_UP_EVERY == 1:
            self._close_up.min_score, self._close_up.min_size = self.min_score, self.min_size / factor
            close = self._close_up.detect(frame_bgr)
            self._confirmed = close[(close.sizes >= big_side) & (close.scores >= CLOSE_UP_TRUST)]
            faces = prefer_close_ups(faces, close, big_side)
            self.close_up_calls += 1
        elif vouched.any():
            scores = faces.scores.copy()
            scores[vouched] = np.maximum(scores[vouched], self._confirmed.scores[iou[vouched].argmax(axis=1)])
            faces = faces.replace(scores=scores)
        self._close_up_seen = bool((faces.sizes >= big_side).any())
        return faces

    def snapshot(self) -> tuple:
        """What the answer to the next frame depends on besides the frame (the close-up
        rule's memory), for a player that steps back (`c3ae.pipeline.SeekHistory`)."""
        return self._calls, self._close_up_seen, self._confirmed

    def restore(self, state: tuple) -> None:
        """Answer the next frame as after the call `state` was taken at."""
        self._calls, self._close_up_seen, self._confirmed = state

    def _to_faces(self, detections, width: int, height: int, px: int, py: int, min_size: float) -> Faces:
        boxes, kps, scores = [], [], []
        for d in detections:
            score = d.categories[0].score if d.categories else 0.0
            bb = d.bounding_box
            if score < self.min_score or min(bb.width, bb.height) < min_size:
                continue
            boxes.append((bb.origin_x - px, bb.origin_y - py,
                          bb.origin_x + bb.width - px, bb.origin_y + bb.height - py))
            points = [(k.x * width - px, k.y * height - py) for k in d.keypoints[:N_KEYPOINTS]]
            kps.append(points)
            scores.append(score)
        if not boxes:
            return Faces.empty()
        return Faces(np.array(boxes), np.array(kps), np.array(scores))

    def close(self) -> None:
        if self._close_up is not None:
            self._close_up.close()
            self._close_up = None
        if self._detector is not None:
            with _quiet_native_stderr():  # TFLite logs each accelerator it destroys
                self._detector.close()
            self._detector = None

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
