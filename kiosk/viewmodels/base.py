"""What the engine-bound screen view-models share: the snapshot, the send hook, key entry.

A screen view-model keeps the last :class:`~kiosk.checkout.CheckoutSnapshot` it was given
(:meth:`ScreenViewModel.apply`) and turns it into texts in the shopper's language; its
actions send checkout events through ``send`` (the app wiring hands them to the engine on the
UI thread). Listeners hear ``{"state"}`` after a new snapshot and ``{"labels"}`` after a
language switch. Plain Python, no Kivy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from kiosk.viewmodels.errors import ViewModelError
from kiosk.viewmodels.i18n import I18n, Language
from kiosk.viewmodels.observable import Observable
from retail.money import Money

if TYPE_CHECKING:
    from kiosk.checkout import CheckoutSnapshot

__all__ = ["BACKSPACE", "CLEAR", "KeyEntry", "ScreenViewModel", "Send", "money_from_text"]

Send = Callable[[Any], None]
BACKSPACE = "<"
CLEAR = "C"


class InvalidKeyError(ViewModelError, ValueError):
    """A key the entry does not take."""


def money_from_text(text: str, currency: str) -> Money | None:
    """``"12.5"`` → ¥12.50; None for empty or unreadable text, or more decimals than the
    currency has."""
    text = text.strip()
    if not text or text == ".":
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    try:
        return Money.of(amount, currency)
    except (ValueError, ArithmeticError):
        return None


class KeyEntry:
    """Text typed on an on-screen keypad: ``press(key)`` appends, ``<`` deletes, ``C`` clears.

    ``allowed`` are the characters taken; ``max_len`` caps the length; ``decimals`` (for
    money) allows one ``.`` and at most that many digits after it.
    """

    def __init__(self, *, allowed: str, max_len: int, decimals: int | None = None, upper: bool = False) -> None:
        if max_len < 1:
            raise ViewModelError("a key entry holds at least one character")
        self._allowed = frozenset(allowed)
        self._max_len = max_len
        self._decimals = decimals
        self._upper = upper
        self._text = ""

    @property
    def text(self) -> str:
        return self._text

    def clear(self) -> None:
        self._text = ""

    def press(self, key: str) -> bool:
        """Apply one key; returns whether the text changed (a refused key changes nothing)."""
        if key == BACKSPACE:
            if not self._text:
                return False
            self._text = self._text[:-1]
            return True
        if key == CLEAR:
            changed = bool(self._text)
            self._text = ""
            return changed
        if len(key) != 1:
            raise InvalidKeyError(f"not a key: {key!r}")
        if self._upper:
            key = key.upper()
        if key not in self._allowed and key.lower() not in self._allowed:
            return False
        if len(self._text) >= self._max_len:
            return False
        if self._decimals is not None and key == ".":
            if "." in self._text:
                return False
        if self._decimals is not None and "." in self._text and key != ".":
            if len(self._text.split(".", 1)[1]) >= self._decimals:
                return False
        self._text += key
        return True


class ScreenViewModel(Observable):
    """Base of the engine-bound screen view-models (see the module docstring)."""

    def __init__(self, i18n: I18n, *, send: Send | None = None, currency: str = "CNY") -> None:
        super().__init__()
        self._i18n = i18n
        self.send: Send | None = send  # public: the wiring sets it
        self.currency = currency
        self._snap: CheckoutSnapshot | None = None
        self._lock = threading.RLock()
        self._i18n_subscription = i18n.on_change(lambda _names: self._changed({"labels"}))

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def snapshot(self) -> CheckoutSnapshot | None:
        return self._snap

    @property
    def language(self) -> Language:
        return self._i18n.language

    @property
    def zh(self) -> bool:
        return self._i18n.language is Language.ZH_CN

    @property
    def help_text(self) -> str:
        """Every screen has a help button with the same label."""
        return self.t("common.help")

    def t(self, key: str, /, **params: object) -> str:
        return self._i18n.t(key, **params)

    def money(self, amount: Money | None) -> str:
        return "" if amount is None else amount.format(self._i18n.money_locale)

    def apply(self, snapshot: CheckoutSnapshot) -> None:
        """Take the engine's latest snapshot (any thread); listeners hear ``{"state"}``."""
        with self._lock:
            self._snap = snapshot
            self._on_snapshot(snapshot)
        self._changed({"state"})

    def _on_snapshot(self, snapshot: CheckoutSnapshot) -> None:
        """Hook: derive local state from a new snapshot (under the lock)."""

    def _send(self, event: Any) -> None:
        if self.send is not None:
            self.send(event)

    def item_name(self, name_en: str, name_zh: str) -> str:
        return name_zh if self.zh and name_zh else name_en

    def close(self) -> None:
        self._i18n_subscription.cancel()
