"""Labelled video benchmark: what the screen says about a person, against their true age.

Still photos hide what video does to an age: a face that sways, zooms, dims,
blurs, is compressed, covered by a hand for a moment, seen small, turned or
under a stage light (`c3ae.training.degrade`). Each face of one split subset
(UTKFace and All-Age-Faces: exact ages, never FairFace's groups) becomes such
a clip, made in memory (half of them with faces of 60-120 px, the size of an
audience shot), and the real `FramePipeline` (detector, crops, model, tracker,
fusion) runs on it. Printed:

* per decade and per face size: people, share whose true age lies inside their
  track's band (coverage, of all and of those shown with a band), median band
  width, error of the fused age, share shown as "?";
* per-frame |error| by face size and by decile of the predicted error: whether
  the uncertainty model ranks frames by how right their ages are;
* the shown age's spread (p90 - p10 after the track's first 15 frames), the
  final shown age against the fused age, the convergence figure (the shown age
  against the weighted median of the last second's per-frame ages), and the
  share of frames in which the face is found (detected or carried), by face size.

`--fit` first runs the benchmark on VALIDATION faces and fits the uncertainty
model there (`c3ae.track.uncertainty`: each frame's expected |error| from its
factors, then the band's multiples of a track's error that hold 8 in 10 true
ages), writes it to `weights/uncertainty.json` and then measures on the TEST
faces, which no fit or choice ever reads. Rerun it whenever the weights change:

    python -m c3ae.training.videobench [--fit [--fit-faces N]] [--faces 120] [--frames 40] [--subset test]
    python -m c3ae.training.videobench --steady 40 [--subset test]   # the flicker figure
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from c3ae.detect.blazeface import FaceDetector
from c3ae.faces import Faces
from c3ae.options import PipelineOptions
from c3ae.pipeline import FramePipeline
from c3ae.runtime import threads
from c3ae.runtime.paths import WEIGHTS_DIR
from c3ae.track.fusion import HOLD, WINDOW, frame_weight, weighted_median
from c3ae.track.uncertainty import (
    FEATURES,
    UNCERTAINTY_FILE,
    ErrorModel,
    fit_band_scale,
    fit_frame_error,
    fitted_model,
)
from c3ae.training import degrade
from c3ae.training.clips import close_up_frames
from c3ae.training.data import (
    DEFAULT_AAF,
    DEFAULT_SPLIT,
    DEFAULT_UTKFACE,
    Record,
    content_hash,
    decade_label,
    index_csv,
    index_utkface,
    read_image,
    read_split,
)

FRAME_SIZE = (640, 360)
SETTLE_FRAMES = 15  # the shown age's spread is measured after these
CLOSE_UP, SMALL = 120.0, 60.0  # face sizes (px) of the per-size classes
LAST_DECADE = 7  # 70 and over in one row
_LOG2_SIZE = FEATURES.index("log2_size")


# faces --------------------------------------------------------------------------------------------
def split_records(subset: str, n: int, seed: int = 0, split_path: Path = DEFAULT_SPLIT) -> list[Record]:
    """n exact-age records of `subset`, taken in turn from each decade (so old and
    young people are not a handful), hashing files only until enough are found."""
    split = read_split(split_path)
    records = index_utkface(DEFAULT_UTKFACE)[0] + index_csv(DEFAULT_AAF, dataset="aaf")[0]
    rng = np.random.default_rng(seed)
    by_decade: dict[int, list[Record]] = {}
    for i in rng.permutation(len(records)):
        by_decade.setdefault(min(records[i].decade, LAST_DECADE), []).append(records[i])
    pools = [iter(by_decade[d]) for d in sorted(by_decade)]
    chosen, seen = [], set()
    while len(chosen) < n and pools:
        for pool in list(pools):
            record = next(pool, None)
            if record is None:
                pools.remove(pool)
                continue
            h = content_hash(record.path)
            if split.get(h) == subset and h not in seen:
                seen.add(h)
                chosen.append(record)
                if len(chosen) == n:
                    break
    return chosen


# clips --------------------------------------------------------------------------------------------
@dataclass
class Clip:
    frames: list[np.ndarray]
    rects: np.ndarray  # (T, 4) where the face is, xyxy
    face_px: float  # the face's usual size


def _background(rng: np.random.Generator) -> np.ndarray:
    w, h = FRAME_SIZE
    small = rng.uniform(30, 200, (3, 5, 3)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.uint8)


def _runs(rng: np.random.Generator, n: int, length: tuple[int, int], start: int) -> np.ndarray:
    """A boolean mask with one run of `length` frames starting at or after `start`."""
    mask = np.zeros(n, bool)
    k = int(rng.integers(*length))
    s = int(rng.integers(start, max(start + 1, n - k)))
    mask[s:s + k] = True
    return mask


def make_clip(image: np.ndarray, box: np.ndarray, rng: np.random.Generator, n_frames: int,
              face_px: float) -> Clip:
    """The photo's face moving through `n_frames` frames of what video does to it:
    sway, a zoom out and back, a hand, light and colour drift, noise, and per clip
    by chance a three-quarter turn, a coloured stage light, a 2-3x softer camera,
    streaks of motion blur, and H.264 at a webcam bitrate (else JPEG)."""
    w, h = FRAME_SIZE
    if rng.random() < 0.35:
        image, box = degrade.three_quarter(image, box, rng)
    size = float(max(box[2] - box[0], box[3] - box[1]))
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    background = _background(rng)
    small = _runs(rng, n_frames, (6, 10), 5)  # a zoom out and back in
    zoom = np.zeros(n_frames)
    zoom[small] = np.sin(np.linspace(0, np.pi, small.sum()))
    occluded = _runs(rng, n_frames, (2, 5), 10) & ~small
    blurred = rng.random(n_frames) < 0.2
    phase = rng.uniform(0, 2 * np.pi, 6)
    sway = rng.uniform(0.02, 0.12) * w
    light = rng.uniform(0.1, 0.35)
    tint = rng.uniform(-0.08, 0.08, 3)
    noise = rng.uniform(1.0, 6.0)
    stage = degrade.stage_light((h, w), rng) if rng.random() < 0.35 else None
    softer = rng.uniform(2.0, 3.0) if rng.random() < 0.3 else None
    kbps = float(rng.choice(degrade.WEBCAM_KBPS)) if rng.random() < 0.6 else None
    jpeg = int(rng.integers(40, 86))
    grain = (rng.standard_normal((4, h, w, 3), dtype=np.float32) * noise).astype(np.int16)  # reused in turn
    frames, rects = [], []
    for t in range(n_frames):
        s = t / n_frames * 2 * np.pi
        scale = face_px / size * (1 + 0.08 * np.sin(s + phase[0])) * (1 - 0.55 * zoom[t])
        where = np.array([w / 2 + sway * np.sin(s + phase[1]), h / 2 + 0.3 * sway * np.sin(2 * s + phase[2])])
        m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 4 * np.sin(s + phase[3]), scale)
        m[:, 2] = where - m[:, :2] @ centre  # the face centre goes to `where`
        frame = cv2.warpAffine(image, m, (w, h), dst=background.copy(), borderMode=cv2.BORDER_TRANSPARENT,
                               flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        half = size * scale / 2
        rect = np.array([*(where - half), *(where + half)])
        if occluded[t]:  # a hand over the lower face
            x1, y1, x2, y2 = rect
            cv2.rectangle(frame, (int(x1), int(y1 + 0.35 * (y2 - y1))), (int(x2), int(y2 + 0.2 * (y2 - y1))),
                          (80, 110, 160), -1)
        if stage is not None:
            frame = np.clip(frame * stage, 0, 255).astype(np.uint8)
        gain = 1 + light * np.sin(s + phase[4]) + tint * np.sin(s + phase[5])  # light and colour drift
        frame = cv2.add(cv2.transform(frame, np.diag(gain)), grain[t % 4], dtype=cv2.CV_8U)
        if softer is not None:
            frame = degrade.soften(frame, softer)
        if blurred[t]:
            frame = degrade.motion_blur(frame, int(rng.integers(5, 14)), rng.uniform(0, 180))
        if kbps is None:
            frame = cv2.imdecode(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, jpeg])[1], cv2.IMREAD_COLOR)
        frames.append(frame)
        rects.append(rect)
    if kbps is not None:
        frames = degrade.h264(frames, kbps)
    return Clip(frames, np.array(rects), face_px)


# one clip through the pipeline ---------------------------------------------------------------------
@dataclass
class Person:
    """One clip's person, as the pipeline showed them."""

    age: float  # true
    face_px: float
    found: float  # share of frames with a face (detected or carried) on the person
    tracks: int  # track ids the person got
    fused: float  # the track's fused age (what --tracks says) ...
    low: float  # ... and its band, also where the display hides it as uncertain
    high: float
    quality: float
    uncertain: bool
    shown: np.ndarray  # (T,) shown age per frame (NaN where none)
    frame_ages: np.ndarray  # (T,) the frame's own estimate where detected
    frame_quality: np.ndarray  # (T,)
    dist: np.ndarray | None  # the track's fused distribution
    factors: np.ndarray | None = None  # (T, F) `uncertainty.frame_factors` where detected, else NaN


