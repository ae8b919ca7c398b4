"""Face detection with the MediaPipe Tasks FaceDetector (BlazeFace).

Two models: 'short' (short range, faces filling a good part of the frame: a
webcam at arm's length, portrait photos) and 'full' (full range sparse, small
faces in wide shots, e.g. 35-45 px faces in 640x360 event video). VIDEO mode
serves streams, IMAGE mode stills. Results come back as a `Faces` batch.
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
from c3ae.faces import N_KEYPOINTS, Faces

os.environ.setdefault("GLOG_minloglevel", "2")  # keep MediaPipe's C++ logging quiet

DEFAULT_MIN_SCORE = 0.5
DETECTOR_FLOOR = 0.2  # BlazeFace reports faces from this score up; `min_score` filters above it


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
        with _quiet_native_stderr():
            self._detector = mp.FaceDetector.create_from_options(options)
            self._last_ts = -1
            self.detect(np.zeros((64, 64, 3), np.uint8))  # first call sets up XNNPACK: do it quietly now

    def detect(self, frame_bgr: np.ndarray, pad: float = 0.0) -> Faces:
        """Faces in a BGR uint8 frame, in that frame's pixel coordinates.

        `pad` (IMAGE mode, for tight face chips) surrounds the image with a black
        border of that fraction of its size first, since BlazeFace misses faces
        that fill the whole image; coordinates are mapped back afterwards.
        """
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
        return self._to_faces(result.detections, rgb.shape[1], rgb.shape[0], px, py)

    def _to_faces(self, detections, width: int, height: int, px: int, py: int) -> Faces:
        boxes, kps, scores = [], [], []
        for d in detections:
            score = d.categories[0].score if d.categories else 0.0
            bb = d.bounding_box
            if score < self.min_score or min(bb.width, bb.height) < self.min_size:
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
        if self._detector is not None:
            with _quiet_native_stderr():  # TFLite logs each accelerator it destroys
                self._detector.close()
            self._detector = None

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
