"""Annotation speed at the resolutions cameras deliver, a close-up, and ghosts in clutter.

    python bench/resolutions.py [--repeats 3] [--against OTHER_CHECKOUT] [--keep DIR]

Builds, in a temporary folder (or `--keep DIR`), from dataset portraits
(../shared/datasets/aaf-train):

* the two-face clip of `bench/pipeline.py` at 640x360, and the same clip
  rescaled frame for frame to 1280x720 and 1920x1080;
* an audience shot at 640x360 (eight heads in two rows, faces of 40-65 px),
  and the multi-shot clip of the tests (ten people over five shots: cuts, a
  fade to black and back, a hand, a pan, a crossing), each rescaled the same
  way; their ratios are to their own 360p row;
* a webcam close-up at 1280x720: one face whose box is 30% of the frame height;
* a cluttered scene at 1280x720 and 1920x1080 (`c3ae.training.clips.cluttered_frames`):
  two people, skin-coloured hands, pulsing lights and a dark patch, with the
  true face positions known.

Then runs `main.py annotate` (default options, with --csv) on each, `repeats`
times, and prints per clip the median processing FPS, its ratio to the 360p
clip, people rows per frame (a face shown, detected or carried), tracks shown
with an age (the multi-shot clip has ten people) and, for the
cluttered clips, ghosts: tracks shown with an age whose detections lie on no
true face, and detection rows on no true face. `--against` runs another
checkout's `main.py` on the same clips, interleaved run by run with this one,
and prints both side by side with their ratio, and the ratio of the CPU
seconds the runs used (their children's user + system time, start-up
included: steadier than FPS on a shared machine, where a run's wall time
moves with its neighbours' load).
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from c3ae.errors import NoDatasetFaces
from c3ae.training.clips import SCENE_SIZES, close_up_frames, cluttered_frames, dataset_faces, scene_clips, write_clip

ROOT = Path(__file__).resolve().parent.parent
SIZES = ("720p", "1080p")  # besides 360p
GHOST_DISTANCE = 0.6  # a detection whose centre is farther than this many box sizes from every true face


def build(folder: Path) -> dict[str, tuple[Path, Path | None, str]]:
    """name -> (clip, true face centres per frame or None, the 360p clip its ratio is to)."""
    clips: dict[str, tuple[Path, Path | None, str]] = {}
    try:
        faces = dataset_faces(3)
        for prefix, scene in (("", "two-faces"), ("audience ", "audience"), ("multishot ", "multishot")):
            for size, path in scene_clips(folder, scene, ("360p", *SIZES)).items():
                clips[f"{prefix}{size}"] = (path, None, f"{prefix}360p")
    except NoDatasetFaces as exc:
        raise SystemExit(str(exc)) from None
    clips["close-up 720p"] = (write_clip(folder / "close_up_720p.mp4", close_up_frames(faces[2]), fps=30), None,
                              "360p")
    for name in SIZES:
        frames, truth = zip(*cluttered_frames(faces[:2], size=SCENE_SIZES[name]))
        truth_path = folder / f"clutter_{name}.npy"
        np.save(truth_path, np.stack(truth))
        clips[f"clutter {name}"] = (write_clip(folder / f"clutter_{name}.mp4", list(frames), fps=30), truth_path,
                                    "360p")
    return clips


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def annotate(tree: Path, clip: Path, out: Path) -> tuple[float, float]:
    """(processing FPS, CPU seconds) of `tree`'s `main.py annotate` on `clip` (writes out.mp4 and out.csv)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = _children_cpu()
    done = subprocess.run([sys.executable, str(tree / "main.py"), "annotate", str(clip), "-o", str(out),
                           "--csv", str(out.with_suffix(".csv")), "--overwrite"],
                          cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: annotate {clip.name} exited {done.returncode}: {done.stderr[-800:]}")
    return float(re.search(r"([0-9.]+) FPS", done.stdout).group(1)), _children_cpu() - before


def rows_of(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def people_per_frame(rows: list[dict], frames: int) -> float:
    return sum(1 for r in rows if int(r["track_id"]) >= 0) / max(frames, 1)


def tracks_shown(rows: list[dict]) -> int:
    """Tracks that were shown with an age: one per person and shot when tracking holds."""
    return len({r["track_id"] for r in rows if r["age_smoothed"] != ""})


def ghosts(rows: list[dict], truth: np.ndarray) -> tuple[int, int]:
    """(tracks shown with an age that sit on no true face, detection rows on no true face)."""
    ghost_rows, ghost_tracks = 0, set()
    for r in rows:
        x, y, w, h = (float(r[k]) for k in ("x", "y", "w", "h"))
        centre = np.array([x + w / 2, y + h / 2])
        off = np.linalg.norm(truth[int(r["frame"])] - centre, axis=1).min() / max(w, h)
        if off <= GHOST_DISTANCE:
            continue
        ghost_rows += r["detected"] == "1"
        if r["age_smoothed"] != "":
            ghost_tracks.add(r["track_id"])
    return len(ghost_tracks), ghost_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout to run on the same clips (A/B)")
    parser.add_argument("--keep", type=Path, help="build the clips in this folder and keep them")
    args = parser.parse_args()
    trees = {"this": ROOT} | ({"other": args.against.resolve()} if args.against else {})
    folder = args.keep or Path(tempfile.mkdtemp(prefix="c3ae-res-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        clips = build(folder)
        fps: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.repeats):  # interleaved: every clip and tree sees the same load
            for name, (clip, _, _) in clips.items():
                for tree_name, tree in trees.items():
                    out = folder / f"{tree_name}_{clip.stem}.mp4"
                    speed, seconds = annotate(tree, clip, out)
                    fps.setdefault((tree_name, name), []).append(speed)
                    cpu.setdefault((tree_name, name), []).append(seconds)
        print(f"median processing FPS of `main.py annotate` over {args.repeats} runs, interleaved")
        header = "clip".ljust(16) + "".join(f"{t:>10}{'/360p':>8}{'people':>8}{'tracks':>7}" for t in trees)
        print(header + ("   this/other  CPU s this/other" if len(trees) > 1 else "") + "   ghosts: tracks, rows")
        for name, (clip, truth, base_name) in clips.items():
            line = name.ljust(16)
            medians = {}
            notes = []
            for tree_name in trees:
                medians[tree_name] = statistics.median(fps[(tree_name, name)])
                base = statistics.median(fps[(tree_name, base_name)])
                rows = rows_of(folder / f"{tree_name}_{clip.stem}.csv")
                frames = 1 + max((int(r["frame"]) for r in rows), default=0)
                people = people_per_frame(rows, frames)
                line += (f"{medians[tree_name]:10.1f}{medians[tree_name] / base:8.2f}{people:8.2f}"
                         f"{tracks_shown(rows):7d}")
                if truth is not None:
                    tracks, ghost_rows = ghosts(rows, np.load(truth))
                    notes.append(f"{tracks}, {ghost_rows}")
            if len(trees) > 1:
                seconds = {t: statistics.median(cpu[(t, name)]) for t in trees}
                line += f"{medians['this'] / medians['other']:13.2f}{seconds['this']:7.1f}{seconds['other']:6.1f}" \
                        f"{seconds['this'] / seconds['other']:6.2f}"
            print(line + ("   " + " | ".join(notes) if notes else ""))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