def _on_person(faces: Faces, rect: np.ndarray) -> np.ndarray:
    """Which faces' box centres lie inside the person's face rectangle (widened by a quarter)."""
    pad = 0.25 * (rect[2:] - rect[:2])
    c = faces.centres
    return np.all((c >= rect[:2] - pad) & (c <= rect[2:] + pad), axis=1)


def run_clip(pipeline: FramePipeline, clip: Clip, true_age: float) -> Person:
    pipeline.reset()
    n = len(clip.frames)
    ids = np.full(n, -1)
    shown, ages, quality, uncertain = (np.full(n, np.nan) for _ in range(4))
    factors = None
    for t, frame in enumerate(clip.frames):
        faces = pipeline.process(frame, draw=False).faces
        hit = np.flatnonzero(_on_person(faces, clip.rects[t]))
        if not len(hit):
            continue
        i = hit[np.argmax(faces.missed[hit] == 0)]  # a detection before a carried box
        ids[t], shown[t], uncertain[t] = faces.track_ids[i], faces.ages_smoothed[i], faces.uncertain[i]
        if faces.missed[i] == 0:
            ages[t], quality[t] = faces.ages[i], faces.quality[i]
            row = pipeline.tracker.last_factors[i]  # detections come first, in the same order
            factors = np.full((n, len(row)), np.nan) if factors is None else factors
            factors[t] = row
    tracked = ids[ids >= 0]
    main = int(np.bincount(tracked).argmax()) if len(tracked) else -1
    summary = next((s for s in pipeline.tracker.summaries() if s.track_id == main), None)
    mine = ids == main
    fused, low, high, q = ((summary.age, summary.age_low, summary.age_high, summary.quality)
                           if summary else (np.nan,) * 4)
    last = np.flatnonzero(mine)
    return Person(true_age, clip.face_px, float((ids >= 0).mean()), len(set(tracked.tolist())), fused, low, high, q,
                  bool(uncertain[last[-1]]) if len(last) else True, np.where(mine, shown, np.nan),
                  np.where(mine, ages, np.nan), np.where(mine, quality, np.nan),
                  getattr(summary, "dist", None), None if factors is None else np.where(mine[:, None], factors, np.nan))


