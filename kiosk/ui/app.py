"""The kiosk's Kivy application: the window, the screens and their view-models.

Run the demo with ``python -m kiosk.ui``. Importing this module imports Kivy, so call
:func:`kiosk.ui.env.prepare_kivy` first (``main()`` does it for you via ``kiosk.ui.__main__``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import mainthread
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import FadeTransition, ScreenManager, TransitionBase

from kiosk.ui import widgets as _widgets  # noqa: F401 - registers the widget classes used in .kv
from kiosk.ui.fonts import FontFiles, prepare_fonts, register_default_font
from kiosk.ui.screens import KV_FILES
from kiosk.ui.screens.scan import ScanScreen
from kiosk.ui.screens.welcome import WelcomeScreen
from kiosk.ui.theme import DEFAULT_THEME, Theme
from kiosk.viewmodels.kiosk import KioskViewModel, ScreenName
from kiosk.viewmodels.observable import Subscription

__all__ = ["KioskApp", "KioskRoot", "load_kv", "main"]

logger = logging.getLogger(__name__)

UI_DIR = Path(__file__).resolve().parent
SHARED_KV: tuple[Path, ...] = (UI_DIR / "widgets.kv", UI_DIR / "root.kv")
_loaded_kv: set[Path] = set()


def load_kv() -> None:
    """Load the shared and per-screen ``.kv`` files once per process."""
    for path in (*SHARED_KV, *KV_FILES):
        if path not in _loaded_kv:
            Builder.load_file(str(path))
            _loaded_kv.add(path)


class KioskRoot(FloatLayout):
    """The window's root: the screen manager, with the help banner over it."""

    help_message = StringProperty("")
    help_cancel_text = StringProperty("")
    help_shown = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        self.on_cancel_help: Callable[[], None] | None = None
        super().__init__(**kwargs)

    def cancel_help(self) -> None:
        if self.on_cancel_help is not None:
            self.on_cancel_help()


class KioskApp(App):
    """The self-checkout app shell. ``view_models`` is the plain-Python state it shows.

    ``fonts`` defaults to Noto Sans CJK SC prepared in ``font_cache``; ``transition`` to a
    short fade (tests pass ``NoTransition()``).
    """

    title = "tillpi"

    def __init__(
        self,
        view_models: KioskViewModel,
        *,
        fonts: FontFiles | None = None,
        font_cache: Path | None = None,
        transition: TransitionBase | None = None,
        theme: Theme = DEFAULT_THEME,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.view_models = view_models
        self.theme = theme
        self._fonts = fonts
        self._font_cache = font_cache
        self._transition = transition
        self._subscription: Subscription | None = None
        self.kiosk_root: KioskRoot | None = None
        self.screen_manager: ScreenManager | None = None

    # -- building ---------------------------------------------------------------------------
    def build(self) -> KioskRoot:
        fonts = self._fonts
        if fonts is None:
            cache = self._font_cache or Path(self.user_data_dir) / "fonts"
            fonts = prepare_fonts(cache)
        register_default_font(fonts)
        load_kv()
        root = KioskRoot()
        root.on_cancel_help = self.view_models.cancel_help
        manager: ScreenManager = root.ids.screens
        manager.transition = self._transition if self._transition is not None else FadeTransition(duration=0.15)
        welcome = WelcomeScreen()
        scan = ScanScreen()
        scan.shop_name = self.view_models.shop_name
        manager.add_widget(welcome)
        manager.add_widget(scan)
        welcome.bind_view_model(self.view_models.welcome)
        scan.bind_view_model(self.view_models.scan)
        manager.current = self.view_models.screen.value
        self.kiosk_root = root
        self.screen_manager = manager
        self._subscription = self.view_models.on_change(self._view_models_changed)
        self._apply_root(frozenset({"*"}))
        return root

    def screen(self, name: ScreenName | str) -> WelcomeScreen | ScanScreen:
        if self.screen_manager is None:
            raise RuntimeError("the app is not built yet")
        return self.screen_manager.get_screen(ScreenName(name).value)

    @mainthread
    def _view_models_changed(self, names: frozenset[str]) -> None:
        self._apply_root(names)

    def _apply_root(self, names: frozenset[str]) -> None:
        root, manager, vm = self.kiosk_root, self.screen_manager, self.view_models
        if root is None or manager is None:
            return
        if manager.current != vm.screen.value:
            manager.current = vm.screen.value
        root.help_shown = vm.help_requested
        root.help_message = vm.help_text
        root.help_cancel_text = vm.cancel_help_text

    def on_stop(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        if self.screen_manager is not None:
            for screen in self.screen_manager.screens:
                screen.unbind_view_model()


def main(argv: list[str] | None = None) -> int:
    """Open the kiosk window with demo data (``python -m kiosk.ui``)."""
    import argparse

    from kiosk.viewmodels.demo import demo_kiosk_view_model, push_demo_basket

    parser = argparse.ArgumentParser(prog="python -m kiosk.ui", description="tillpi kiosk UI with demo data")
    parser.add_argument("--language", default="en", help="en or zh_CN")
    parser.add_argument("--scan", action="store_true", help="open on the scan screen with a demo basket")
    parser.add_argument("--offline", action="store_true", help="show the staff offline indicator")
    args = parser.parse_args(argv)
    view_models = demo_kiosk_view_model()
    # a simulated engine: every session starts with the demo basket
    view_models.on_session_start = lambda: push_demo_basket(view_models)
    view_models.i18n.set_language(args.language)
    view_models.scan.set_offline(args.offline)
    if args.scan:
        view_models.start_session()
    KioskApp(view_models).run()
    return 0

