"""Data indexing, de-duplication and the fixed split (c3ae.training.data)."""
from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from c3ae.training import data
from c3ae.training.data import Record

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"

# the real odd names of UTKFace (one with a space, four with malformed tails)
ODD_NAMES = {
    "24_0_1_20170116220224657 .jpg.chip.jpg": 24,
    "39_1_20170116174525125.jpg.chip.jpg": 39,
    "55_0_0_20170116232725357jpg.chip.jpg": 55,
    "61_1_20170109142408075.jpg.chip.jpg": 61,
    "61_1_20170109150557335.jpg.chip.jpg": 61,
}


def _png(path: Path, value: int, grey: bool = False) -> Path:
    img = np.full((8, 8) if grey else (8, 8, 3), value, np.uint8)
    ok, buf = cv2.imencode(path.suffix if path.suffix.lower() != ".jpg" else ".png", img)
    path.write_bytes(buf.tobytes())
    return path


@pytest.mark.parametrize("name,age", list(ODD_NAMES.items()) + [("1_0_0_x.jpg.chip.jpg", 1),
                                                              ("116_1_3_2017.jpg", 116)])
def test_utk_age_parses_odd_names(name, age):
    assert data.parse_utk_age(name) == age


@pytest.mark.parametrize("name", ["face.jpg", "_12_0.jpg", "abc_1_2.jpg", "00000A02.jpg"])
def test_names_without_age_prefix_are_rejected(name):
    assert data.parse_utk_age(name) is None


def test_index_utkface_folder(tmp_path):
    for k, name in enumerate(ODD_NAMES):
        _png(tmp_path / name, 10 + k)
    _png(tmp_path / "7_1_0_upper.JPG", 50)
    _png(tmp_path / "8_1_0_grey.png", 60, grey=True)
    _png(tmp_path / "no_label.png", 70)
    (tmp_path / "notes.txt").write_text("not an image")
    records, bad = data.index_utkface(tmp_path)
    got = {r.path.name: r.age for r in records}
    assert got == {**ODD_NAMES, "7_1_0_upper.JPG": 7, "8_1_0_grey.png": 8}
    assert [p.name for p in bad] == ["no_label.png"]
    assert data.read_image(tmp_path / "8_1_0_grey.png").shape == (8, 8, 3)


def test_index_csv_folder_reports_bad_rows(tmp_path):
    _png(tmp_path / "a b.png", 1)
    _png(tmp_path / "c.JPG", 2)
    (tmp_path / "labels.csv").write_text("file,age,gender\na b.png,30,female\nc.JPG,4.5,male\n"
                                         "missing.jpg,20,male\nc.JPG,old,male\n")
    records, problems = data.index_folder(tmp_path)
    assert [(r.path.name, r.age, r.dataset) for r in records] == [("a b.png", 30.0, tmp_path.name),
                                                                  ("c.JPG", 4.5, tmp_path.name)]
    assert len(problems) == 2 and "missing" in problems[0] and "bad age" in problems[1]


def test_deduplicate_keeps_agreeing_copies_once_and_drops_conflicts(tmp_path):
    a1 = _png(tmp_path / "20_0_0_a.png", 1)
    a2 = tmp_path / "20_0_0_a copy.png"
    a2.write_bytes(a1.read_bytes())
    b1 = _png(tmp_path / "30_0_0_b.png", 2)
    b2 = tmp_path / "31_0_0_b.png"
    b2.write_bytes(b1.read_bytes())
    c = _png(tmp_path / "40_0_0_c.png", 3)
    records, _ = data.index_utkface(tmp_path)
    kept, report = data.deduplicate(data.with_hashes(records))
    assert sorted(r.path.name for r in kept) == ["20_0_0_a copy.png", c.name] or \
        sorted(r.path.name for r in kept) == ["20_0_0_a.png", c.name]
    assert len({r.hash for r in kept}) == 2
    assert (report.groups, report.extra_copies, report.conflicting_groups, report.dropped_files) == (2, 2, 1, 2)
    with pytest.raises(ValueError):
        data.deduplicate(records)  # not hashed


def _fake(n: int, seed: int = 0) -> list[Record]:
    rng = np.random.default_rng(seed)
    return [Record(Path(f"{i}.jpg"), float(rng.integers(1, 100)), "a" if i % 3 else "b",
                   f"{rng.integers(0, 2**63):016x}") for i in range(n)]