def face_box(detector: FaceDetector, image: np.ndarray) -> np.ndarray | None:
    """The photo's most confident face, or None."""
    faces = detector.detect(image, pad=0.3)
    return faces.boxes[int(np.argmax(faces.scores))] if len(faces) else None


def run_benchmark(records: list[Record], n_frames: int, seed: int, options: PipelineOptions,
                  progress: bool = True) -> list[Person]:
    """Every record's clip through one pipeline (reset between clips)."""
    rng = np.random.default_rng(seed)
    people = []
    pipeline = FramePipeline(options)
    t0 = time.perf_counter()
    with FaceDetector("short", video=False) as stills:
        for k, record in enumerate(records):
            image = read_image(record.path)
            box = None if image is None else face_box(stills, image)
            if box is None:
                continue
            sizes = (60, 120) if k % 2 else (36, 220)  # every other clip the size of an audience shot
            face_px = float(np.exp(rng.uniform(np.log(sizes[0]), np.log(sizes[1]))))
            clip = make_clip(image, box, rng, int(rng.integers(n_frames * 3 // 4, n_frames * 3 // 2 + 1)), face_px)
            people.append(run_clip(pipeline, clip, record.age))
            if progress and (k + 1) % 20 == 0:
                print(f"  {k + 1}/{len(records)} clips, {time.perf_counter() - t0:.0f} s", flush=True)
    pipeline.close()
    return people


# figures ------------------------------------------------------------------------------------------
def spread(shown: np.ndarray) -> float:
    """p90 - p10 of the shown age after the track's first SETTLE_FRAMES shown frames."""
    values = shown[np.isfinite(shown)][SETTLE_FRAMES:]
    return float(np.percentile(values, 90) - np.percentile(values, 10)) if len(values) >= 5 else np.nan


def convergence_gaps(p: Person) -> np.ndarray:
    """|shown age - weighted median of the last second's per-frame ages| at every
    detected frame from the track's `WINDOW`-th on (the weights the fusion uses)."""
    seen = np.flatnonzero(np.isfinite(p.frame_ages) & np.isfinite(p.shown))
    gaps = [abs(p.shown[t] - weighted_median(p.frame_ages[seen[k + 1 - WINDOW:k + 1]],
                                             frame_weight(p.frame_quality[seen[k + 1 - WINDOW:k + 1]])))
            for k, t in enumerate(seen) if k + 1 >= WINDOW]
    return np.array(gaps)


def _row(name: str, people: list[Person]) -> str:
    rated = [p for p in people if np.isfinite(p.fused)]
    if not rated:
        return f"{name:12s} {len(people):6d}      -"
    inside = np.mean([p.low <= p.age <= p.high for p in rated])
    shown = [p for p in rated if not p.uncertain]
    inside_shown = np.mean([p.low <= p.age <= p.high for p in shown]) if shown else np.nan
    width = np.median([p.high - p.low for p in rated])
    mae = np.mean([abs(p.fused - p.age) for p in rated])
    shown_band = np.median([p.high - p.low for p in shown] or [np.nan])
    return (f"{name:12s} {len(rated):6d} {100 * inside:8.0f}% {100 * inside_shown:8.0f}% {width:8.1f}"
            f" {shown_band:10.1f} {mae:7.1f} {100 * np.mean([p.uncertain for p in rated]):6.0f}%")


SIZE_CLASSES = (("< 60 px", lambda p: p.face_px < SMALL), ("60-120 px", lambda p: SMALL <= p.face_px < CLOSE_UP),
                (">= 120 px", lambda p: p.face_px >= CLOSE_UP), (">= 60 px", lambda p: p.face_px >= SMALL))


def frame_table(people: list[Person]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every detected frame of the people's tracks: (factors, |error|, face size (px))."""
    rows = [(p.factors[t], abs(p.frame_ages[t] - p.age), 2 ** p.factors[t, _LOG2_SIZE])
            for p in people if p.factors is not None
            for t in np.flatnonzero(np.isfinite(p.frame_ages) & np.isfinite(p.factors).all(axis=1))]
    if not rows:
        return np.zeros((0, 0)), np.zeros(0), np.zeros(0)
    x, err, size = zip(*rows)
    return np.array(x), np.array(err), np.array(size)


def report(people: list[Person], model: ErrorModel | None = None) -> str:
    """The benchmark's tables, as printed (`model`: the uncertainty model the tracks used)."""
    head = (f"{'':12s} {'people':>6s} {'coverage':>9s} {'of shown':>9s} {'width':>8s} {'width shown':>10s}"
            f" {'MAE':>7s} {'? share':>7s}")
    lines = ["band (true age inside the track's band, of all and of those shown with a band; width in years,"
             " median; '?': shown without a band)", head]
    for d in range(LAST_DECADE + 1):
        members = [p for p in people if min(int(p.age // 10), LAST_DECADE) == d]
        lines.append(_row(decade_label(d) if d < LAST_DECADE else f"{d * 10}+", members))
    for name, sel in SIZE_CLASSES:
        lines.append(_row(name, [p for p in people if sel(p)]))
    lines.append(_row("all", people))

    x, err, size = frame_table(people)
    if len(err) >= 10:
        lines += ["", "per-frame |error| by face size (px)",
                  f"{'size':>10s} {'frames':>7s} {'median':>7s} {'mean':>6s}"]
        for lo, hi in ((0, 30), (30, 45), (45, 60), (60, 90), (90, 120), (120, 1e9)):
            e = err[(size >= lo) & (size < hi)]
            if len(e):
                lines.append(f"{lo:4.0f}-{min(hi, 999):<5.0f} {len(e):7d} {np.median(e):7.1f} {e.mean():6.1f}")
        predicted = (model or fitted_model()).frame_error(x)
        lines += ["", "per-frame |error| by decile of the predicted error (1 = smallest)",
                  f"{'decile':>6s} {'predicted':>11s} {'frames':>7s} {'median':>7s} {'mean':>6s}"]
        edges = np.percentile(predicted, np.linspace(0, 100, 11))
        bins = np.clip(np.searchsorted(edges, predicted, side="right") - 1, 0, 9)
        for b in range(10):
            e = err[bins == b]
            if len(e):
                lines.append(f"{b + 1:6d} {edges[b]:5.1f}-{edges[b + 1]:5.1f} {len(e):7d} {np.median(e):7.1f}"
                             f" {e.mean():6.1f}")

    spreads = np.array([spread(p.shown) for p in people])
    last_shown = np.array([p.shown[np.isfinite(p.shown)][-1] if np.isfinite(p.shown).any() else np.nan
                           for p in people])
    gap = np.abs(last_shown - np.array([p.fused for p in people]))
    lines += ["", "shown age",
              f"spread p90-p10 after {SETTLE_FRAMES} frames: median {np.nanmedian(spreads):.2f} y, "
              f"p90 {np.nanpercentile(spreads, 90):.2f} y ({np.isfinite(spreads).sum()} tracks)",
              f"final shown vs fused age: median {np.nanmedian(gap):.2f} y, max {np.nanmax(gap):.2f} y, "
              f"within {HOLD} y {100 * np.mean(gap[np.isfinite(gap)] <= HOLD):.0f}%",
              _convergence_line(people),
              "", "faces found (detected or carried), share of frames"]
    for name, sel in (*SIZE_CLASSES[:3], ("all", lambda p: True)):
        members = [p for p in people if sel(p)]
        if members:
            found = np.array([p.found for p in members])
            lines.append(f"{name:20s} {len(members):4d} clips: mean {100 * found.mean():5.1f}%, "
                         f"clips >= 95%: {100 * np.mean(found >= 0.95):3.0f}%, "
                         f"tracks per person {np.mean([p.tracks for p in members]):.2f}")
    return "\n".join(lines)


def _convergence_line(people: list[Person]) -> str:
    gaps = np.concatenate([convergence_gaps(p) for p in people] + [np.zeros(0)])
    if not len(gaps):
        return f"convergence: no track reached {WINDOW} detected frames"
    return (f"convergence (shown vs weighted median of the last {WINDOW} detected frames, {len(gaps)} frames): "
            f"within 2 y {100 * np.mean(gaps <= 2):.1f}%, median {np.median(gaps):.2f} y, "
            f"p90 {np.percentile(gaps, 90):.2f} y, max {gaps.max():.2f} y")


def track_error(p: Person, model: ErrorModel) -> tuple[float, float]:
    """(fused age, expected error) of the person's track at its end, as the fusion has them:
    the weighted medians over its last `WINDOW` detected frames."""
    seen = np.flatnonzero(np.isfinite(p.frame_ages) & np.isfinite(p.factors).all(axis=1))[-WINDOW:]
    w = frame_weight(p.frame_quality[seen])
    return weighted_median(p.frame_ages[seen], w), weighted_median(model.frame_error(p.factors[seen]), w)


def fit(people: list[Person], readable_px: float, path: Path = UNCERTAINTY_FILE, note: str = "") -> ErrorModel:
    """Fit the uncertainty model on these (validation) people and store it where the tracker reads it:
    each frame's expected |error| from its factors, then the band's multiples of a track's error."""
    x, err, _ = frame_table(people)
    intercept, coef = fit_frame_error(x, np.log1p(err))
    model = ErrorModel(intercept, coef, log_scale=True)
    model = replace(model, typical=float(np.median(model.frame_error(x))), readable_px=readable_px)
    rated = [p for p in people if p.factors is not None and np.isfinite(p.factors).all(axis=1).any()]
    fused, error = np.array([track_error(p, model) for p in rated]).T
    low, high = fit_band_scale(fused, error, np.array([p.age for p in rated]))
    model = replace(model, low=low, high=high)
    path.write_text(json.dumps({**model.to_json(), "fitted_on": f"{len(err)} frames of {len(rated)} validation "
                                                                f"people, {note}"}, indent=2) + "\n")
    fitted_model.cache_clear()  # the tracks made from now on take it
    return model


def steady_line(subset: str, n: int, seed: int, options: PipelineOptions) -> str:
    """The flicker figure: n steady close-ups of `subset` faces (the face 30% of a
    640x360 frame, drifting a little, 3 s at 25 FPS); per face the shown age's
    p90 - p10 after the first second, and how often the label's year changes."""
    pipeline = FramePipeline(options)
    spreads, changes = [], []
    for record in split_records(subset, n, seed):
        image = read_image(record.path)
        if image is None:
            continue
        pipeline.reset()
        shown = []
        for frame in close_up_frames(image, n=75, size=FRAME_SIZE, share=0.3):
            faces = pipeline.process(frame, draw=False).faces
            shown.append(float(faces.ages_smoothed[0]) if len(faces) else np.nan)
        settled = np.array(shown[WINDOW:])
        settled = settled[np.isfinite(settled)]
        if len(settled) >= 20:
            spreads.append(np.percentile(settled, 90) - np.percentile(settled, 10))
            changes.append(np.mean(np.diff(np.round(settled)) != 0))
    pipeline.close()
    if not spreads:
        return "steady close-ups: no face was shown"
    spreads = np.array(spreads)
    return (f"{len(spreads)} steady close-ups ({subset}): shown-age spread p90-p10 after 1 s median "
            f"{np.median(spreads):.2f} y, p90 {np.percentile(spreads, 90):.2f} y, max {spreads.max():.2f} y, "
            f"<= 3 y {100 * np.mean(spreads <= 3):.0f}%; the label's year changes on "
            f"{100 * np.mean(changes):.1f}% of frames")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit", action="store_true", help="fit the uncertainty model on validation faces first")
    parser.add_argument("--readable", type=float, default=ErrorModel.readable_px,
                        help="face size (px) below which an age is shown as '?' (with --fit)")
    parser.add_argument("--subset", default="test", choices=("test", "val"), help="faces measured")
    parser.add_argument("--faces", type=int, default=120, help="people (clips) per benchmark")
    parser.add_argument("--fit-faces", type=int, default=0, help="validation people the fit reads (default: --faces)")
    parser.add_argument("--frames", type=int, default=40, help="typical clip length (0.75x-1.5x)")
    parser.add_argument("--detector", default="auto", choices=("auto", "short", "full"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steady", type=int, default=0,
                        help="instead: the flicker figure on this many steady close-ups of --subset faces")
    args = parser.parse_args(argv)
    threads.apply()
    options = PipelineOptions(detector=args.detector, device="cpu")
    if args.steady:
        print(steady_line(args.subset, args.steady, args.seed + 5, options))
        return
    if args.fit:
        n_fit = args.fit_faces or args.faces
        print(f"validation benchmark: {n_fit} faces", flush=True)
        val = run_benchmark(split_records("val", n_fit, args.seed), args.frames, args.seed + 1, options)
        weights = json.loads((WEIGHTS_DIR / "c3ae.json").read_text())["sha256"][:12]
        model = fit(val, args.readable, note=f"weights {weights}..., seed {args.seed}, {args.frames} frames")
        print(f"model written to {UNCERTAINTY_FILE}: {model}\n", flush=True)
    print(f"{args.subset} benchmark: {args.faces} faces", flush=True)
    people = run_benchmark(split_records(args.subset, args.faces, args.seed), args.frames, args.seed + 2, options)
    print(report(people))


if __name__ == "__main__":
    main()
