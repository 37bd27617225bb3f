"""Kivy's process settings, applied before Kivy is first imported.

Kivy reads its environment and configuration when ``kivy`` is imported and creates the
window when ``kivy.core.window`` is imported, so :func:`prepare_kivy` must run first; this
module itself imports no Kivy.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from kiosk.ui.errors import UiSettingsError

__all__ = ["DisplaySettings", "prepare_kivy", "default_kivy_home"]


def default_kivy_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tillpi" / "kivy"


@dataclass(frozen=True, slots=True)
class DisplaySettings:
    """How the kiosk window opens. 1280×800 is the 10" Pi touchscreen."""

    width: int = 1280
    height: int = 800
    fullscreen: bool = False
    show_cursor: bool = True
    kivy_home: Path | None = None  # None: $KIVY_HOME or ~/.cache/tillpi/kivy
    font_cache: Path | None = None  # None: <kivy_home>/fonts
    # Multisample anti-aliasing of the window (Kivy's default is 2). Off by default: the
    # screens are flat, axis-aligned shapes and text (text is smoothed by its own texture),
    # and on a software renderer (Mesa llvmpipe under Xvfb, or a Pi without its GL driver)
    # 2× MSAA makes every frame about 2.5× as slow. On a Pi 4/5 with the V3D driver, 4 is
    # affordable for smoother rounded corners.
    multisamples: int = 0

    def __post_init__(self) -> None:
        if not (320 <= self.width <= 7680 and 240 <= self.height <= 4320):
            raise UiSettingsError(f"window size {self.width}x{self.height} is not a screen size")
        if self.multisamples not in (0, 2, 4, 8, 16):
            raise UiSettingsError(f"multisamples is 0, 2, 4, 8 or 16, not {self.multisamples!r}")

    def resolved_home(self) -> Path:
        if self.kivy_home is not None:
            return Path(self.kivy_home)
        env = os.environ.get("KIVY_HOME")
        return Path(env) if env else default_kivy_home()

    def resolved_font_cache(self) -> Path:
        return Path(self.font_cache) if self.font_cache is not None else self.resolved_home() / "fonts"


def prepare_kivy(settings: DisplaySettings) -> None:
    """Set Kivy's environment and window configuration. Call once, before any Kivy import.

    Kivy logs through Python's ``logging`` (logger ``kivy``), writes no log files, reads no
    command-line arguments and keeps its home folder where ``settings`` say.
    """
    if "kivy.core.window" in sys.modules:
        raise UiSettingsError("the Kivy window already exists; prepare_kivy() must run before it is imported")
    home = settings.resolved_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["KIVY_HOME"] = str(home)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONFIG", "1")  # settings come from here, not ~/.kivy/config.ini

    from kivy.config import Config  # first Kivy import, after the environment is set

    Config.set("graphics", "width", str(settings.width))
    Config.set("graphics", "height", str(settings.height))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "fullscreen", "auto" if settings.fullscreen else "0")
    Config.set("graphics", "show_cursor", "1" if settings.show_cursor else "0")
    Config.set("graphics", "multisamples", str(settings.multisamples))
    Config.set("kivy", "exit_on_escape", "0")  # a shopper's keyboard must not close the till
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("input", "mouse", "mouse,disable_multitouch")  # no red multitouch dots on a right click
