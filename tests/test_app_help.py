"""The Help menu (shortcut list, About from the model card), the View menu's debug
crops, the seek slider's click-to-jump and the FPS figure while paused."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu, QMessageBox

from app.views.help import card_facts

TIMEOUT = 30_000


def menu_actions(window, title: str) -> list:
    menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == title)
    return menu.actions()


def open_boxes(window) -> list[QMessageBox]:
    return [box for box in window.findChildren(QMessageBox) if box.isVisible()]


def test_help_menu_lists_every_shortcut(qtbot, make_window):
    window = make_window()
    assert menu_actions(window, "&Help") == [window.act.shortcuts, window.act.about]
    window.act.shortcuts.trigger()
    qtbot.waitUntil(lambda: bool(open_boxes(window)), timeout=TIMEOUT)
    text = open_boxes(window)[0].text()
    for keys, what in (("Space", "Play / pause"), ("R", "Record the annotated video"), ("F", "Full screen"),
                       ("D", "Show the three crops"), ("S", "Save the annotated frame as PNG")):
        assert f"<b>{keys}</b>" in text and what in text
    assert "Click the seek bar" in text


def test_about_box_summarises_the_model_card(qtbot, make_window):
    window = make_window()
    window.act.about.trigger()
    qtbot.waitUntil(lambda: bool(open_boxes(window)), timeout=TIMEOUT)
    text = open_boxes(window)[0].text()
    assert "non-commercial research only" in text  # the weights' licence, from weights/MODEL_CARD.md
    assert "6.04" in text and "48,281" in text  # test MAE and parameter count, from the card
    assert "own test MAE got worse" in text


def test_about_facts_without_a_card(tmp_path):
    assert card_facts(tmp_path / "mine.pt") == {"file": "mine.pt"}
    (tmp_path / "mine.json").write_text('{"trained": false}')
    assert card_facts(tmp_path / "mine.pt")["trained"] == "untrained"


def test_debug_crops_are_in_the_view_menu(qtbot, make_window):
    window = make_window()
    assert window.act.debug in menu_actions(window, "&View")
    assert not window.crops_dock.isVisible()
    window.act.debug.trigger()
    assert window.crops_dock.isVisible() and window.settings_panel.debug.isChecked()
    assert window.options.debug and window.settings.options().debug  # the worker keeps crops; remembered
    window.settings_panel.debug.setChecked(False)  # the panel's checkbox and the menu stay in step
    assert not window.crops_dock.isVisible() and not window.act.debug.isChecked()


def open_paused(qtbot, window, video: Path) -> None:
    window.open_source(str(video))
    qtbot.waitUntil(lambda: window.last_report is not None, timeout=TIMEOUT)
    window.act.play.trigger()
    qtbot.waitUntil(lambda: not window.act.play.isChecked(), timeout=TIMEOUT)


def test_clicking_the_seek_bar_jumps_there(qtbot, make_window, synthetic_video):
    window = make_window()
    open_paused(qtbot, window, synthetic_video)
    slider = window.area.transport.slider
    start = slider.value()
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(int(slider.width() * 0.75), slider.height() // 2))
    target = slider.value()
    assert abs(target - 0.75 * slider.maximum()) <= 3, "the click did not jump to where it landed"
    assert abs(target - start) > 3  # a page step from the start would not get there
    qtbot.waitUntil(lambda: window.last_report.index == target, timeout=TIMEOUT)


def test_fps_does_not_go_stale_while_paused(qtbot, make_window, synthetic_video):
    window = make_window(loop=True)
    fps = window.status.fps_label
    window.open_source(str(synthetic_video))
    qtbot.waitUntil(lambda: fps.text().startswith("FPS ") and "–" not in fps.text(), timeout=TIMEOUT)
    window.act.play.trigger()
    qtbot.waitUntil(lambda: fps.text() == "FPS – (paused)", timeout=TIMEOUT)
    window.act.play.trigger()
    qtbot.waitUntil(lambda: "paused" not in fps.text() and "–" not in fps.text(), timeout=TIMEOUT)
