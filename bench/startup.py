"""Start-up: whole-process seconds for `main.py annotate` on a one-frame clip.

    python bench/startup.py [--repeats 5]

Writes a one-frame 640x360 clip (a dataset portrait when ../shared/datasets is
here, else shapes) to a temporary folder, then runs `main.py annotate` on it
`repeats` times as a user would (a fresh interpreter each time: imports, model
and detector loading, warm-up, the frame, closing the files) and prints the
median wall time, plus the import time of torch, MediaPipe's detector and PyAV alone.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from c3ae.errors import NoDatasetFaces
from c3ae.training.clips import dataset_faces, face_clip_frames, write_clip

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = {"torch": "import torch", "detector": "from c3ae.detect.blazeface import _face_detector_api as f; f()",
           "av": "import av", "cv2": "import cv2"}


def one_frame_clip(folder: Path) -> Path:
    try:
        frame = face_clip_frames(dataset_faces(1), n=1, face_h=200)[0]
    except NoDatasetFaces:
        frame = np.full((360, 640, 3), 90, np.uint8)
        cv2.circle(frame, (320, 180), 60, (80, 170, 230), -1)
    return write_clip(folder / "one_frame.mp4", [frame])


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = one_frame_clip(Path(tmp))
        cmd = [sys.executable, str(ROOT / "main.py"), "annotate", str(clip), "-o", str(Path(tmp) / "out.mp4"),
               "--csv", str(Path(tmp) / "out.csv"), "--overwrite"]
        wall(cmd)  # the first run after a build also fills the OS file cache
        seconds = [wall(cmd) for _ in range(args.repeats)]
        print(f"main.py annotate, one frame: {statistics.median(seconds):.2f} s (median of {args.repeats}, "
              f"whole process)")
        bare = statistics.median(wall([sys.executable, "-c", "pass"]) for _ in range(args.repeats))
        print(f"  python alone: {bare:.2f} s")
        for name, code in IMPORTS.items():
            t = statistics.median(wall([sys.executable, "-c", code]) for _ in range(args.repeats)) - bare
            print(f"  import {name}: {t:.2f} s")


if __name__ == "__main__":
    main()
