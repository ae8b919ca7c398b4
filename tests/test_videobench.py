import numpy as np
import pytest
from synth import real_faces

from c3ae.track.fusion import HOLD, WINDOW
from c3ae.training.videobench import FRAME_SIZE, Person, convergence_gaps, make_clip, report, run_clip, spread


def _texture(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(60, 200, (200, 200, 3)).astype(np.uint8)


def test_a_clip_moves_zooms_dims_and_keeps_track_of_where_the_face_is():
    clip = make_clip(_texture(), np.array([50, 50, 150, 150]), np.random.default_rng(1), 40, 150.0)
    assert len(clip.frames) == 40 and all(f.shape == (FRAME_SIZE[1], FRAME_SIZE[0], 3) for f in clip.frames)
    sizes = clip.rects[:, 2] - clip.rects[:, 0]
    centres = (clip.rects[:, :2] + clip.rects[:, 2:]) / 2
    assert sizes.max() > 1.5 * sizes.min()  # a few small-face frames
    assert np.ptp(centres[:, 0]) > 5  # it sways
    x1, y1, x2, y2 = clip.rects[0].astype(int)
    assert abs(float(clip.frames[0][y1:y2, x1:x2].mean()) - 130) < 40  # the face is where the rect says


def _person(age: float, fused: float, half: float, quality: float = 0.9, uncertain: bool = False) -> Person:
    shown = np.full(40, fused)
    return Person(age, 150.0, 1.0, 1, fused, fused - half, fused + half, quality, uncertain, shown,
                  np.full(40, fused), np.full(40, quality), None)


def test_the_report_counts_who_is_inside_their_band():
    people = [_person(30, 32, 5), _person(30, 40, 5), _person(70, 65, 10), _person(8, 9, 3)]
    text = report(people)
    all_row = next(line for line in text.splitlines() if line.startswith("all "))
    assert all_row.split()[1:3] == ["4", "75%"]
    assert f"within {HOLD} y 100%" in text and "convergence" in text


def test_spread_ignores_the_first_frames_and_needs_enough_of_them():
    shown = np.concatenate([np.full(15, 60.0), np.linspace(30, 31, 30)])
    assert 0.5 < spread(shown) < 1.0
    assert np.isnan(spread(np.full(17, 40.0)))


def test_convergence_compares_the_shown_age_with_the_last_seconds_weighted_median():
    n = WINDOW + 20
    ages = np.concatenate([np.full(WINDOW, 50.0), np.full(20, 30.0)])
    held = Person(30, 150.0, 1.0, 1, 50, 40, 60, 0.9, False, np.full(n, 50.0), ages, np.full(n, 0.9), None)
    gaps = convergence_gaps(held)  # a shown age stuck at the first reading
    assert len(gaps) == 21 and gaps[0] == 0 and gaps[-1] == 20


@pytest.mark.timeout(60)
def test_a_steady_close_up_is_kept_and_its_shown_age_settles():
    """The real pipeline on one dataset face: found in nearly every frame (a hand
    and a zoom included), one track, a shown age that stays and ends at the fused one."""
    from c3ae.detect.blazeface import FaceDetector
    from c3ae.options import PipelineOptions
    from c3ae.pipeline import FramePipeline
    from c3ae.training.videobench import face_box

    image = real_faces(1)[0]
    with FaceDetector("short", video=False) as stills:
        box = face_box(stills, image)
    clip = make_clip(image, box, np.random.default_rng(0), 26, 160.0)
    pipeline = FramePipeline(PipelineOptions(device="cpu"))
    try:
        person = run_clip(pipeline, clip, 30.0)
    finally:
        pipeline.close()
    last = person.shown[np.isfinite(person.shown)][-1]
    assert person.found >= 0.95 and person.tracks == 1
    assert abs(last - person.fused) <= HOLD and spread(person.shown) <= 3.0
    assert person.low < person.fused < person.high


def _people_with_factors(n: int, seed: int) -> list[Person]:
    """People whose frames err more where the first factor (the model's spread) is larger."""
    from c3ae.track.uncertainty import FEATURES

    rng = np.random.default_rng(seed)
    people = []
    for _ in range(n):
        age, t = rng.uniform(5, 75), 30
        x = np.zeros((t, len(FEATURES)))
        x[:, 0] = rng.uniform(1, 10)  # a person the model is more or less sure about
        x[:, FEATURES.index("log2_size")] = np.log2(rng.uniform(40, 150))
        frame_ages = age + rng.normal(0, 1, t) * x[:, 0] + rng.normal(0, 1) * x[:, 0]
        fused = float(np.median(frame_ages))
        people.append(Person(age, 80.0, 1.0, 1, fused, fused - 9, fused + 9, 0.9, False, np.full(t, fused),
                             frame_ages, np.full(t, 0.9), None, x))
    return people


def test_fit_learns_the_frame_error_and_its_band_holds_eight_in_ten(tmp_path):
    from c3ae.track.uncertainty import ErrorModel
    from c3ae.training.videobench import fit, track_error

    path = tmp_path / "uncertainty.json"
    model = fit(_people_with_factors(400, 0), 24.0, path=path, note="test")
    assert ErrorModel.load(path) == model and model.log_scale and model.readable_px == 24.0
    unsure = np.zeros((2, len(model.coef)))  # two frames that differ only in the model's spread
    unsure[0, 0], unsure[1, 0] = 8.0, 2.0
    sure_error, unsure_error = model.frame_error(unsure)[::-1]
    assert unsure_error > 2 * sure_error  # errors scale with the model's spread, as they were made
    people = _people_with_factors(400, 1)
    inside = []
    for p in people:
        fused, error = track_error(p, model)
        low, high = model.band(fused, error)
        inside.append(low <= p.age <= high)
    assert 0.74 <= np.mean(inside) <= 0.86
    assert "per-frame |error| by decile of the predicted error" in report(people, model)


def test_the_flicker_figure_runs_steady_close_ups_through_the_pipeline(monkeypatch):
    from types import SimpleNamespace

    import c3ae.training.videobench as vb
    from c3ae.options import PipelineOptions

    faces = real_faces(2)
    monkeypatch.setattr(vb, "split_records", lambda subset, n, seed: [SimpleNamespace(path=k) for k in range(n)])
    monkeypatch.setattr(vb, "read_image", lambda k: faces[k])
    line = vb.steady_line("val", 2, 0, PipelineOptions(detector="auto", device="cpu"))
    assert line.startswith("2 steady close-ups (val)") and "<= 3 y" in line
