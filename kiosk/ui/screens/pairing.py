"""The pairing screen: the code in large type and its QR, for staff to confirm at the edge.

Not one of the checkout screens: a freshly provisioned kiosk shows it on its own
(:class:`PairingApp`, ``tillpi kiosk pair``) until staff have paired it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import ScreenManager

from kiosk.ui.fonts import FontFiles, prepare_fonts, register_default_font
from kiosk.ui.screens import SCREEN_DIR
from kiosk.ui.screens.base import BoundScreen
from kiosk.viewmodels.pairing import PairingViewModel

__all__ = ["PAIRING_KV", "PairingApp", "PairingScreen"]

PAIRING_KV = SCREEN_DIR / "pairing.kv"
_loaded = False


class PairingScreen(BoundScreen):
    """Shows a :class:`~kiosk.viewmodels.pairing.PairingViewModel`."""

    title_text = StringProperty("")
    code_text = StringProperty("")
    lane_text = StringProperty("")
    hint_text = StringProperty("")
    expiry_text = StringProperty("")
    help_text = StringProperty("")
    payload = StringProperty("")
    expired = BooleanProperty(False)

    def refresh(self, names: frozenset[str]) -> None:
        vm: PairingViewModel | None = self.view_model
        if vm is None:
            return
        self.title_text = vm.title_text
        self.code_text = vm.code_text
        self.lane_text = vm.lane_text
        self.hint_text = vm.hint_text
        self.expiry_text = vm.expiry_text
        self.help_text = vm.help_text
        self.payload = vm.qr_payload
        self.expired = vm.expired

    def toggle_language(self) -> None:
        if self.view_model is not None:
            self.view_model.toggle_language()


def _load_kv() -> None:
    global _loaded
    from kiosk.ui.app import load_kv

    load_kv()  # the shared widgets (QrImage, KioskLabel, TopBar...)
    if not _loaded:
        Builder.load_file(str(PAIRING_KV))
        _loaded = True


class PairingApp(App):
    """A window holding only the pairing screen; ``tick_s`` re-checks the code's expiry."""

    title = "tillpi pairing"

    def __init__(self, view_model: PairingViewModel, *, fonts: FontFiles | None = None,
                 font_cache: Path | None = None, tick_s: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view_model = view_model
        self._fonts = fonts
        self._font_cache = font_cache
        self._tick_s = tick_s
        self._event: Any = None
        self.screen_manager: ScreenManager | None = None

    def build(self) -> ScreenManager:
        fonts = self._fonts
        if fonts is None:
            fonts = prepare_fonts(self._font_cache or Path(self.user_data_dir) / "fonts")
        register_default_font(fonts)
        _load_kv()
        manager = ScreenManager()
        screen = PairingScreen(name="pairing")
        manager.add_widget(screen)
        screen.bind_view_model(self.view_model)
        self.screen_manager = manager
        return manager

    def screen(self, name: str) -> BoundScreen:
        """The screen called ``name`` (this app has one: ``"pairing"``), as on the kiosk app."""
        if self.screen_manager is None:
            raise RuntimeError("the app is not built yet")
        return self.screen_manager.get_screen(name)

    def request_help(self) -> None:
        """The top bar's help button: nothing to call on an unpaired kiosk."""

    def on_start(self) -> None:
        self._event = Clock.schedule_interval(lambda _dt: self.view_model.tick(), self._tick_s)

    def on_stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        if self.screen_manager is not None:
            self.screen_manager.get_screen("pairing").unbind_view_model()
