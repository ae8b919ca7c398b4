"""Training: augmentation, the schedule, and a tiny end-to-end run with resume and export."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
from synth import make_faces

from c3ae.model.runner import AgeEngine
from c3ae.training import data, train
from c3ae.training.augment import AugmentConfig, augmented_crops, photometric
from c3ae.training.export import export_checkpoint
from c3ae.training.preprocess import save_cache


def test_augmented_crops_are_seeded_and_shaped():
    frame = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    faces = make_faces([(40, 40, 160, 160)])
    a = augmented_crops(frame, faces, np.random.default_rng(1))
    b = augmented_crops(frame, faces, np.random.default_rng(1))
    c = augmented_crops(frame, faces, np.random.default_rng(2))
    assert a.shape == (1, 3, 3, 64, 64) and a.dtype == torch.uint8
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_photometric_flip_and_erase():
    crops = np.random.default_rng(0).integers(0, 256, (3, 3, 64, 64), dtype=np.uint8)
    none = AugmentConfig(brightness=0, contrast=0, temperature=0, p_grey=0, p_lowres=0, p_flip=1, p_erase=0)
    np.testing.assert_array_equal(photometric(crops, np.random.default_rng(0), none), crops[..., ::-1])
    erase = AugmentConfig(brightness=0, contrast=0, temperature=0, p_grey=0, p_lowres=0, p_flip=0, p_erase=1)
    out = photometric(crops, np.random.default_rng(0), erase)
    changed = (out != crops).any(axis=1).reshape(3, -1).mean(axis=1)
    assert ((changed > 0.005) & (changed < 0.3)).all()  # a rectangle in each crop, not the whole crop


def test_lr_schedule_warms_up_and_decays():
    lrs = [train.lr_at(s, 100, 1.0, 10) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[50] < lrs[10] and lrs[-1] < 0.05


def test_decade_balancing_weights():
    recs = [data.Record(None, a, "x") for a in [25] * 9 + [85]]
    w = train.sample_weights(recs, 0.5)
    assert w[-1] == pytest.approx(3 * w[0])
    assert (train.sample_weights(recs, 0) == 1).all()


@pytest.fixture
def tiny_dataset(tmp_path):
    folder = tmp_path / "utk"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(40):
        img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f"{20 + k % 10}_0_0_{k:04d}.jpg.chip.jpg"), img)
    records, _, _ = data.load_datasets(folder, None)
    split = data.make_split(records)
    data.write_split(split, tmp_path / "split.csv")
    box = np.array([12, 12, 52, 52], np.float32)
    kps = make_faces([tuple(box)]).keypoints[0]
    cache = {r.hash: {"n_faces": 1, "pad": 0.0, "box": box, "keypoints": kps, "score": 0.9, "shape": (64, 64)}
             for r in records}
    save_cache(cache, tmp_path / "det.npz")
    return tmp_path


def test_train_end_to_end_resume_and_export(tiny_dataset):
    t = tiny_dataset
    common = ["--utkface", str(t / "utk"), "--aaf", "", "--split", str(t / "split.csv"), "--cache",
              str(t / "det.npz"), "--out", str(t / "run"), "--batch-size", "4", "--workers", "0",
              "--warmup", "2", "--channels", "8"]
    first = train.main(common + ["--epochs", "1"])
    assert first["epochs"] == 1 and np.isfinite(first["best_val_mae"])
    assert (t / "run" / "last.pt").is_file() and (t / "run" / "best.pt").is_file()
    second = train.main(common + ["--epochs", "2", "--resume", str(t / "run" / "last.pt"),
                                  "--export", str(t / "w" / "c3ae.pt"), "--keep", str(t / "kept")])
    assert second["epochs"] == 2
    kept = torch.load(t / "kept" / "last.pt", weights_only=False)
    assert kept["epoch"] == 2 and (t / "kept" / "log.jsonl").is_file()
    log = [json.loads(line) for line in (t / "run" / "log.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in log] == [1, 2] and all("mae" in e for e in log)
    engine = AgeEngine(t / "w" / "c3ae.pt", device="cpu", warmup=False)
    assert engine.trained
    ages, dists = engine.predict(torch.zeros(2, 3, 3, 64, 64, dtype=torch.uint8))
    assert ages.shape == (2,) and dists.shape == (2, 12)
    # re-export of the same checkpoint with mirror averaging: same weights, averaged answer
    export_checkpoint(t / "run" / "best.pt", t / "w" / "flip.pt", flip_average=True)
    flipped = AgeEngine(t / "w" / "flip.pt", device="cpu", warmup=False)
    assert flipped.manifest["config"]["flip_average"] is True
    crops = torch.randint(0, 256, (3, 3, 3, 64, 64), dtype=torch.uint8)
    _, d = engine.predict(crops)
    _, d_mirror = engine.predict(crops.flip(-1))
    np.testing.assert_allclose(flipped.predict(crops)[1], (d + d_mirror) / 2, atol=1e-5)
    # a calibration is built in only for the inference mode it was fitted for
    cal = {"flip_average": False, "predicted": [0.0, 40.0, 100.0], "age": [0.0, 50.0, 110.0]}
    (t / "cal.json").write_text(json.dumps(cal))
    export_checkpoint(t / "run" / "best.pt", t / "w" / "cal.pt", calibration=t / "cal.json")
    calibrated = AgeEngine(t / "w" / "cal.pt", device="cpu", warmup=False)
    assert calibrated.manifest["config"]["calibration"]["age"] == [0.0, 50.0, 110.0]
    plain_ages, _ = engine.predict(crops)
    np.testing.assert_allclose(calibrated.predict(crops)[0], np.interp(plain_ages, [0, 40, 100], [0, 50, 110]),
                               atol=1e-3)
    with pytest.raises(SystemExit, match="refit"):
        export_checkpoint(t / "run" / "best.pt", t / "w" / "x.pt", flip_average=True, calibration=t / "cal.json")
    # --init from calibrated weights (the shipped kind) starts from their inner model
    trained = torch.load(t / "run" / "best.pt", weights_only=False)["model"]
    for weights in ("cal.pt", "c3ae.pt"):
        init = train.load_init(t / "w" / weights)
        assert init.keys() == trained.keys()
        assert all(torch.equal(init[k], trained[k]) for k in trained)


def test_group_labels_train_with_robust_augmentation_from_shipped_like_weights(tiny_dataset, tmp_path):
    """FairFace-style group labels go through the interval loss; --init starts from TorchScript weights."""
    t = tiny_dataset
    ff = tmp_path / "ff"
    (ff / "train").mkdir(parents=True)
    (ff / "val").mkdir()
    rows = ["file,age,gender,race,service_test"]
    rng = np.random.default_rng(1)
    for k in range(24):
        sub = "val" if k % 6 == 0 else "train"
        cv2.imwrite(str(ff / sub / f"{k}.jpg"), rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
        rows.append(f"{sub}/{k}.jpg,{['10-19', '20-29', 'more than 70'][k % 3]},Male,White,TRUE")
    (ff / "labels.csv").write_text("\n".join(rows) + "\n")
    records, _, _ = data.load_datasets(t / "utk", None, ff)
    fair = [r for r in records if r.span]
    split = {**data.make_split([r for r in records if not r.span]), **data.make_fairface_split(fair)}
    data.write_split(split, t / "split2.csv")
    box = np.array([12, 12, 52, 52], np.float32)
    kps = make_faces([tuple(box)]).keypoints[0]
    save_cache({r.hash: {"n_faces": 1, "pad": 0.0, "box": box, "keypoints": kps, "score": 0.9, "shape": (64, 64)}
                for r in records}, t / "det2.npz")
    from c3ae.model.network import C3AE
    from c3ae.model.weights import export

    export(C3AE(channels=8, use_se=False), t / "init.pt", trained=False, config={})
    summary = train.main(["--utkface", str(t / "utk"), "--aaf", "", "--fairface", str(ff), "--split",
                          str(t / "split2.csv"), "--cache", str(t / "det2.npz"), "--out", str(t / "run2"),
                          "--batch-size", "4", "--workers", "0", "--warmup", "2", "--channels", "8",
                          "--epochs", "1", "--robust", "--init", str(t / "init.pt")])
    entry = summary["history"][0]
    assert np.isfinite(entry["train_loss"]) and 0.0 <= entry["inside_group"] <= 1.0
    assert set(entry["inside_per_group"]) <= {"10-19", "20-29", "70-89"}


def test_degradations_are_seeded_and_keep_the_image_shape():
    from c3ae.training.augment import ROBUST, degrade

    img = np.random.default_rng(0).integers(0, 256, (120, 100, 3), dtype=np.uint8)
    faces = make_faces([(20, 20, 80, 100)])
    cfg = AugmentConfig(**{**ROBUST, **{k: 1.0 for k in ROBUST if k.startswith("p_")}})
    a = degrade(img, faces, np.random.default_rng(5), cfg)
    b = degrade(img, faces, np.random.default_rng(5), cfg)
    assert a.shape == img.shape and a.dtype == np.uint8 and np.array_equal(a, b)
    assert np.abs(a.astype(int) - img).mean() > 5
    assert np.array_equal(degrade(img, faces, np.random.default_rng(5), AugmentConfig()), img)


def test_cached_training_and_distillation(tiny_dataset):
    """--cached trains from the crop cache; a teacher's targets (distill targets) train a student."""
    from c3ae.training import cache, distill

    t = tiny_dataset
    records, _, _ = data.load_datasets(t / "utk", None)
    built = cache.build(records, t / "crops", detections_path=t / "det.npz", processes=1)
    assert len(built) == len(records) and built.patches.shape[1:] == (cache.PATCH, cache.PATCH, 3)
    common = ["--utkface", str(t / "utk"), "--aaf", "", "--split", str(t / "split.csv"), "--cache",
              str(t / "det.npz"), "--batch-size", "4", "--workers", "0", "--warmup", "2", "--channels", "8",
              "--cached", "--crop-cache", str(t / "crops")]
    teacher = train.main(common + ["--out", str(t / "teacher"), "--epochs", "1"])
    assert teacher["epochs"] == 1 and np.isfinite(teacher["best_val_mae"])
    distill.main(["targets", str(t / "teacher" / "best.pt"), "--out", str(t / "targets.npz"),
                  "--crop-cache", str(t / "crops")])
    with np.load(t / "targets.npz") as z:
        assert z["dists"].shape == (len(records), 12) and np.allclose(z["dists"].sum(1), 1, atol=1e-4)
    student = train.main(common + ["--out", str(t / "student"), "--epochs", "1", "--distill",
                                   str(t / "targets.npz"), "--distill-weight", "0.5"])
    assert np.isfinite(student["history"][0]["train_loss"])
    paired = train.main(common + ["--out", str(t / "paired"), "--epochs", "1", "--consistency", "1"])
    assert np.isfinite(paired["history"][0]["train_loss"]) and paired["history"][0]["train_consistency"] >= 0
