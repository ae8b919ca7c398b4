"""Tiled detection for small faces in large frames (c3ae.detect.tiles)."""
import cv2
import numpy as np
import pytest
from synth import make_faces, real_faces

from c3ae.detect.blazeface import FaceDetector
from c3ae.detect.tiles import TiledDetector, merge, overlap_ratio, tile_origins


def test_tiles_cover_the_frame_with_the_overlap():
    assert tile_origins(2560, 640, 480) == [0, 480, 960, 1440, 1920]
    assert tile_origins(1440, 640, 480) == [0, 480, 800]
    assert tile_origins(500, 640, 480) == [0]


def test_merge_keeps_one_face_per_place():
    whole = make_faces([(100, 100, 160, 160)])
    part = make_faces([(100, 100, 130, 160)])  # the left half of the same face, cut by a tile edge
    other = make_faces([(400, 100, 460, 160)])
    whole.scores[:] = 0.7
    part.scores[:] = 0.9
    merged = merge([whole, part, other])
    assert len(merged) == 2
    assert overlap_ratio(whole.boxes, part.boxes)[0, 0] == pytest.approx(1.0)


def _mosaic() -> np.ndarray:
    """A 2560x1440 mosaic: 4x4 cells of 640x360, one ~55 px tall portrait per cell on grey."""
    faces = real_faces(4)
    frame = np.full((1440, 2560, 3), 90, np.uint8)
    for k in range(16):
        img = faces[k % 4]
        img = cv2.resize(img, (int(img.shape[1] * 110 / img.shape[0]), 110))
        r, c = divmod(k, 4)
        y, x = r * 360 + 120, c * 640 + 260
        frame[y:y + img.shape[0], x:x + img.shape[1]] = img
    return frame


def test_tiles_find_small_faces_the_full_frame_misses():
    frame = _mosaic()
    with FaceDetector("full", video=False) as plain:
        n_plain = len(plain.detect(frame))
    with TiledDetector(FaceDetector("full", video=False), every=1) as tiled:
        found = tiled.detect(frame)
    assert len(found) >= 12 > n_plain
    # faces are reported in frame pixels, one per portrait
    cells = {(int(cy // 360), int(cx // 640)) for cx, cy in (found.boxes[:, :2] + found.boxes[:, 2:]) / 2}
    assert len(cells) == len(found)


def test_small_frames_are_not_tiled():
    with TiledDetector(FaceDetector("full", video=False), every=1) as tiled:
        calls = []
        tiled.detect_tiles = lambda frame: calls.append(frame) or make_faces([])
        tiled.detect(np.zeros((360, 640, 3), np.uint8))
        assert calls == []


def test_workers_share_the_tiles_and_find_the_same_faces():
    frame = _mosaic()
    with TiledDetector(FaceDetector("full", video=False), workers=1) as one:
        alone = one.detect_tiles(frame)
    with TiledDetector(FaceDetector("full", video=False), workers=3) as three:
        shared = [three.detect_tiles(frame) for _ in range(2)]
        assert len(three.tilers) == 3 and three._pool is not None
        three.min_score = 0.4  # thresholds reach every worker's detector
        assert [t.min_score for t in three.tilers] == pytest.approx([0.4] * 3)
    assert three._pool is None and three._tilers == []  # close() stops the helper threads
    assert len(alone) >= 12
    for faces in shared:  # the same faces in the same order, whichever worker took which tile
        np.testing.assert_allclose(faces.boxes, alone.boxes, atol=1e-3)
        np.testing.assert_allclose(faces.scores, alone.scores, atol=1e-5)
