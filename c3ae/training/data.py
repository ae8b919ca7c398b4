"""Age-labelled image folders: indexing, de-duplication and the fixed split.

Three label sources are supported:

* a folder of UTKFace-named images, ``AGE_GENDER_RACE_DATETIME.jpg.chip.jpg``;
  only the leading ``AGE_`` field is used, so names with a space or a malformed
  tail (missing fields, ``...jpg.chip.jpg`` without a dot) still parse;
* a folder with a ``file,age`` CSV (extra columns ignored, paths relative to
  the folder);
* FairFace's own CSV (``file,age,gender,race,service_test``) whose ages are
  apparent-age GROUPS (``0-2``, ``3-9``, ..., ``60-69``, ``more than 70``):
  a record then carries the span [low, high) and ``age`` is only its middle,
  used for stratification and reporting, never as a training target.

Byte-identical files are grouped by content hash (sha256). A group whose
copies agree on the age keeps one copy; a group whose copies disagree is
dropped entirely (its true age is unknown). The split is made once, by content
hash, stratified by dataset and age, and stored in ``data/split.csv`` as
16-hex-character hash prefixes, so everyone trains and tests on the same faces
and a copy of a test image can never sit in the training set.

    python -m c3ae.training.data [--utkface DIR] [--aaf DIR] [--out data/split.csv]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from c3ae.runtime.paths import DATASETS, ROOT

DEFAULT_UTKFACE = DATASETS / "utkface"
DEFAULT_AAF = DATASETS / "aaf-train"
DEFAULT_SPLIT = ROOT / "data" / "split.csv"
# FairFace is fetched and laid out by ../shared/datasets/fairface.sh, outside the project
DEFAULT_FAIRFACE = Path(os.environ.get("C3AE_FAIRFACE", Path.home() / ".cache" / "c3ae" / "fairface"))

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
HASH_CHARS = 16  # 64 bits of sha256: no collisions expected among < 1e9 files
SUBSETS = ("train", "val", "test")
SPLIT_SEED = 20261123
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
# FairFace: its own val images are our held-out test; its train images are split 90/10
FAIRFACE_TRAIN_FRACTIONS = (0.9, 0.1, 0.0)
# Open-ended top group: "more than 70" is read as [70, 90); apparent ages above 90 are rare.
OPEN_GROUP_SPAN = 20.0
_GROUP = re.compile(r"^\s*(\d{1,3})\s*-\s*(\d{1,3})\s*$")
_OPEN_GROUP = re.compile(r"^\s*(?:more than|over|>)\s*(\d{1,3})\s*\+?\s*$", re.IGNORECASE)
_UTK_AGE = re.compile(r"^\s*(\d{1,3})_")


@dataclass(frozen=True)
class Record:
    """One labelled image file."""

    path: Path
    age: float  # exact age, or the middle of the span for a group label
    dataset: str
    hash: str = ""  # first HASH_CHARS hex chars of the file's sha256
    span: tuple[float, float] | None = None  # [low, high) of a group label; None for an exact age

    @property
    def decade(self) -> int:
        return decade_of(self.age)

    @property
    def low(self) -> float:
        return self.span[0] if self.span else self.age

    @property
    def high(self) -> float:
        return self.span[1] if self.span else self.age


def parse_age_group(label: str) -> tuple[float, float] | None:
    """An apparent-age group name -> [low, high) in years, or None if it is no group.

    ``"10-19"`` -> (10, 20) (the group holds every age from 10 up to just under 20);
    ``"more than 70"`` -> (70, 90)."""
    m = _GROUP.match(label)
    if m:
        low, high = int(m.group(1)), int(m.group(2))
        return (float(low), float(high + 1)) if high >= low else None
    m = _OPEN_GROUP.match(label)
    if m:
        low = float(m.group(1))
        return low, low + OPEN_GROUP_SPAN
    return None


def decade_of(age: float) -> int:
    """0 for 0-9, 1 for 10-19, ..., 9 for 90 and over."""
    return int(min(max(age, 0), 99) // 10)


def decade_label(decade: int) -> str:
    return f"{decade * 10}-{decade * 10 + 9}" if decade < 9 else "90+"


def is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def parse_utk_age(name: str) -> int | None:
    """Age from a UTKFace-style file name (``AGE_...``), or None if it has none."""
    m = _UTK_AGE.match(name)
    return int(m.group(1)) if m else None


def content_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:HASH_CHARS]


def read_image(path: Path) -> np.ndarray | None:
    """BGR uint8 image (greyscale and PNG/JPEG of any case become 3-channel), or None.

    Reads bytes first so that unusual names (spaces, non-ASCII) work everywhere."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image


def index_utkface(folder: Path, dataset: str = "utkface") -> tuple[list[Record], list[Path]]:
    """Records for every image in ``folder`` whose name starts with ``AGE_``.

    Returns (records, unparsed files)."""
    folder = Path(folder)
    records, bad = [], []
    for path in sorted(folder.iterdir()):
        if not is_image(path):
            continue
        age = parse_utk_age(path.name)
        if age is None:
            bad.append(path)
        else:
            records.append(Record(path, float(age), dataset))
    return records, bad


