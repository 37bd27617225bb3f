"""A tiny message catalogue for the shopper's screens: English and Simplified Chinese.

>>> i18n = I18n()
>>> i18n.t("scan.pay")
'Pay'
>>> i18n.set_language(Language.ZH_CN)
>>> i18n.t("scan.items", count=3)
'3 件商品'

Messages are plain ``str.format`` templates. A key ending in ``.one`` / ``.other`` is a plural
pair, chosen by :meth:`I18n.t` from the ``count`` parameter (Chinese has no plural forms, so
only ``.other`` is used for it).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from enum import Enum

from kiosk.viewmodels.errors import UnknownLanguageError, UnknownMessageError
from kiosk.viewmodels.messages import CHECKOUT_MESSAGES
from kiosk.viewmodels.observable import Observable

__all__ = ["Language", "MESSAGES", "I18n"]


class Language(str, Enum):
    EN = "en"
    ZH_CN = "zh_CN"

    @property
    def native_name(self) -> str:
        """The language's name in itself, as a language switch shows it."""
        return _NATIVE_NAMES[self]

    @property
    def money_locale(self) -> str:
        """The locale passed to :meth:`retail.money.Money.format`."""
        return self.value

    @classmethod
    def parse(cls, code: str | Language) -> Language:
        if isinstance(code, Language):
            return code
        normalized = str(code).strip().replace("-", "_")
        for language in cls:
            if normalized.lower() in (language.value.lower(), language.value.split("_")[0]):
                return language
        raise UnknownLanguageError(f"no messages for language {code!r}; have {[l.value for l in cls]}")


_NATIVE_NAMES = {Language.EN: "English", Language.ZH_CN: "简体中文"}

# key -> {language: template}
MESSAGES: Mapping[str, Mapping[Language, str]] = {
    "welcome.title": {Language.EN: "Welcome", Language.ZH_CN: "欢迎光临"},
    "welcome.subtitle": {
        Language.EN: "Scan, bag and pay on your own",
        Language.ZH_CN: "自助扫码 · 装袋 · 付款",
    },
    "welcome.start": {Language.EN: "Touch to start", Language.ZH_CN: "点击开始"},
    "welcome.language_hint": {Language.EN: "Language", Language.ZH_CN: "语言"},
    "common.help": {Language.EN: "Help", Language.ZH_CN: "帮助"},
    "help.banner": {
        Language.EN: "Help is on the way. A member of staff will be with you shortly.",
        Language.ZH_CN: "已呼叫工作人员，请稍候。",
    },
    "help.cancel": {Language.EN: "Cancel", Language.ZH_CN: "取消"},
    "scan.title": {Language.EN: "Your items", Language.ZH_CN: "您的商品"},
    "scan.empty": {
        Language.EN: "Scan your first item",
        Language.ZH_CN: "请扫描第一件商品",
    },
    "scan.lookup": {Language.EN: "Look up item", Language.ZH_CN: "查找商品"},
    "scan.pay": {Language.EN: "Pay", Language.ZH_CN: "付款"},
    "scan.total": {Language.EN: "Total", Language.ZH_CN: "合计"},
    "scan.items.one": {Language.EN: "{count} item", Language.ZH_CN: "{count} 件商品"},
    "scan.items.other": {Language.EN: "{count} items", Language.ZH_CN: "{count} 件商品"},
    "scan.saving": {Language.EN: "You save {amount}", Language.ZH_CN: "优惠 {amount}"},
    "scan.savings_total": {
        Language.EN: "Total savings {amount}",
        Language.ZH_CN: "共节省 {amount}",
    },
    "status.offline": {Language.EN: "Offline", Language.ZH_CN: "离线"},
    **{key: {Language.EN: en, Language.ZH_CN: zh} for key, (en, zh) in CHECKOUT_MESSAGES.items()},
}


def _plural_suffix(language: Language, count: int) -> str:
    if language is Language.EN and count == 1:
        return ".one"
    return ".other"


class I18n(Observable):
    """The current language and its messages. Listeners hear ``{"language"}`` on a switch."""

    def __init__(
        self,
        language: Language | str = Language.EN,
        *,
        messages: Mapping[str, Mapping[Language, str]] = MESSAGES,
    ) -> None:
        super().__init__()
        self._language = Language.parse(language)
        self._messages = messages
        self._lock = threading.Lock()

    @property
    def language(self) -> Language:
        return self._language

    @property
    def money_locale(self) -> str:
        return self._language.money_locale

    @property
    def other_language(self) -> Language:
        """The language a two-way switch offers (the one not in use)."""
        return Language.ZH_CN if self._language is Language.EN else Language.EN

    def set_language(self, language: Language | str) -> None:
        new = Language.parse(language)
        with self._lock:
            if new is self._language:
                return
            self._language = new
        self._changed({"language"})

    def toggle(self) -> Language:
        """Switch between English and Chinese; returns the new language."""
        self.set_language(self.other_language)
        return self._language

    def has(self, key: str) -> bool:
        return key in self._messages or f"{key}.other" in self._messages

    def t(self, key: str, /, *, language: Language | str | None = None, **params: object) -> str:
        """The message ``key`` in the current (or given) language, formatted with ``params``."""
        lang = self._language if language is None else Language.parse(language)
        table = self._messages.get(key)
        if table is None and "count" in params:
            count = params["count"]
            if isinstance(count, bool) or not isinstance(count, int):
                raise TypeError(f"plural message {key!r} needs an int count, not {count!r}")
            table = self._messages.get(key + _plural_suffix(lang, count)) or self._messages.get(key + ".other")
        if table is None:
            raise UnknownMessageError(key)
        template = table.get(lang)
        if template is None:
            raise UnknownMessageError(f"{key} has no {lang.value} text")
        try:
            return template.format(**params)
        except (KeyError, IndexError) as exc:
            raise UnknownMessageError(f"{key}: missing parameter {exc}") from None
