"""The kiosk's root view-model: which screen is showing, the shared language, help calls."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from enum import Enum

from kiosk.viewmodels.i18n import I18n, Language
from kiosk.viewmodels.observable import Observable
from kiosk.viewmodels.scan import ScanViewModel
from kiosk.viewmodels.welcome import WelcomeViewModel
from retail.clock import Clock, SystemClock

__all__ = ["KioskViewModel", "ScreenName"]

logger = logging.getLogger(__name__)


class ScreenName(str, Enum):
    WELCOME = "welcome"
    SCAN = "scan"


class KioskViewModel(Observable):
    """Owns the screen view-models and navigation. Listeners hear ``screen``, ``help``,
    ``labels``. Everything here is plain Python and runs without a window."""

    def __init__(
        self,
        *,
        shop_name: str,
        currency: str = "CNY",
        language: Language | str = Language.EN,
        clock: Clock | None = None,
        on_session_start: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.on_session_start = on_session_start
        self.clock: Clock = clock or SystemClock()
        self.i18n = I18n(language)
        self.welcome = WelcomeViewModel(
            self.i18n, shop_name, on_start=self.start_session, on_help=self.request_help
        )
        self.scan = ScanViewModel(self.i18n, currency=currency, on_help=self.request_help)
        self._screen = ScreenName.WELCOME
        self._help_since: datetime | None = None
        self._subscription = self.i18n.on_change(lambda _names: self._changed({"labels"}))

    @property
    def shop_name(self) -> str:
        return self.welcome.shop_name

    @property
    def screen(self) -> ScreenName:
        return self._screen

    def go(self, screen: ScreenName | str) -> None:
        target = ScreenName(screen)
        if target is self._screen:
            return
        logger.info("screen %s -> %s", self._screen.value, target.value)
        self._screen = target
        self._changed({"screen"})

    def start_session(self) -> None:
        """The shopper touched the welcome screen: start with an empty basket."""
        self.scan.clear()
        if self.on_session_start is not None:
            self.on_session_start()
        self.go(ScreenName.SCAN)

    def end_session(self) -> None:
        """Back to the welcome screen in the default language, help call cleared."""
        self.cancel_help()
        self.scan.clear()
        self.i18n.set_language(Language.EN)
        self.go(ScreenName.WELCOME)

    # -- help ------------------------------------------------------------------------------
    @property
    def help_requested(self) -> bool:
        return self._help_since is not None

    @property
    def help_since(self) -> datetime | None:
        return self._help_since

    @property
    def help_text(self) -> str:
        return self.i18n.t("help.banner") if self._help_since is not None else ""

    @property
    def cancel_help_text(self) -> str:
        return self.i18n.t("help.cancel")

    def request_help(self) -> None:
        if self._help_since is not None:
            return  # already called; a second touch is not a second call
        self._help_since = self.clock.now()
        logger.info("shopper asked for help on the %s screen", self._screen.value)
        self._changed({"help"})

    def cancel_help(self) -> None:
        if self._help_since is None:
            return
        self._help_since = None
        self._changed({"help"})

    def close(self) -> None:
        """Drop the internal subscriptions (idempotent)."""
        self._subscription.cancel()
        self.welcome.close()
        self.scan.close()
