"""Tiled detection for small faces in large frames (c3ae.detect.tiles)."""
import cv2
import numpy as np
import pytest
from synth import make_faces, real_faces

from c3ae.detect.blazeface import FaceDetector
from c3ae.detect.tiles import ACTIVE_CALLS, SCOUT_EVERY, TiledDetector, merge, tile_origins
from c3ae.faces import Faces, box_overlaps
from c3ae.model.runner import AgeEngine
from c3ae.options import PipelineOptions
from c3ae.pipeline import FramePipeline
from c3ae.training.clips import cluttered_frames


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
    assert box_overlaps(whole.boxes, part.boxes)[1][0, 0] == pytest.approx(1.0)


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
    with TiledDetector(FaceDetector("full", video=False), always=True, per_call=28) as tiled:
        found = tiled.detect(frame)  # every tile at once; each face a tile alone saw is looked at again
    assert len(found) >= 12 > n_plain
    # faces are reported in frame pixels, one per portrait
    cells = {(int(cy // 360), int(cx // 640)) for cx, cy in (found.boxes[:, :2] + found.boxes[:, 2:]) / 2}
    assert len(cells) == len(found)


def test_small_frames_are_not_tiled():
    with TiledDetector(FaceDetector("full", video=False), always=True) as tiled:
        calls = []
        tiled.detect_tiles = lambda frame, windows=None: calls.append(frame) or make_faces([])
        tiled.detect(np.zeros((360, 640, 3), np.uint8))
        assert calls == []


def test_active_tiles_rotate_so_every_tile_is_scanned_within_a_few_calls():
    blank = np.full((1080, 1920, 3), 90, np.uint8)
    with TiledDetector(FaceDetector("full", video=False), always=True, per_call=4) as tiled:
        n = len(tiled.windows(1080, 1920))
        tiled.detect(blank)
        assert tiled.scanned == list(range(n))  # the first call sweeps the whole frame
        scanned = []
        for _ in range(-(-n // 4)):
            tiled.detect(blank)
            assert len(tiled.scanned) == 4
            scanned += tiled.scanned
    assert n == 15 and set(scanned) == set(range(n))


def test_without_small_faces_only_a_scout_tile_runs_now_and_then():
    blank = np.full((1080, 1920, 3), 90, np.uint8)
    with TiledDetector(FaceDetector("full", video=False)) as tiled:
        per_call = []
        for _ in range(1 + 4 * SCOUT_EVERY):
            tiled.detect(blank)
            per_call.append(len(tiled.scanned))
    assert per_call[0] == 15  # the first call sweeps the whole frame, once
    assert sum(per_call[1:]) == 4 and max(per_call[1:]) == 1


def _candidate(box, score=0.6) -> Faces:
    faces = make_faces([box])
    return faces.replace(scores=np.array([score], np.float32))


def test_a_face_only_a_tile_saw_is_shown_only_after_a_second_look(monkeypatch):
    """A tile's face where no face was counts only if a crop around it, seen larger,
    holds a face too; a refused place is not looked at again for a while."""
    frame = _mosaic()
    with TiledDetector(FaceDetector("full", video=False), always=True, per_call=1) as tiled:
        real = tiled.detect_tiles(frame)  # genuine small faces, each found by a tile alone
        ghost = _candidate((1000, 1000, 1030, 1030))  # a grey patch: no face there
        monkeypatch.setattr(tiled, "detect_tiles", lambda frame, windows=None: Faces.concatenate([real[:1], ghost]))
        looks = []
        second_look = tiled._second_look
        monkeypatch.setattr(tiled, "_second_look", lambda f, c: looks.append(c) or second_look(f, c))
        shown = tiled.detect(frame)
        assert len(looks) == 2  # both were new: both looked at again
        assert len(shown) == 1 and box_overlaps(shown.boxes, real.boxes[:1])[1][0, 0] > 0.5
        looks.clear()
        again = tiled.detect(frame)
        assert len(again) == 1  # the known face needs no second look; the ghost's place stays refused
        assert len(looks) == 1 and np.array_equal(looks[0].boxes, ghost.boxes) and len(tiled._rejected) == 1


@pytest.mark.parametrize("score, active", [(0.35, False), (0.6, True)])
def test_only_a_small_face_that_could_start_a_track_keeps_the_tiles_on(monkeypatch, score, active):
    """A weak small face (below the score a track starts at) only follows tracks, so it
    does not switch the tiles on: one dim blur must not cost a rotation for 30 calls.
    A confident one does, without sweeping the frame a second time."""
    blank = np.full((1080, 1920, 3), 90, np.uint8)
    with TiledDetector(FaceDetector("full", video=False)) as tiled:
        found = _candidate((1000, 500, 1024, 524), score)  # a 24 px face a tile found (and a second look kept)
        monkeypatch.setattr(tiled, "detect_tiles", lambda frame, windows=None: found)
        monkeypatch.setattr(tiled, "_second_look", lambda frame, candidate: candidate)
        tiled.detect(blank)  # the first call's sweep finds it
        per_call = []
        for _ in range(2 * SCOUT_EVERY):
            tiled.detect(blank)
            per_call.append(len(tiled.scanned))
    if active:  # in rotation from the next call on: the face the first sweep found needs no second sweep
        assert 2 <= min(per_call) and max(per_call) < 15
    else:
        assert max(per_call) <= 1 and sum(per_call) < len(per_call)


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


def test_hands_lights_and_dark_patches_get_no_track():
    """A cluttered 1080p scene with no one in it (skin-coloured hands, bright blobs,
    a dark patch on grain): with tiles on every call, candidates are looked at
    again and refused; what slips through once never becomes a person with an age."""
    frames = [frame for frame, _ in cluttered_frames([], n=40, size=(1920, 1080))]
    pipeline = FramePipeline(PipelineOptions(detector="full", device="cpu", tiles="on"),
                             engine=AgeEngine(None, device="cpu", warmup=False))
    looks = []
    second_look = pipeline.detector._second_look
    pipeline.detector._second_look = lambda frame, candidate: looks.append(candidate) or second_look(frame, candidate)
    try:
        tracked = [pipeline.process(frame, draw=False).faces for frame in frames]
    finally:
        pipeline.close()
    assert len(looks) >= 10  # the tiles did take things for faces
    assert not any(np.isfinite(faces.ages_smoothed).any() for faces in tracked)  # no box gets an age
    assert pipeline.tracker.summaries() == []  # nobody: no tentative track lived to be confirmed
    assert sum(len(faces) > 0 for faces in tracked) <= 3


def test_a_restored_state_gives_the_same_answer_again():
    """A player that steps back restores the detector's memory (rotation, known
    faces, refused places): the frame after gets the same faces as the first time."""
    frame = _mosaic()
    shifted = np.roll(frame, 6, axis=1)
    with TiledDetector(FaceDetector("full", video=False), always=True, per_call=5) as tiled:
        tiled.detect(frame)
        state = tiled.snapshot()
        first = tiled.detect(shifted)
        tiled.detect(frame)
        tiled.restore(state)
        again = tiled.detect(shifted)
    assert len(first) >= 12
    np.testing.assert_array_equal(again.boxes, first.boxes)


@pytest.mark.parametrize("finder, active_calls", [("whole", 8), ("tile", ACTIVE_CALLS + 1)])
def test_tiles_stay_on_long_only_for_a_face_no_whole_frame_saw(monkeypatch, finder, active_calls):
    """A small face the whole frame found turns the rotation on for one round of the
    frame (8 calls at 1080p), to look for smaller ones; one only a tile found shows
    the tiles pay, and keeps them on for ACTIVE_CALLS calls."""
    blank = np.full((1080, 1920, 3), 90, np.uint8)
    with TiledDetector(FaceDetector("full", video=False)) as tiled:
        face = _candidate((1000, 500, 1040, 540), 0.8)  # 40 px: small at 1080p
        seen = {"whole": face if finder == "whole" else Faces.empty(),
                "tile": face if finder == "tile" else Faces.empty()}
        monkeypatch.setattr(tiled.base, "detect", lambda frame: seen["whole"])
        monkeypatch.setattr(tiled, "detect_tiles", lambda frame, windows=None: seen["tile"])
        monkeypatch.setattr(tiled, "_second_look", lambda frame, candidate: candidate)
        tiled.detect(blank)  # found on the first call only
        seen["whole"] = seen["tile"] = Faces.empty()
        per_call = []
        for _ in range(ACTIVE_CALLS + 2 * SCOUT_EVERY):
            tiled.detect(blank)
            per_call.append(len(tiled.scanned))
    rotating = [n >= 2 for n in per_call]
    assert rotating == [True] * (active_calls - 1) + [False] * (len(per_call) - active_calls + 1)


def test_the_score_that_turns_tiles_on_follows_the_trackers(shared_engine):
    pipeline = FramePipeline(PipelineOptions(detector="full", device="cpu", tiles="auto", min_score=0.7),
                             engine=shared_engine)
    try:
        assert pipeline.detector.start_score == pytest.approx(0.7)
        pipeline.min_score = 0.4
        assert pipeline.detector.start_score == pytest.approx(0.4) == pipeline.tracker.high_score
    finally:
        pipeline.close()
