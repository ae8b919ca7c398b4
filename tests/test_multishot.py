"""End to end on a multi-shot clip of real faces (tests/multishot.py): annotate
with --csv/--json/--tracks, then check identities and ages in what it wrote."""
import csv
import json
from collections import defaultdict

import numpy as np
import pytest
from multishot import adult_faces, multishot_clip
from synth import write_clip

from c3ae.cli import annotate
from c3ae.detect.face_models import model_path
from c3ae.errors import FaceModelMissing


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    try:
        model_path("full")
    except FaceModelMissing as exc:
        pytest.skip(str(exc))
    frames, shots, people = multishot_clip(adult_faces(10))
    folder = tmp_path_factory.mktemp("multishot")
    clip = write_clip(folder / "clip.mp4", frames, fps=25)
    out = {k: folder / f"out.{k}" for k in ("mp4", "csv", "json")}
    tracks = folder / "tracks.csv"
    assert annotate.main([str(clip), "-o", str(out["mp4"]), "--csv", str(out["csv"]), "--json", str(out["json"]),
                          "--tracks", str(tracks), "--device", "cpu"]) == 0
    with open(out["csv"]) as f:
        rows = list(csv.DictReader(f))
    with open(tracks) as f:
        people_rows = list(csv.DictReader(f))
    return {"rows": rows, "shots": shots, "people": people, "tracks": people_rows,
            "json": json.loads(out["json"].read_text())}


def _by_track(run) -> dict[int, list[dict]]:
    tracks = defaultdict(list)
    for r in run["rows"]:
        tracks[int(r["track_id"])].append(r)
    return tracks


def test_no_track_crosses_a_cut(run):
    for tid, rows in _by_track(run).items():
        shots = {run["shots"][int(r["frame"])] for r in rows} - {"-"}  # carried through black: no shot
        assert len(shots) == 1, f"track {tid} spans shots {shots}"


def test_one_track_per_person_through_a_hand_a_dip_a_fade_and_a_pan(run):
    per_shot = defaultdict(set)
    for tid, rows in _by_track(run).items():
        if sum(r["detected"] == "1" for r in rows) >= 5:  # a person, not a one-off false detection
            per_shot[run["shots"][int(rows[0]["frame"])]].add(tid)
    assert {shot: len(ids) for shot, ids in per_shot.items()} == run["people"]


def test_the_covered_face_keeps_its_track_and_its_rows(run):
    shot_a = [r for r in run["rows"] if run["shots"][int(r["frame"])] == "A"]
    left = {int(r["track_id"]) for r in shot_a if float(r["x"]) < 300}
    assert len(left) == 1
    rows = [r for r in shot_a if int(r["track_id"]) in left]
    frames = sorted(int(r["frame"]) for r in rows)
    assert frames == list(range(frames[0], 40))  # a row in every frame, covered or not
    carried = [r for r in rows if r["detected"] == "0"]
    assert len(carried) >= 8 and all(r["age_smoothed"] and r["score"] == "" for r in carried)


def test_crossing_people_keep_their_ids(run):
    shot_e = [r for r in run["rows"] if run["shots"][int(r["frame"])] == "E"]
    first, last = min(int(r["frame"]) for r in shot_e), max(int(r["frame"]) for r in shot_e)
    x = {(int(r["frame"]), int(r["track_id"])): float(r["x"]) for r in shot_e}
    start = sorted((v, tid) for (f, tid), v in x.items() if f == first)
    end = sorted((v, tid) for (f, tid), v in x.items() if f == last)
    assert [tid for _, tid in start] == [tid for _, tid in reversed(end)]  # left-to-right order swapped


def test_shown_age_of_a_still_face_is_steady_and_stays_in_its_band(run):
    rows = [r for r in run["rows"] if run["shots"][int(r["frame"])] == "A" and float(r["x"]) > 300
            and r["age_smoothed"]]
    shown = np.array([float(r["age_smoothed"]) for r in rows])
    assert len(shown) >= 30
    assert np.percentile(shown, 90) - np.percentile(shown, 10) <= 3.0
    low, high = float(rows[0]["age_low"]), float(rows[0]["age_high"])
    assert ((shown >= low) & (shown <= high)).all()


def test_tracks_file_has_one_row_per_person(run):
    rows = run["tracks"]
    assert len(rows) == sum(run["people"].values())
    assert list(rows[0]) == ["track_id", "first_frame", "last_frame", "frames", "seconds", "age", "age_low",
                             "age_high", "quality"]
    banded = [r for r in rows if r["age_low"]]  # "?" (a band wider than 30 y) leaves it empty
    assert len(banded) >= 0.8 * len(rows)
    for r in banded:
        assert float(r["age_low"]) <= float(r["age"]) <= float(r["age_high"])
    for r in rows:
        assert int(r["frames"]) >= 5 and float(r["seconds"]) > 0
    assert [t["track_id"] for t in run["json"]["tracks"]] == [int(r["track_id"]) for r in rows]


def test_stepping_back_shows_the_same_tracks_and_ages_as_the_first_pass():
    try:
        model_path("full")
    except FaceModelMissing as exc:
        pytest.skip(str(exc))
    from c3ae.options import PipelineOptions
    from c3ae.pipeline import FramePipeline

    frames, _, _ = multishot_clip(adult_faces(10))
    pipeline = FramePipeline(PipelineOptions(detector="full", device="cpu"))
    try:
        first = [pipeline.process(frames[i], draw=False, index=i, seekable=True).faces for i in range(50)]
        for i in [20, 21, 22, 12, 13, 45, 45, 41]:  # steps back, a jump back, a repeat, forward again
            again = pipeline.process(frames[i], draw=False, index=i, seekable=True).faces
            for name in ("track_ids", "missed", "ages_smoothed", "ages_low", "ages_high"):
                np.testing.assert_array_equal(getattr(again, name), getattr(first[i], name), err_msg=f"{name} @ {i}")
    finally:
        pipeline.close()
