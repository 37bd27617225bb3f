"""The welcome (attract) screen's view-model: shop name, start, language, help."""

from __future__ import annotations

from collections.abc import Callable

from kiosk.viewmodels.i18n import I18n, Language
from kiosk.viewmodels.observable import Observable

__all__ = ["WelcomeViewModel"]

Action = Callable[[], None]


class WelcomeViewModel(Observable):
    """State of the welcome screen. Listeners hear ``{"labels"}`` when the language changes."""

    def __init__(
        self,
        i18n: I18n,
        shop_name: str,
        *,
        on_start: Action | None = None,
        on_help: Action | None = None,
    ) -> None:
        super().__init__()
        if not shop_name or not shop_name.strip():
            raise ValueError("the welcome screen needs a shop name")
        self._i18n = i18n
        self._shop_name = shop_name.strip()
        self.on_start = on_start  # what the actions call (public, may be replaced)
        self.on_help = on_help
        self._subscription = i18n.on_change(lambda _names: self._changed({"labels"}))

    @property
    def language(self) -> Language:
        return self._i18n.language

    @property
    def shop_name(self) -> str:
        return self._shop_name

    @property
    def title_text(self) -> str:
        return self._i18n.t("welcome.title")

    @property
    def subtitle_text(self) -> str:
        return self._i18n.t("welcome.subtitle")

    @property
    def start_text(self) -> str:
        return self._i18n.t("welcome.start")

    @property
    def help_text(self) -> str:
        return self._i18n.t("common.help")

    @property
    def languages(self) -> tuple[tuple[Language, str, bool], ...]:
        """Each language offered, its native name and whether it is the one in use."""
        return tuple((lang, lang.native_name, lang is self._i18n.language) for lang in Language)

    @property
    def language_toggle_text(self) -> str:
        """What a single switch button reads: the other language, in its own script."""
        return self._i18n.other_language.native_name

    def choose_language(self, language: Language | str) -> None:
        self._i18n.set_language(language)

    def toggle_language(self) -> None:
        self._i18n.toggle()

    def start(self) -> None:
        if self.on_start is not None:
            self.on_start()

    def request_help(self) -> None:
        if self.on_help is not None:
            self.on_help()

    def close(self) -> None:
        self._subscription.cancel()
