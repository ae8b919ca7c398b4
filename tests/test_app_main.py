"""Start-up pieces: arguments, icon, remembered settings, camera names."""
from __future__ import annotations

from PySide6.QtCore import QSettings

from app.main import app_icon, build_parser
from app.settings import AppSettings
from app.views.cameras import _v4l2_cameras
from c3ae.options import PipelineOptions


def test_arguments():
    assert build_parser().parse_args([]).source == "0"
    args = build_parser().parse_args(["--source", "clip.mp4", "--detector", "full", "--device", "cpu"])
    assert (args.source, args.detector, args.device) == ("clip.mp4", "full", "cpu")


def test_icon_loads(qapp):
    icon = app_icon()
    assert not icon.isNull() and not icon.pixmap(64, 64).isNull()


def test_settings_round_trip(qapp, tmp_path):
    path = str(tmp_path / "s.ini")
    settings = AppSettings(QSettings(path, QSettings.Format.IniFormat))
    options = PipelineOptions(detector="full", device="cpu", min_score=0.65, min_size=40.0, smoothing=0.5,
                              show_bars=False, debug=True)
    settings.save_options(options)
    settings.last_source = "/videos/a.mp4"
    settings.loop = True
    settings.sync()
    again = AppSettings(QSettings(path, QSettings.Format.IniFormat))  # values come back as strings
    assert again.options() == options
    assert again.last_source == "/videos/a.mp4" and again.loop is True


def test_v4l2_camera_names(tmp_path):
    for node, index, name in (("video0", "0", "HD Webcam"), ("video1", "1", "HD Webcam"),
                              ("video2", "0", "IR Camera")):
        (tmp_path / node).mkdir()
        (tmp_path / node / "index").write_text(index)
        (tmp_path / node / "name").write_text(name + "\n")
    cams = _v4l2_cameras(tmp_path)
    assert [(c.index, c.name) for c in cams] == [(0, "HD Webcam"), (2, "IR Camera")]


def test_command_line_options_apply_to_one_launch_only(qtbot, tmp_path, shared_engine):
    from app.main import launch_options
    from app.window import MainWindow

    path = str(tmp_path / "s.ini")
    saved = PipelineOptions(detector="full", device="cpu", min_score=0.6)
    AppSettings(QSettings(path, QSettings.Format.IniFormat)).save_options(saved)

    settings = AppSettings(QSettings(path, QSettings.Format.IniFormat))
    settings.override_for_this_launch(**launch_options(build_parser().parse_args(["--device", "cuda",
                                                                                  "--detector", "short"])))
    window = MainWindow(settings, engine=shared_engine)
    qtbot.addWidget(window)
    assert (window.options.device, window.options.detector) == ("cuda", "short")  # this launch uses them
    window.settings_panel.min_score.setValue(0.7)  # a change the user makes is saved ...
    window.close()
    again = AppSettings(QSettings(path, QSettings.Format.IniFormat)).options()
    assert (again.device, again.detector) == ("cpu", "full")  # ... the command line's choices are not
    assert abs(again.min_score - 0.7) < 1e-9


def test_a_launch_option_the_user_changes_is_saved(qtbot, tmp_path):
    path = str(tmp_path / "s.ini")
    settings = AppSettings(QSettings(path, QSettings.Format.IniFormat))
    settings.override_for_this_launch(device="cuda")
    settings.save_options(settings.options())
    assert AppSettings(QSettings(path, QSettings.Format.IniFormat)).options().device == "auto"
    settings.save_options(PipelineOptions(device="cpu"))  # chosen in the Settings panel
    settings.save_options(PipelineOptions(device="cpu"))
    assert AppSettings(QSettings(path, QSettings.Format.IniFormat)).options().device == "cpu"
    assert settings.options().device == "cpu"
