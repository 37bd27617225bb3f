"""Member messages in English and Simplified Chinese: welcome, e-receipt, birthday, win-back.

Pure: a :class:`Message` is built from a kind, a language and values; the outbox stores it
and a :class:`~edge.notify.ports.Notifier` delivers it. ``key`` makes a message idempotent:
the same key is queued once, whatever happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping

from edge.notify.errors import TemplateError

__all__ = ["LANGUAGES", "Message", "MessageKind", "render"]

LANGUAGES = ("en", "zh")


class MessageKind(str, Enum):
    WELCOME = "welcome"
    E_RECEIPT = "e_receipt"
    BIRTHDAY = "birthday"
    WIN_BACK = "win_back"


@dataclass(frozen=True, slots=True)
class Message:
    key: str  # idempotency key, e.g. "welcome:M000001"
    kind: MessageKind
    to: str  # e-mail address
    language: str
    subject: str
    body: str

    def __post_init__(self) -> None:
        if not self.key or len(self.key) > 200:
            raise TemplateError("a message key is 1 to 200 characters")
        if "\n" in self.subject or "\r" in self.subject:
            raise TemplateError("a subject is one line")
        if not self.to or "\n" in self.to or "\r" in self.to or "@" not in self.to:
            raise TemplateError(f"not an address: {self.to!r}")


_TEMPLATES: Mapping[tuple[MessageKind, str], tuple[str, str]] = {
    (MessageKind.WELCOME, "en"): (
        "Welcome to {store}, {name}",
        "Hello {name},\n\nwelcome to {store}'s members' club. Your member number is {member_id}.\n"
        "Show your e-card at the checkout to collect points on every purchase.\n\n{store}\n",
    ),
    (MessageKind.WELCOME, "zh"): (
        "欢迎加入{store}会员，{name}",
        "{name}，您好：\n\n欢迎加入{store}会员。您的会员号是 {member_id}。\n"
        "结账时出示电子会员卡，每次购物都能累积积分。\n\n{store}\n",
    ),
    (MessageKind.E_RECEIPT, "en"): (
        "Your receipt from {store} ({date})",
        "Hello {name},\n\nthank you for shopping at {store}.\n\n{lines}\n\nTotal: {total}\n"
        "Points earned: {points}  Points balance: {points_balance}\n\nReceipt {sale_ref}\n",
    ),
    (MessageKind.E_RECEIPT, "zh"): (
        "{store}电子小票（{date}）",
        "{name}，您好：\n\n感谢您在{store}购物。\n\n{lines}\n\n合计：{total}\n"
        "本次积分：{points}  积分余额：{points_balance}\n\n小票号 {sale_ref}\n",
    ),
    (MessageKind.BIRTHDAY, "en"): (
        "Happy birthday, {name}! A gift from {store}",
        "Happy birthday, {name}!\n\n{store} has a birthday coupon for you: {offer}.\n"
        "Coupon code {code}, valid until {valid_until}.\n\n{store}\n",
    ),
    (MessageKind.BIRTHDAY, "zh"): (
        "{name}，生日快乐！{store}送您一份礼物",
        "{name}，生日快乐！\n\n{store}为您准备了生日优惠券：{offer}。\n"
        "券码 {code}，有效期至 {valid_until}。\n\n{store}\n",
    ),
    (MessageKind.WIN_BACK, "en"): (
        "We miss you at {store}, {name}",
        "Hello {name},\n\nit has been a while since your last visit to {store}.\n"
        "You still have {points_balance} points waiting for you.\n\n{store}\n",
    ),
    (MessageKind.WIN_BACK, "zh"): (
        "{name}，{store}想念您",
        "{name}，您好：\n\n您已经有一段时间没有光临{store}了。\n"
        "您还有 {points_balance} 积分等您使用。\n\n{store}\n",
    ),
}


def render(kind: MessageKind | str, language: str, *, key: str, to: str, values: Mapping[str, Any]) -> Message:
    """Fill the template of ``kind`` in ``language`` (``zh*`` → Chinese, anything else English)."""
    kind = MessageKind(kind)
    lang = "zh" if language.lower().startswith("zh") else "en"
    subject_t, body_t = _TEMPLATES[(kind, lang)]
    try:
        subject = subject_t.format(**values)
        body = body_t.format(**values)
    except (KeyError, IndexError) as err:
        raise TemplateError(f"{kind.value}/{lang} needs the value {err}") from None
    return Message(key=key, kind=kind, to=to, language=lang, subject=subject.replace("\n", " "), body=body)
