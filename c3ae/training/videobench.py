"""Labelled video benchmark: what the screen says about a person, against their true age.

Still photos hide what video does to an age: a face that sways, zooms, dims,
blurs, is compressed, covered by a hand for a moment or seen small for a few
frames. Each face of one split subset (UTKFace and All-Age-Faces: exact ages,
never FairFace's groups) becomes such a clip, made in memory, and the real
`FramePipeline` (detector, crops, model, tracker, fusion) runs on it. Printed:

* per decade and per quality tier: people, share whose true age lies inside
  their track's band (coverage), median band width, error of the fused age;
* per-frame |error| by quality decile: whether quality ranks faces by how
  right their ages are;
* the shown age's spread (p90 - p10 after the track's first 15 frames), the
  final shown age against the fused age, and the share of frames in which the
  face is found (detected or carried), by face size.

`--fit` first runs the benchmark on VALIDATION faces and fits the band there
(`c3ae.track.fusion.Band`: the 10th and 90th percentiles of the people's
scaled errors, so 8 in 10 true ages lie inside), writes it to
`weights/bands.json` and then measures on the TEST faces, which no fit or
choice ever reads. Rerun it whenever the weights change:

    python -m c3ae.training.videobench [--fit] [--faces 120] [--frames 40] [--subset test]
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from c3ae.detect.blazeface import FaceDetector
from c3ae.faces import Faces
from c3ae.options import PipelineOptions
from c3ae.pipeline import FramePipeline
from c3ae.runtime import threads
from c3ae.runtime.paths import WEIGHTS_DIR
from c3ae.track.fusion import BAND_FILE, HOLD, WINDOW, Band, fit_band, fitted_band, frame_weight, weighted_median
from c3ae.track.quality import UNCERTAIN_BELOW
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
CLOSE_UP, SMALL = 120.0, 60.0  # face sizes (px) of the found-share classes
GOOD_QUALITY = 0.6  # track quality tiers: good from here, poor below UNCERTAIN_BELOW
LAST_DECADE = 7  # 70 and over in one row


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
    """The photo's face moving through `n_frames` frames of what video does to it."""
    w, h = FRAME_SIZE
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
        gain = 1 + light * np.sin(s + phase[4]) + tint * np.sin(s + phase[5])  # light and colour drift
        frame = cv2.add(cv2.transform(frame, np.diag(gain)), grain[t % 4], dtype=cv2.CV_8U)
        if blurred[t]:
            frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.8, 2.0))
        frame = cv2.imdecode(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, jpeg])[1], cv2.IMREAD_COLOR)
        frames.append(frame)
        rects.append(rect)
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
    dist: np.ndarray | None  # the fused distribution, for fitting the band


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
    for t, frame in enumerate(clip.frames):
        faces = pipeline.process(frame, draw=False).faces
        hit = np.flatnonzero(_on_person(faces, clip.rects[t]))
        if not len(hit):
            continue
        i = hit[np.argmax(faces.missed[hit] == 0)]  # a detection before a carried box
        ids[t], shown[t], uncertain[t] = faces.track_ids[i], faces.ages_smoothed[i], faces.uncertain[i]
        if faces.missed[i] == 0:
            ages[t], quality[t] = faces.ages[i], faces.quality[i]
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
                  getattr(summary, "dist", None))


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
            face_px = float(np.exp(rng.uniform(np.log(36), np.log(220))))
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
    width = np.median([p.high - p.low for p in rated])
    mae = np.mean([abs(p.fused - p.age) for p in rated])
    shown_band = np.median([p.high - p.low for p in rated if not p.uncertain] or [np.nan])
    return (f"{name:12s} {len(rated):6d} {100 * inside:8.0f}% {width:8.1f} {shown_band:10.1f} {mae:7.1f}"
            f" {100 * np.mean([p.uncertain for p in rated]):6.0f}%")


def tier(p: Person) -> str:
    return "good" if p.quality >= GOOD_QUALITY else "poor (?)" if p.quality < UNCERTAIN_BELOW else "fair"


