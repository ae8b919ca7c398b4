"""The chain reads in order: no module of `c3ae/` imports a later stage.

Stages: the ground floor (shared vocabulary: faces, errors, options, age bins,
cut signature, the per-frame record, runtime helpers) 0, source 1, detect 2, crops 3, the age model 4,
track 5, draw 6, the chain that strings them together (`pipeline`, `run`) 6.5,
sink 7, cli 8; training sits on top. Every import counts, also the lazy ones
inside functions.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "c3ae"
GROUND = 0.0
STAGES = {"source": 1, "detect": 2, "crops": 3, "model": 4, "track": 5, "draw": 6, "pipeline": 6.5,
          "run": 6.5, "sink": 7, "cli": 8, "training": 9}
GROUND_FLOOR = {"__init__", "errors", "faces", "options", "results", "twopoint", "cuts", "runtime", "downscale"}


def stage(module: str) -> float:
    """The stage of a dotted module name inside c3ae ('c3ae.track.tracker' -> 5)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    if top in GROUND_FLOOR:
        return GROUND
    if top not in STAGES:
        raise AssertionError(f"{module}: not in any stage; add it to tests/test_layers.py")
    return STAGES[top]


def imported(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, module) of every c3ae import in a file under `root` (the c3ae folder), relative ones resolved."""
    package = ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            if base == "c3ae":  # `from c3ae import options`: the names are modules
                found += [(node.lineno, f"c3ae.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return [(line, name) for line, name in found if name == "c3ae" or name.startswith("c3ae.")]


def test_no_module_imports_a_later_stage() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        own = stage(module)
        for line, name in imported(path):
            if name != "c3ae" and stage(name) > own:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({own:g}) imports {name} ({stage(name):g})")
    assert not upward, "imports that run back up the chain:\n" + "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The walk finds lazy imports inside functions too (a check that cannot fail proves nothing)."""
    source = tmp_path / "c3ae" / "detect" / "x.py"
    source.parent.mkdir(parents=True)
    source.write_text("def f():\n    from c3ae.track.tracker import FaceTracker\n    import c3ae.sink.writer\n")
    found = [name for _, name in imported(source, tmp_path / "c3ae")]
    assert found == ["c3ae.track.tracker", "c3ae.sink.writer"]
    assert all(stage(name) > stage("c3ae.detect.x") for name in found)