def test_split_is_stable_stratified_and_order_independent(tmp_path):
    recs = _fake(3000)
    split = data.make_split(recs)
    shuffled = recs[:]
    random.Random(1).shuffle(shuffled)
    assert data.make_split(shuffled) == split
    assert data.make_split(recs, seed=1) != split
    counts = {s: sum(v == s for v in split.values()) for s in data.SUBSETS}
    assert abs(counts["test"] - 300) < 40 and abs(counts["val"] - 300) < 40
    # every age band of every dataset appears in train and test
    for ds in "ab":
        for lo in (0, 40, 80):
            subset = {split[r.hash] for r in recs if r.dataset == ds and lo <= r.age < lo + 20}
            assert {"train", "test"} <= subset
    path = tmp_path / "split.csv"
    data.write_split(split, path)
    assert data.read_split(path) == split


def test_committed_split_file_is_small_and_well_formed():
    split = data.read_split(data.DEFAULT_SPLIT)
    assert data.DEFAULT_SPLIT.stat().st_size < 2_500_000  # 75k hash prefixes
    assert all(len(h) == data.HASH_CHARS for h in split)
    assert 0.09 < sum(v == "test" for v in split.values()) / len(split) < 0.11


def test_committed_split_matches_the_datasets():
    if not (DATASETS / "utkface").is_dir() or not (DATASETS / "aaf-train").is_dir():
        pytest.skip(f"needs the datasets in {DATASETS} (absent on this machine)")
    records, report, _ = data.load_datasets(DATASETS / "utkface", DATASETS / "aaf-train")
    assert report.conflicting_groups > 200  # UTKFace alone has 205
    committed = data.read_split(data.DEFAULT_SPLIT)
    made = data.make_split(records)
    assert made == {h: committed[h] for h in made}


@pytest.mark.parametrize("label, span", [("0-2", (0, 3)), ("3-9", (3, 10)), ("10-19", (10, 20)),
                                         ("60-69", (60, 70)), ("more than 70", (70, 90)), (" 20 - 29 ", (20, 30))])
def test_fairface_group_names_become_intervals(label, span):
    assert data.parse_age_group(label) == span


@pytest.mark.parametrize("label", ["", "adult", "03-Sep", "19-10", "25"])
def test_unknown_group_names_are_refused(label):
    assert data.parse_age_group(label) is None


def _fairface_folder(tmp_path: Path) -> Path:
    root = tmp_path / "fairface"
    for sub, n in (("train", 6), ("val", 2)):
        (root / sub).mkdir(parents=True)
        for i in range(1, n + 1):
            img = np.full((32, 32, 3), (i * 30) % 255, np.uint8)
            img[0, 0] = (i, ord(sub[0]), 7)  # distinct bytes per file
            cv2.imwrite(str(root / sub / f"{i}.jpg"), img)
    rows = ["file,age,gender,race,service_test",
            "train/1.jpg,10-19,Male,White,TRUE", "train/2.jpg,more than 70,Female,Black,FALSE",
            "train/3.jpg,3-9,Male,Indian,TRUE", "train/4.jpg,20-29,Male,Indian,TRUE",
            "train/5.jpg,Oct-19,Male,Indian,TRUE",  # a spreadsheet date, not a group
            "train/6.jpg,30-39,Male,Indian,TRUE", "train/99.jpg,30-39,Male,Indian,TRUE",  # file missing
            "val/1.jpg,0-2,Female,East Asian,FALSE", "val/2.jpg,50-59,Female,East Asian,FALSE"]
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


def test_fairface_reader_keeps_groups_and_lists_problems(tmp_path):
    root = _fairface_folder(tmp_path)
    records, problems = data.index_fairface(root)
    assert len(records) == 7
    by_name = {f"{r.path.parent.name}/{r.path.name}": r for r in records}
    teen = by_name["train/1.jpg"]
    assert teen.span == (10.0, 20.0) and teen.low == 10 and teen.high == 20 and teen.age == 15
    assert by_name["train/2.jpg"].span == (70.0, 90.0)
    assert any("Oct-19" in p for p in problems) and any("99.jpg" in p and "missing" in p for p in problems)
    # index_folder recognises FairFace's CSV by its group names
    assert len(data.index_folder(root)[0]) == 7


def test_fairface_reader_says_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="fairface.sh"):
        data.index_fairface(tmp_path)


def test_fairface_split_holds_out_its_val_folder(tmp_path):
    records = data.with_hashes(data.index_fairface(_fairface_folder(tmp_path))[0])
    split = data.make_fairface_split(records)
    for r in records:
        if r.path.parent.name == "val":
            assert split[r.hash] == "test"
        else:
            assert split[r.hash] in ("train", "val")
