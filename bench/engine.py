"""Milliseconds per face of the C3AE engine at batch sizes 1, 8 and 32.

    python bench/engine.py [--weights weights/c3ae.pt] [--repeats 50]

Runs on CPU, and on CUDA too when present. Prints medians over `repeats`
forward passes (inputs already cropped; crop cost is in bench/pipeline.py).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from c3ae.engine import DEFAULT_WEIGHTS, AgeEngine


def bench(engine: AgeEngine, batch: int, repeats: int) -> float:
    crops = torch.randint(0, 256, (batch, 3, 3, 64, 64), dtype=torch.uint8)
    for _ in range(5):
        engine.predict(crops)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        engine.predict(crops)  # includes the copy back to numpy, as in the app
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3 / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for device in devices:
        engine = AgeEngine(args.weights, device=device)
        print(f"{device}: {engine.status}")
        for batch in (1, 8, 32):
            print(f"  batch {batch:>2}: {bench(engine, batch, args.repeats):7.3f} ms/face (median)")


if __name__ == "__main__":
    main()
