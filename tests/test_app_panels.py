"""Side panel rows, charts and the debug crops view, fed with made-up faces."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from app.views.panels import CropsView, FacePanel
from app.views.status import StatusBar
from app.worker.messages import FrameReport
from c3ae.faces import Faces


def faces(track_ids, ages, missed=None) -> Faces:
    n = len(track_ids)
    dists = np.zeros((n, 12), np.float32)
    for i, age in enumerate(ages):
        lo = int(age // 10)
        dists[i, lo], dists[i, lo + 1] = 1 - (age % 10) / 10, (age % 10) / 10
    boxes = np.array([[10 + 100 * i, 10, 90 + 100 * i, 90] for i in range(n)], np.float32)
    return Faces(boxes, np.zeros((n, 6, 2)), np.full(n, 0.9), track_ids=np.array(track_ids, np.int64),
                 ages=np.array(ages, np.float32), dists=dists, ages_smoothed=np.array(ages, np.float32),
                 dists_smoothed=dists, missed=np.array(missed or [0] * n, np.int32))


def report(f: Faces, trained: bool, time_s: float = 0.0) -> FrameReport:
    return FrameReport(QImage(64, 36, QImage.Format.Format_RGB888), 0, time_s, f, {}, trained, 25.0)


def test_rows_follow_tracks(qtbot):
    panel = FacePanel()
    qtbot.addWidget(panel)
    panel.show()
    for t in range(5):
        panel.show_report(report(faces([1, 2], [34.0, 61.5]), trained=True, time_s=t * 0.1))
    assert sorted(panel.rows) == [1, 2]
    assert panel.rows[1].age_label.text() == "34 y"
    assert panel.rows[2].age_label.text() == "62 y"
    assert panel.selected == 1
    panel.rows[2].grab()  # bar chart and sparkline paint without errors
    panel.show_report(report(faces([2], [60.0], missed=[3]), trained=True, time_s=1.0))
    assert sorted(panel.rows) == [2] and panel.selected == 2
    assert panel.rows[2].state_label.text() == "not seen"
    panel.show_report(report(Faces.empty(), trained=True))
    assert not panel.rows and panel.selected == -1


def test_untrained_model_never_shows_an_age(qtbot):
    panel = FacePanel()
    qtbot.addWidget(panel)
    panel.show_report(report(faces([5], [40.0]), trained=False))
    row = panel.rows[5]
    assert row.age_label.text() == "—"
    assert row.bars._dist is None and "untrained" in row.bars._note
    assert not row.sparkline.isVisibleTo(row)


def test_crops_view_shows_three_crops(qtbot):
    view = CropsView()
    qtbot.addWidget(view)
    crops = np.random.default_rng(0).integers(0, 255, (3, 64, 64, 3), dtype=np.uint8)
    view.show_crops(4, crops)
    assert "#4" in view.title.text()
    assert all(not label.pixmap().isNull() for label in view.images)
    view.show_crops(4, None)
    assert "not detected" in view.title.text()


def test_rows_show_the_tracks_age_band(qtbot):
    panel = FacePanel()
    qtbot.addWidget(panel)
    f = faces([1, 2, 3], [29.0, 41.0, 60.0])
    f.ages_low[:2], f.ages_high[:2] = [24.6, 36.0], [34.2, 47.0]  # track 3 has no band yet
    f.uncertain[1] = True
    panel.show_report(report(f, trained=True))
    assert panel.rows[1].age_label.text() == "29 y (25-34)"
    assert "25 and 34" in panel.rows[1].age_label.toolTip()
    assert panel.rows[2].age_label.text() == "41 y? (36-47)" and panel.rows[2].state_label.text() == "uncertain"
    assert panel.rows[3].age_label.text() == "60 y"


def test_settings_panel_stays_inside_the_option_ranges(qtbot):
    from app.views.controls import SettingsPanel
    from c3ae.options import DETECTORS, DEVICES, RANGES, PipelineOptions

    panel = SettingsPanel(PipelineOptions(), "/tmp", True)
    qtbot.addWidget(panel)
    for name, widget, scale in (("min_score", panel.min_score, 1), ("min_size", panel.min_size, 1),
                                ("smoothing", panel.smoothing, 100)):
        low, high, _ = RANGES[name]
        assert low <= widget.minimum() / scale and widget.maximum() / scale <= high, name
    assert [panel.detector.itemData(i) for i in range(panel.detector.count())] == list(DETECTORS)
    assert [panel.device.itemData(i) for i in range(panel.device.count())] == list(DEVICES)
    panel.min_score.setValue(panel.min_score.minimum())
    panel.smoothing.setValue(panel.smoothing.maximum())
    assert panel.options().min_score == panel.min_score.minimum()  # builds without an OptionsError


def test_the_status_bar_counts_every_face_drawn_also_on_frames_the_detector_skipped(qtbot):
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.refresh(report(faces([1, 2, 3, 4], [30.0, 40.0, 50.0, 60.0], missed=[0, 1, 1, 2]), trained=True), True)
    assert bar.faces_label.text() == "4 faces"
    assert bar.faces_label.toolTip() == "1 detected on this frame, 3 carried by their tracks"
    bar.refresh(report(faces([1], [30.0], missed=[1]), trained=True), True)
    assert bar.faces_label.text() == "1 face"
