"""Blurred faces: too little detail left to recognise anyone, labels and ages untouched."""
from __future__ import annotations

import cv2
import numpy as np
from synth import face_clip_frames, make_faces, real_faces

from c3ae.draw.privacy import MARGIN, blur_faces
from c3ae.options import PipelineOptions
from c3ae.pipeline import FramePipeline


def _sharpness(image: np.ndarray) -> float:
    """Variance of the Laplacian: the fine detail a recogniser would use."""
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def _inner(image: np.ndarray, box, keep: float = 0.7) -> np.ndarray:
    """The middle of a box, clear of the box outline the overlay draws."""
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * (1 - keep) / 2, (y2 - y1) * (1 - keep) / 2
    return image[int(y1 + dy):int(y2 - dy), int(x1 + dx):int(x2 - dx)]


def test_a_coasting_face_is_blurred_too():
    face = real_faces(1)[0]
    h, w = face.shape[:2]
    box = (w * 0.2, h * 0.15, w * 0.8, h * 0.75)
    faces = make_faces([box])
    faces.missed[:] = 3  # a track predicted through missed detections
    blurred = blur_faces(face.copy(), faces)
    assert _sharpness(_inner(blurred, box)) <= 0.25 * _sharpness(_inner(face, box))


def test_blur_in_the_written_frames_keeps_labels_and_ages(shared_engine):
    frames = face_clip_frames(real_faces(2), n=6)
    plain = FramePipeline(PipelineOptions(detector="full", device="cpu"), engine=shared_engine)
    private = FramePipeline(PipelineOptions(detector="full", device="cpu", blur=True), engine=shared_engine)
    for frame in frames:
        a, b = plain.process(frame), private.process(frame)
        np.testing.assert_array_equal(a.faces.ages, b.faces.ages)  # the CSV is unaffected
    assert len(b.faces) == 2
    outside = np.ones(frame.shape[:2], bool)
    for box in b.faces.boxes:
        assert _sharpness(_inner(b.frame, box)) <= 0.25 * _sharpness(_inner(a.frame, box))
        x1, y1, x2, y2 = box
        mx, my = (x2 - x1) * MARGIN + 2, (y2 - y1) * MARGIN + 2
        outside[max(int(y1 - my), 0):int(y2 + my), max(int(x1 - mx), 0):int(x2 + mx)] = False
    np.testing.assert_array_equal(a.frame[outside], b.frame[outside])  # labels and charts as they were
    plain.close()
    private.close()


def test_blur_faces_setting_round_trips(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from app.settings import AppSettings
    from app.views.controls import SettingsPanel

    panel = SettingsPanel(PipelineOptions(tiles="off", blur=True), str(tmp_path), save_csv=False)
    qtbot.addWidget(panel)
    assert panel.blur.isChecked() and panel.options().blur and panel.options().tiles == "off"
    with qtbot.waitSignal(panel.options_changed) as changed:
        panel.blur.setChecked(False)
    assert changed.args[0].blur is False
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    settings.save_options(PipelineOptions(blur=True))
    assert AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)).options().blur
