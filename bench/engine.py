"""Milliseconds per face of the C3AE engine at batch sizes 1, 8 and 32, as shipped and as alternatives.

    python bench/engine.py [--weights weights/c3ae.pt] [--repeats 30] [--threads 1 2]

Inputs are real face crops when ../shared/datasets is here (dataset portraits,
detected and cropped as in training), else random pixels; crop cost is in
bench/pipeline.py. For each torch thread count (the thread policy of
`c3ae.runtime.threads` gives annotate 1 on 2 cores) it prints the median ms/face of:

* shipped: `AgeEngine.predict` as the app and annotate call it (mirror
  averaging when the manifest says flip_average, CPU chunks of
  `CPU_MAX_INPUTS` model inputs, frozen graph, oneDNN where faster);
* the same engine with other chunk sizes (faces per forward);
* the frozen graph with oneDNN switched off, so that torch runs the 3x3
  convolutions through NNPACK (Winograd; batches of 16 crops or more);
* the eager model rebuilt from the weights, in fp32, and with int8 dynamic
  quantisation (the linear layers) or int8 static quantisation of the
  convolutions (FX, x86 backend, calibrated on the crops);

each with the largest age difference, in years, from the reference: the
TorchScript file as saved, unfrozen, all crops in one forward. An
alternative is worth shipping only if it is faster and within 0.1 year.
On CUDA (when present) the shipped engine's faces per second are printed too.
"""
from __future__ import annotations

import argparse
import copy
import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from c3ae.model.calibration import AgeCalibration, Calibrated
from c3ae.model.network import C3AE
from c3ae.model.runner import DEFAULT_WEIGHTS, AgeEngine

Predict = Callable[[torch.Tensor], np.ndarray]
BATCHES = (1, 8, 32)
EXACT_ENOUGH = 0.1  # years


def real_crops(n: int = 64) -> torch.Tensor:
    """Crops of n dataset faces, found and cut as training does; random pixels without the datasets."""
    from c3ae.crops.context import face_crops
    from c3ae.detect.blazeface import FaceDetector
    from c3ae.errors import NoDatasetFaces
    from c3ae.training.clips import dataset_faces

    try:
        images = dataset_faces(n * 2)
    except NoDatasetFaces:
        return torch.randint(0, 256, (n, 3, 3, 64, 64), dtype=torch.uint8)
    crops = []
    with FaceDetector("short", video=False) as detector:
        for image in images:
            faces = detector.detect(image, pad=0.25)
            if len(faces):
                crops.append(face_crops(image, faces[[int(np.argmax(faces.scores))]]))
            if len(crops) == n:
                break
    return torch.cat(crops)


def eager_model(weights: Path, manifest: dict) -> torch.nn.Module:
    """The eager C3AE (with its calibration when built in) holding the shipped weights."""
    config = dict(manifest.get("config", {}))
    calibration = config.pop("calibration", None)
    model: torch.nn.Module = C3AE(**config)
    if calibration is not None:
        model = Calibrated(model, AgeCalibration(np.array(calibration["predicted"]), np.array(calibration["age"])))
    model.load_state_dict(torch.jit.load(io.BytesIO(weights.read_bytes())).state_dict())
    return model.eval()


def core(model: torch.nn.Module) -> C3AE:
    return model.model if isinstance(model, Calibrated) else model


def int8_dynamic(model: torch.nn.Module, crops: torch.Tensor) -> torch.nn.Module:
    return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def int8_static(model: torch.nn.Module, crops: torch.Tensor) -> torch.nn.Module:
    """Convolutions in int8 (FX graph mode, x86), activations calibrated on `crops`."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = "x86"
    model = copy.deepcopy(model)
    net = core(model)
    example = torch.zeros(3, 3, 64, 64)
    net.stem = prepare_fx(net.stem, get_default_qconfig_mapping("x86"), (example,))
    with torch.inference_mode():
        model(crops)  # calibration pass (mirrored crops included when flip-averaging)
    net.stem = convert_fx(net.stem)
    return model


def without_onednn(predict: Predict) -> Predict:
    def run(crops: torch.Tensor) -> np.ndarray:
        with torch.backends.mkldnn.flags(enabled=False):
            return predict(crops)
    return run


def eager_predict(model: torch.nn.Module, chunk: int) -> Predict:
    def predict(crops: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            return torch.cat([model(c)[0] for c in crops.split(chunk)]).numpy()
    return predict


def ms_per_face(predict: Predict, crops: torch.Tensor, batch: int, repeats: int) -> float:
    x = crops[torch.arange(batch) % len(crops)]
    for _ in range(3):
        predict(x)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        predict(x)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3 / batch


def report(name: str, predict: Predict, crops: torch.Tensor, reference: np.ndarray, repeats: int) -> None:
    diff = float(np.abs(predict(crops) - reference).max())
    times = "  ".join(f"b{b}: {ms_per_face(predict, crops, b, repeats):6.3f}" for b in BATCHES)
    verdict = "ok" if diff <= EXACT_ENOUGH else "too far"
    print(f"  {name:<38} {times} ms/face   max |age diff| {diff:.3f} y ({verdict})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch intra-op thread counts")
    args = parser.parse_args()
    crops = real_crops()
    reference_model = torch.jit.load(io.BytesIO(args.weights.read_bytes())).eval()
    with torch.inference_mode():
        reference = reference_model(crops)[0].numpy()
    engine = AgeEngine(args.weights, device="cpu")
    print(f"torch {torch.__version__}; {engine.status}; flip_average "
          f"{bool(engine.manifest.get('config', {}).get('flip_average'))}; {len(crops)} crops; "
          f"shipped chunk {engine.max_faces} faces")
    eager = eager_model(args.weights, engine.manifest)
    shipped_chunk = engine.max_faces
    for threads in args.threads:
        torch.set_num_threads(threads)
        print(f"{threads} torch thread(s):")
        report(f"shipped (chunk {shipped_chunk})", lambda x: engine.predict(x)[0], crops, reference, args.repeats)
        for chunk in sorted({4, 16, 32} - {shipped_chunk}):
            engine.max_faces = chunk
            report(f"shipped graph, chunk {chunk}", lambda x: engine.predict(x)[0], crops, reference, args.repeats)
        engine.max_faces = shipped_chunk
        frozen = torch.jit.freeze(torch.jit.load(io.BytesIO(args.weights.read_bytes())).eval())
        report("frozen graph, NNPACK (oneDNN off)", without_onednn(eager_predict(frozen, shipped_chunk)), crops,
               reference, args.repeats)
        report("frozen graph, NNPACK, chunk 32", without_onednn(eager_predict(frozen, 32)), crops, reference,
               args.repeats)
        report("eager fp32", eager_predict(eager, shipped_chunk), crops, reference, args.repeats)
        for name, build in (("int8 dynamic (linear)", int8_dynamic), ("int8 static (convolutions)", int8_static)):
            try:
                report(name, eager_predict(build(eager, crops), shipped_chunk), crops, reference, args.repeats)
            except Exception as exc:  # noqa: BLE001 - a bench reports what it could not try
                print(f"  {name:<38} not possible here: {exc}")
    if torch.cuda.is_available():
        gpu = AgeEngine(args.weights, device="cuda")
        for batch in (32, 256):
            ms = ms_per_face(lambda x: gpu.predict(x)[0], crops, batch, args.repeats)
            print(f"cuda batch {batch}: {1e3 / ms:,.0f} faces/s")


if __name__ == "__main__":
    main()
