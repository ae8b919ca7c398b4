"""What the app remembers between runs (QSettings): last source, folders, options.

Values come back from QSettings as strings on some platforms, so every read
is converted to the type of its default.
"""
from __future__ import annotations

from dataclasses import asdict, fields, replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from c3ae.errors import OptionsError
from c3ae.options import PipelineOptions
from c3ae.source.address import is_stream

ORGANIZATION = "C3AE"
RECENT_STREAMS = 5  # network streams kept in the Source menu
APPLICATION = "C3AE Age Estimation"


def default_output_folder() -> str:
    movies = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    return str(Path(movies or Path.home()) / "C3AE")


def _convert(value: object, default: object) -> object:
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
    if isinstance(default, (int, float)):
        try:
            return type(default)(value)
        except (TypeError, ValueError):
            return default
    return str(value)


class AppSettings:
    """Typed access to the app's QSettings (pass one in tests to keep them isolated)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings or QSettings(ORGANIZATION, APPLICATION)
        self._launch: dict[str, object] = {}  # options given on the command line, for this run only

    def override_for_this_launch(self, **values: object) -> None:
        """Options from the command line: `options()` returns them, but they are
        never saved unless the user changes them in the app (so `--device cuda`
        once does not make every later start use CUDA)."""
        self._launch.update(values)

    def _get(self, key: str, default):
        value = self.qsettings.value(key, default)
        return default if value is None else _convert(value, default)

    def _set(self, key: str, value) -> None:
        self.qsettings.setValue(key, value)

    # processing options ------------------------------------------------------
    def saved_options(self) -> PipelineOptions:
        """The saved options, or the defaults when a saved value is out of range
        (an edited or older settings file must not stop the app from starting)."""
        defaults = PipelineOptions()
        try:
            return PipelineOptions(**{f.name: self._get(f"options/{f.name}", getattr(defaults, f.name))
                                      for f in fields(PipelineOptions)})
        except OptionsError:
            return defaults

    def options(self) -> PipelineOptions:
        """The saved options with this launch's command-line choices on top."""
        return replace(self.saved_options(), **self._launch)

    def save_options(self, options: PipelineOptions) -> None:
        """Save `options`, except values still equal to a command-line choice; a
        value the user changed stops being a launch-only one."""
        for name, value in asdict(options).items():
            if name in self._launch and self._launch[name] == value:
                continue
            self._launch.pop(name, None)
            self._set(f"options/{name}", value)

    # sources and folders -------------------------------------------------------
    @property
    def last_source(self) -> str:
        return self._get("source/last", "")

    @last_source.setter
    def last_source(self, value: str | int) -> None:
        """Also puts a network stream at the top of `recent_streams`."""
        self._set("source/last", str(value))
        if is_stream(value):
            recent = [str(value), *(url for url in self.recent_streams if url != str(value))]
            self._set("source/recent_streams", "\n".join(recent[:RECENT_STREAMS]))

    @property
    def recent_streams(self) -> list[str]:
        """Network streams opened lately, newest first (an address has no file to
        check, so they are remembered apart from the last file)."""
        return [url for url in self._get("source/recent_streams", "").split("\n") if url]

    @property
    def open_folder(self) -> str:
        return self._get("source/open_folder", str(Path.home()))

    @open_folder.setter
    def open_folder(self, value: str) -> None:
        self._set("source/open_folder", value)

    @property
    def output_folder(self) -> str:
        return self._get("output/folder", default_output_folder())

    @output_folder.setter
    def output_folder(self, value: str) -> None:
        self._set("output/folder", value)

    @property
    def save_csv(self) -> bool:
        return self._get("output/save_csv", True)

    @save_csv.setter
    def save_csv(self, value: bool) -> None:
        self._set("output/save_csv", bool(value))

    @property
    def loop(self) -> bool:
        return self._get("playback/loop", False)

    @loop.setter
    def loop(self, value: bool) -> None:
        self._set("playback/loop", bool(value))

    # window ----------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self._set("window/geometry", geometry)
        self._set("window/state", state)

    def sync(self) -> None:
        self.qsettings.sync()
