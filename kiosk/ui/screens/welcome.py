"""The welcome (attract) screen: shop name, a big start target, language and help."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.ui.screens.base import BoundScreen
from kiosk.viewmodels.i18n import Language
from kiosk.viewmodels.welcome import WelcomeViewModel

__all__ = ["WelcomeScreen"]


class WelcomeScreen(BoundScreen):
    """Touching anywhere that is not another button starts a session."""

    shop_name = StringProperty("")
    title_text = StringProperty("")
    subtitle_text = StringProperty("")
    start_text = StringProperty("")
    help_text = StringProperty("")
    english_active = BooleanProperty(True)
    chinese_active = BooleanProperty(False)
    english_text = StringProperty(Language.EN.native_name)
    chinese_text = StringProperty(Language.ZH_CN.native_name)

    def refresh(self, names: frozenset[str]) -> None:
        vm: WelcomeViewModel | None = self.view_model
        if vm is None:
            return
        self.shop_name = vm.shop_name
        self.title_text = vm.title_text
        self.subtitle_text = vm.subtitle_text
        self.start_text = vm.start_text
        self.help_text = vm.help_text
        self.english_active = vm.language is Language.EN
        self.chinese_active = vm.language is Language.ZH_CN

    # actions (bound in welcome.kv)
    def choose_language(self, code: str) -> None:
        if self.view_model is not None:
            self.view_model.choose_language(code)

    def start(self) -> None:
        if self.view_model is not None:
            self.view_model.start()

    def request_help(self) -> None:
        if self.view_model is not None:
            self.view_model.request_help()

    def on_touch_down(self, touch):  # type: ignore[no-untyped-def]
        if super().on_touch_down(touch):
            return True
        if self.collide_point(*touch.pos):
            touch.ud["tillpi.welcome_start"] = True  # no button took it: "touch to start"
            return True
        return False

    def on_touch_up(self, touch):  # type: ignore[no-untyped-def]
        if touch.ud.pop("tillpi.welcome_start", False) and self.collide_point(*touch.pos):
            self.start()
            return True
        return super().on_touch_up(touch)
