"""The Help menu's two boxes: the keyboard shortcuts, and About (what the model is
and is not good for, and its licence), read from the files that ship with the
weights so the box can never disagree with the model card."""
from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

MOUSE_ROWS = (("Click the seek bar", "Jump to that position"),
              ("Click a face in the Faces panel", "Select it for the debug crops"),
              ("Drop a video file on the window", "Open it"))
LIBRARIES = "PySide6 (Qt for Python, LGPLv3), PyTorch (BSD), MediaPipe (Apache 2.0), OpenCV (Apache 2.0)"


def shortcut_rows(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(keys, what they do) for every action with a shortcut, in the order given."""
    rows = []
    for action in actions:
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
        if keys:
            rows.append((keys, action.statusTip() or action.text().replace("&", "")))
    return rows


def shortcuts_html(actions: Iterable[QAction]) -> str:
    rows = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>"
                   for k, v in (*shortcut_rows(actions), *MOUSE_ROWS))
    return f"<table cellpadding='2'>{rows}</table>"


def card_facts(weights: Path) -> dict[str, str]:
    """What About says about the model, from its manifest (`c3ae.json`) and `MODEL_CARD.md`
    beside the weights; anything missing is simply left out."""
    facts: dict[str, str] = {"file": weights.name}
    try:
        manifest = json.loads(weights.with_suffix(".json").read_text())
        facts["trained"] = "trained" if manifest.get("trained") else "untrained"
        if "val_mae" in manifest.get("metrics", {}):
            facts["val_mae"] = f"{manifest['metrics']['val_mae']:.2f}"
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    try:
        card = (weights.parent / "MODEL_CARD.md").read_text()
    except OSError:
        return facts
    for line in card.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] == "licence":
            facts["licence"] = cells[1].rstrip(".")
        elif len(cells) == 2 and cells[0] == "parameters":
            facts["parameters"] = cells[1].split(" ")[0]  # the count, without the card's explanation
        elif len(cells) >= 3 and cells[0].startswith("test MAE, all") and "test_mae" not in facts:
            facts["test_mae"] = cells[2].strip("*")  # the protocol table's "after" column
    weaknesses = card.partition("## Known weaknesses")[2]
    leads = re.findall(r"^- \*\*(.+?)\*\*", weaknesses, re.MULTILINE)
    facts["weaknesses"] = "; ".join(lead.rstrip(".") for lead in leads)
    return {k: v for k, v in facts.items() if v}


def _markdown(text: str) -> str:
    """The card's **bold** and `code`, escaped otherwise."""
    text = html.escape(text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text))


def about_html(weights: Path, engine_status: str = "") -> str:
    try:
        version = " " + metadata.version("c3ae-age")
    except metadata.PackageNotFoundError:
        version = ""
    f = card_facts(weights)
    model = [f"<b>{html.escape(f['file'])}</b>" + (f" ({f['trained']})" if "trained" in f else "")]
    if "parameters" in f:
        model.append(f"{_markdown(f['parameters'])} parameters")
    if "test_mae" in f:
        model.append(f"test-split mean absolute error {html.escape(f['test_mae'])} years")
    if "val_mae" in f:
        model.append(f"validation MAE {f['val_mae']}")
    parts = [f"<h3>C3AE Age Estimation{html.escape(version)}</h3>",
             "<p>Finds faces with MediaPipe BlazeFace and reads each one's age with C3AE "
             "(Zhang et al., CVPR 2019) from three context crops, tracked and smoothed over time.</p>",
             f"<p><b>Model:</b> {', '.join(model)}.</p>"]
    if engine_status:
        parts.append(f"<p><b>Loaded now:</b> {html.escape(engine_status)}</p>")
    if "weaknesses" in f:
        parts.append(f"<p><b>Known weaknesses:</b> {_markdown(f['weaknesses'])}.</p>")
    parts.append(f"<p><b>Licence of the weights:</b> {_markdown(f.get('licence', 'see weights/MODEL_CARD.md'))}. "
                 "Ages are estimates from appearance: never use them to decide about a person.</p>")
    parts.append(f"<p>Details: <code>weights/MODEL_CARD.md</code>. Built with {LIBRARIES}.</p>")
    return "".join(parts)


def show_box(parent: QWidget, title: str, text_html: str) -> QMessageBox:
    """A window-modal box that does not block the caller (the video keeps playing)."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, title, text_html, QMessageBox.StandardButton.Close, parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setStyleSheet("QLabel { min-width: 460px; }")  # QMessageBox is narrow: tables would wrap every row
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
