"""Start-up, as a user meets it: the window, a refused option, the first annotated frame.

    python bench/startup.py [--repeats 5] [--display :99] [--screenshot shot.png]

Each figure is the median wall time of `repeats` fresh processes, beside
`python -c "import torch"` timed in the same run (the ratio is what to compare
across machines):

* window: `main.py --source CLIP` until its window is mapped on an X display
  (`--display`, e.g. an `Xvfb :99` started first; skipped without one), found
  with `xwininfo`; the settings live in a temporary HOME. `--screenshot` saves
  the screen 1 s after a launch (ImageMagick's `import`).
* refused option: `main.py annotate CLIP -o OUT --min-score 5` until it exits (status 2).
* first frame: `main.py annotate` on a one-frame clip, the whole process
  (imports, model and detector loading, warm-up, the frame, closing the files).

The clip is one 640x360 frame (a dataset portrait when ../shared/datasets is
here, else shapes), written to a temporary folder.
"""
from __future__ import annotations

import argparse
import os
import shutil
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
TITLE = "C3AE Age Estimation"
WINDOW_TIMEOUT_S = 60.0


def one_frame_clip(folder: Path) -> Path:
    try:
        frame = face_clip_frames(dataset_faces(1), n=1, face_h=200)[0]
    except NoDatasetFaces:
        frame = np.full((360, 640, 3), 90, np.uint8)
        cv2.circle(frame, (320, 180), 60, (80, 170, 230), -1)
    return write_clip(folder / "one_frame.mp4", [frame])


def wall(cmd: list[str], ok: tuple[int, ...] = (0,)) -> float:
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return time.perf_counter() - t


def window_mapped(display: str) -> bool:
    """Whether a viewable top-level window titled like the app's is on `display`."""
    tree = subprocess.run(["xwininfo", "-display", display, "-root", "-children"], capture_output=True, text=True)
    for line in tree.stdout.splitlines():
        if TITLE in line:
            window = line.split()[0]
            info = subprocess.run(["xwininfo", "-display", display, "-id", window], capture_output=True, text=True)
            if "IsViewable" in info.stdout:
                return True
    return False


def time_to_window(clip: Path, display: str, home: Path, screenshot: Path | None = None) -> float:
    """Seconds from launching the app until its window is on screen; the app is then closed."""
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / ".config")}
    start = time.perf_counter()
    app = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--source", str(clip)], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not window_mapped(display):
            if app.poll() is not None or time.perf_counter() - start > WINDOW_TIMEOUT_S:
                raise SystemExit(f"the app's window did not appear on {display} (exit status {app.returncode})")
            time.sleep(0.005)
        seconds = time.perf_counter() - start
        if screenshot is not None:
            time.sleep(max(0.0, 1.0 - (time.perf_counter() - start)))
            subprocess.run(["import", "-display", display, "-window", "root", str(screenshot)], check=True)
        return seconds
    finally:
        app.terminate()
        try:
            app.wait(30)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--display", default=os.environ.get("DISPLAY"), help="an X display for the window figure")
    parser.add_argument("--screenshot", type=Path, help="save the screen 1 s after one more launch")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = one_frame_clip(folder)
        annotate = [python, str(ROOT / "main.py"), "annotate", str(clip), "-o", str(folder / "out.mp4"),
                    "--csv", str(folder / "out.csv"), "--overwrite"]
        refused = [python, str(ROOT / "main.py"), "annotate", str(clip), "-o", str(folder / "refused.mp4"),
                   "--min-score", "5"]
        wall(annotate)  # the first run after a build also fills the OS file cache
        figures: dict[str, list[float]] = {"import torch": [], "first frame": [], "refused option": []}
        can_show = bool(args.display) and shutil.which("xwininfo") is not None
        if can_show:
            figures["window"] = []
            time_to_window(clip, args.display, folder)  # warm the file cache for Qt's plugins
        for _ in range(args.repeats):  # interleaved, so every figure sees the same load
            figures["import torch"].append(wall([python, "-c", "import torch"]))
            figures["first frame"].append(wall(annotate))
            figures["refused option"].append(wall(refused, ok=(2,)))
            if can_show:
                figures["window"].append(time_to_window(clip, args.display, folder))
        torch_s = statistics.median(figures["import torch"])
        print(f"start-up, median of {args.repeats} fresh processes (python alone: "
              f"{statistics.median(wall([python, '-c', 'pass']) for _ in range(args.repeats)):.2f} s)")
        for name, seconds in figures.items():
            median = statistics.median(seconds)
            print(f"  {name:>15}: {median:5.2f} s  ({median / torch_s:.2f}x import torch)")
        if not can_show:
            print("  window: skipped (no X display: start `Xvfb :99` and pass --display :99)")
        if args.screenshot and can_show:
            time_to_window(clip, args.display, folder, args.screenshot)
            print(f"  screenshot 1 s after launch: {args.screenshot}")


if __name__ == "__main__":
    main()