def _read_labels(folder: Path, labels: Path, age_of: Callable[[Path, str], Record | str]
                 ) -> tuple[list[Record], list[str]]:
    """Rows of a ``file,age,...`` CSV -> records; `age_of(path, age text)` gives the record or a
    problem text. Rows whose file is missing are skipped and listed too."""
    records, problems = [], []
    with open(labels, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = {name.strip().lower(): name for name in (reader.fieldnames or [])}
        if "file" not in fields or "age" not in fields:
            raise ValueError(f"{labels} needs a header with 'file' and 'age' columns, got {reader.fieldnames}")
        for row in reader:
            name = (row[fields["file"]] or "").strip()
            path = folder / name
            record = age_of(path, row[fields["age"]] or "")
            if isinstance(record, str):
                problems.append(f"{name}: {record}")
            elif not path.is_file():
                problems.append(f"{name}: file missing")
            else:
                records.append(record)
    return records, problems


def index_csv(folder: Path, labels: Path | None = None, dataset: str | None = None
              ) -> tuple[list[Record], list[str]]:
    """Records from a ``file,age`` CSV (default ``folder/labels.csv``).

    Returns (records, problems) where problems lists rows that were skipped
    (missing file, unreadable age)."""
    folder = Path(folder)
    labels = Path(labels) if labels is not None else folder / "labels.csv"
    dataset = dataset or folder.name

    def exact(path: Path, text: str) -> Record | str:
        try:
            return Record(path, float(text), dataset)
        except ValueError:
            return f"bad age {text!r}"

    return _read_labels(folder, labels, exact)


def index_fairface(folder: Path, labels: Path | None = None, dataset: str = "fairface"
                   ) -> tuple[list[Record], list[str]]:
    """Records from FairFace's label CSV (default ``folder/labels.csv``), ages as group spans.

    Returns (records, problems): rows with an unknown group name or a missing file
    are skipped and listed."""
    folder = Path(folder)
    labels = Path(labels) if labels is not None else folder / "labels.csv"
    if not labels.is_file():
        raise FileNotFoundError(f"{labels} not found: lay FairFace out with ../shared/datasets/fairface.sh")

    def group(path: Path, text: str) -> Record | str:
        span = parse_age_group(text)
        if span is None:
            return f"unknown age group {text!r}"
        return Record(path, (span[0] + span[1]) / 2, dataset, span=span)

    return _read_labels(folder, labels, group)


def is_fairface(folder: Path, labels: Path | None = None) -> bool:
    """True when the folder's label CSV is FairFace's (group names in the age column)."""
    labels = Path(labels) if labels is not None else Path(folder) / "labels.csv"
    if not labels.is_file():
        return False
    with open(labels, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        row = next(reader, None)
    return bool(row) and "age" in row and parse_age_group(row["age"] or "") is not None


def index_folder(folder: Path, labels: Path | None = None, dataset: str | None = None
                 ) -> tuple[list[Record], list[str]]:
    """A labels CSV if given (or ``labels.csv`` present), else UTKFace-style names."""
    folder = Path(folder)
    if is_fairface(folder, labels):
        return index_fairface(folder, labels, dataset or "fairface")
    dataset = dataset or folder.name
    if labels is not None or (folder / "labels.csv").is_file():
        return index_csv(folder, labels, dataset)
    records, bad = index_utkface(folder, dataset)
    return records, [f"{p.name}: no AGE_ prefix" for p in bad]


def with_hashes(records: list[Record]) -> list[Record]:
    return [Record(r.path, r.age, r.dataset, r.hash or content_hash(r.path), r.span) for r in records]


@dataclass
class DedupReport:
    n_in: int
    n_out: int
    groups: int  # hashes seen more than once
    extra_copies: int  # files beyond the first in those groups
    conflicting_groups: int  # groups dropped because their ages disagree
    dropped_files: int  # files in the conflicting groups

    def __str__(self) -> str:
        return (f"{self.n_in} files -> {self.n_out} unique: {self.groups} duplicate groups "
                f"({self.extra_copies} extra copies), {self.conflicting_groups} groups disagree on age "
                f"and are dropped ({self.dropped_files} files)")


def deduplicate(records: list[Record]) -> tuple[list[Record], DedupReport]:
    """One record per content hash; groups whose copies disagree on age are dropped.

    Hashes are compared across datasets too. Records must carry hashes
    (`with_hashes`). The kept copy is the first by (dataset, path)."""
    groups: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if not r.hash:
            raise ValueError("deduplicate needs hashed records; call with_hashes first")
        groups[r.hash].append(r)
    kept, n_groups, extra, conflicts, dropped = [], 0, 0, 0, 0
    for h in sorted(groups):
        members = sorted(groups[h], key=lambda r: (r.dataset, str(r.path)))
        if len(members) > 1:
            n_groups += 1
            extra += len(members) - 1
            if len({(r.age, r.span) for r in members}) > 1:
                conflicts += 1
                dropped += len(members)
                continue
        kept.append(members[0])
    report = DedupReport(len(records), len(kept), n_groups, extra, conflicts, dropped)
    return kept, report


def _stratum(r: Record) -> tuple[str, int]:
    # 5-year age bands up to 80, then one band: enough members per band to split 80/10/10
    band = int(min(r.age, 80) // 5)
    return r.dataset, band


def make_split(records: list[Record], seed: int = SPLIT_SEED,
               fractions: tuple[float, float, float] = SPLIT_FRACTIONS) -> dict[str, str]:
    """hash -> 'train'|'val'|'test', stratified by dataset and 5-year age band.

    Within a stratum the order is a seeded hash of the content hash, so the
    assignment of an image depends only on its bytes, its stratum and the
    seed (not on file names or listing order)."""
    strata: dict[tuple, list[str]] = defaultdict(list)
    for r in records:
        strata[_stratum(r)].append(r.hash)
    out: dict[str, str] = {}
    for key in sorted(strata):
        hashes = sorted(set(strata[key]),
                        key=lambda h: hashlib.sha256(f"{seed}:{h}".encode()).hexdigest())
        n = len(hashes)
        n_test = int(round(n * fractions[2]))
        n_val = int(round(n * fractions[1]))
        for i, h in enumerate(hashes):
            out[h] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return out


def make_fairface_split(records: list[Record], seed: int = SPLIT_SEED) -> dict[str, str]:
    """FairFace: images under its own ``val/`` folder are our test subset (held out);
    its ``train/`` images are split into train/val by content hash, per age group."""
    test = [r for r in records if r.path.parent.name == "val"]
    rest = [r for r in records if r.path.parent.name != "val"]
    out = make_split(rest, seed, FAIRFACE_TRAIN_FRACTIONS)
    for r in test:
        out.setdefault(r.hash, "test")
    return out


def write_split(split: dict[str, str], path: Path = DEFAULT_SPLIT) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        f.write("hash,subset\n")
        for h in sorted(split):
            f.write(f"{h},{split[h]}\n")


def read_split(path: Path = DEFAULT_SPLIT) -> dict[str, str]:
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            subset = row["subset"].strip()
            if subset not in SUBSETS:
                raise ValueError(f"{path}: unknown subset {subset!r}")
            out[row["hash"].strip()] = subset
    return out


def assign(records: list[Record], split: dict[str, str]) -> dict[str, list[Record]]:
    """Records grouped by subset; records whose hash is not in the split are left out
    (the dropped conflicting duplicates, or files added after the split was made)."""
    out: dict[str, list[Record]] = {s: [] for s in SUBSETS}
    for r in records:
        subset = split.get(r.hash)
        if subset is not None:
            out[subset].append(r)
    return out


def load_datasets(utkface: Path | None = DEFAULT_UTKFACE, aaf: Path | None = DEFAULT_AAF,
                  fairface: Path | None = None) -> tuple[list[Record], DedupReport, list[str]]:
    """Index, hash and de-duplicate the datasets (any may be None)."""
    records, problems = [], []
    if fairface is not None:
        r, p = index_fairface(Path(fairface))
        records += r
        problems += [f"fairface/{x}" for x in p]
    if utkface is not None:
        r, bad = index_utkface(Path(utkface), "utkface")
        records += r
        problems += [f"utkface/{p.name}: no AGE_ prefix" for p in bad]
    if aaf is not None:
        r, p = index_csv(Path(aaf), dataset="aaf")
        records += r
        problems += [f"aaf/{x}" for x in p]
    kept, report = deduplicate(with_hashes(records))
    return kept, report, problems


def summarize(subsets: dict[str, list[Record]]) -> str:
    lines = []
    for name, recs in subsets.items():
        ds = Counter(r.dataset for r in recs)
        dec = Counter(r.decade for r in recs)
        lines.append(f"{name:5s} {len(recs):6d}  " + " ".join(f"{k}={v}" for k, v in sorted(ds.items()))
                     + "  decades: " + " ".join(f"{decade_label(d)}:{dec[d]}" for d in sorted(dec)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Index, de-duplicate and split the training data.")
    parser.add_argument("--utkface", default=str(DEFAULT_UTKFACE))
    parser.add_argument("--aaf", default=str(DEFAULT_AAF))
    parser.add_argument("--fairface", default=str(DEFAULT_FAIRFACE), help="FairFace folder ('' to leave out)")
    parser.add_argument("--out", default=str(DEFAULT_SPLIT))
    parser.add_argument("--seed", type=int, default=SPLIT_SEED)
    args = parser.parse_args(argv)
    records, report, problems = load_datasets(args.utkface or None, args.aaf or None, args.fairface or None)
    print(report)
    for p in problems:
        print("skipped:", p)
    fair = [r for r in records if r.span is not None]
    split = {**make_split([r for r in records if r.span is None], args.seed), **make_fairface_split(fair, args.seed)}
    write_split(split, Path(args.out))
    print(f"wrote {args.out}")
    print(summarize(assign(records, split)))


if __name__ == "__main__":
    main()