def report(people: list[Person]) -> str:
    """The benchmark's tables, as printed."""
    head = f"{'':12s} {'people':>6s} {'coverage':>9s} {'width':>8s} {'width shown':>10s} {'MAE':>7s} {'? share':>7s}"
    lines = ["band (true age inside the track's band; width in years, median; shown: tracks not marked '?')", head]
    for d in range(LAST_DECADE + 1):
        members = [p for p in people if min(int(p.age // 10), LAST_DECADE) == d]
        lines.append(_row(decade_label(d) if d < LAST_DECADE else f"{d * 10}+", members))
    for name in ("good", "fair", "poor (?)"):
        lines.append(_row(f"q {name}", [p for p in people if tier(p) == name]))
    lines.append(_row("all", people))

    q = np.concatenate([p.frame_quality for p in people])
    err = np.abs(np.concatenate([p.frame_ages - p.age for p in people]))
    ok = np.isfinite(q) & np.isfinite(err)
    q, err = q[ok], err[ok]
    lines += ["", "per-frame |error| by quality decile (1 = poorest)",
              f"{'decile':>6s} {'quality':>13s} {'frames':>7s} {'median':>7s} {'mean':>6s}"]
    if len(q) >= 10:
        edges = np.percentile(q, np.linspace(0, 100, 11))
        bins = np.clip(np.searchsorted(edges, q, side="right") - 1, 0, 9)
        for b in range(10):
            e = err[bins == b]
            if len(e):
                lines.append(f"{b + 1:6d} {edges[b]:6.3f}-{edges[b + 1]:5.3f} {len(e):7d} {np.median(e):7.1f}"
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
    for name, sel in (("close-up >= 120 px", lambda p: p.face_px >= CLOSE_UP),
                      ("medium", lambda p: SMALL <= p.face_px < CLOSE_UP),
                      ("small < 60 px", lambda p: p.face_px < SMALL),
                      ("all", lambda p: True)):
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


def fit(people: list[Person], path: Path = BAND_FILE, weights_note: str = "") -> Band:
    """Fit the band on these people and store it where the fusion reads it."""
    rated = [p for p in people if p.dist is not None and np.isfinite(p.fused)]
    band = fit_band(np.stack([p.dist for p in rated]), np.array([p.quality for p in rated]),
                    np.array([p.age for p in rated]))
    path.write_text(json.dumps({**band.to_json(), "fitted_on": f"{len(rated)} validation people, {weights_note}"},
                               indent=2) + "\n")
    fitted_band.cache_clear()  # the tracks made from now on take it
    return band


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit", action="store_true", help="fit the band on validation faces first")
    parser.add_argument("--subset", default="test", choices=("test", "val"), help="faces measured")
    parser.add_argument("--faces", type=int, default=120, help="people (clips) per benchmark")
    parser.add_argument("--frames", type=int, default=40, help="typical clip length (0.75x-1.5x)")
    parser.add_argument("--detector", default="auto", choices=("auto", "short", "full"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    threads.apply()
    options = PipelineOptions(detector=args.detector, device="cpu")
    if args.fit:
        print(f"validation benchmark: {args.faces} faces", flush=True)
        val = run_benchmark(split_records("val", args.faces, args.seed), args.frames, args.seed + 1, options)
        weights = json.loads((WEIGHTS_DIR / "c3ae.json").read_text())["sha256"][:12]
        band = fit(val, weights_note=f"weights {weights}..., seed {args.seed}, {args.frames} frames")
        bands = np.array([band(p.dist, p.quality)[1:] for p in val if p.dist is not None])
        ages = np.array([p.age for p in val if p.dist is not None])
        print(f"band written to {BAND_FILE}: {band}\non the validation faces: "
              f"{100 * np.mean((bands[:, 0] <= ages) & (ages <= bands[:, 1])):.0f}% inside, "
              f"median width {np.median(bands[:, 1] - bands[:, 0]):.1f} y\n", flush=True)
    print(f"{args.subset} benchmark: {args.faces} faces", flush=True)
    people = run_benchmark(split_records(args.subset, args.faces, args.seed), args.frames, args.seed + 2, options)
    print(report(people))


if __name__ == "__main__":
    main()
