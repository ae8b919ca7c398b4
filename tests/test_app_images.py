"""What the worker hands the window: the frame as a QImage, and each face's model crops."""
from __future__ import annotations

import numpy as np
from synth import coordinate_frame, make_faces

from app.worker.images import crops_by_track, to_qimage
from c3ae.crops.context import face_crops
from c3ae.faces import Faces
from c3ae.results import FrameResult


def test_qimage_is_rgb_and_owns_its_pixels(qapp):
    frame = np.zeros((4, 6, 3), np.uint8)
    frame[..., 0] = 255  # blue in BGR
    image = to_qimage(frame)
    frame[:] = 0
    assert (image.width(), image.height()) == (6, 4) and image.pixelColor(0, 0).blue() == 255


def test_crops_belong_to_their_face_whatever_the_order():
    frame = coordinate_frame()
    boxes = [(60, 80, 160, 200), (300, 100, 380, 200), (450, 60, 560, 190)]
    faces = Faces.concatenate([make_faces(boxes[2:]), make_faces(boxes[:2])])  # not in detection order
    faces = faces.replace(track_ids=np.array([7, 3, 5]), missed=np.array([0, 2, 0], np.int32))  # #3 carried
    record = FrameResult(frame, faces, crops=face_crops(frame, faces[faces.missed == 0]))
    crops = crops_by_track(record)
    assert sorted(crops) == [5, 7]  # a carried face was not detected: no crops
    for row, track_id in ((0, 7), (2, 5)):
        expected = face_crops(frame, faces[row]).numpy()[0].transpose(0, 2, 3, 1)[..., ::-1]
        assert crops[track_id].shape == (3, 64, 64, 3) and np.array_equal(crops[track_id], expected)
    assert crops_by_track(FrameResult(frame, Faces.empty())) == {}


def test_debug_view_shows_the_selected_faces_crops(qtbot, make_window, tmp_path):
    from synth import face_clip_frames, real_faces, write_clip

    clip = write_clip(tmp_path / "faces.mp4", face_clip_frames(real_faces(2), n=40))
    window = make_window(loop=True)
    window.act.debug.trigger()
    window.open_source(str(clip))
    qtbot.waitUntil(lambda: window.last_report is not None and bool(window.last_report.crops), timeout=30_000)
    report = window.last_report
    assert set(report.crops) == set(report.faces.track_ids[report.faces.missed == 0].tolist())
    qtbot.waitUntil(lambda: window.crops.title.text().endswith("model input"), timeout=30_000)
