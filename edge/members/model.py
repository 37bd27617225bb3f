"""Member records and the pure rules around them: phone digits, masking, e-card payloads,
the kiosk's view of a member, and calendar months for the win-back list. No I/O.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from edge.members.errors import InvalidMemberError, InvalidPhoneError, MemberCardError

__all__ = [
    "CARD_PREFIX",
    "Member",
    "PhoneQuery",
    "card_payload",
    "kiosk_view",
    "mask_phone",
    "months_before",
    "normalise_phone",
    "parse_card_payload",
    "phone_query",
]

CARD_PREFIX = "TILLPI-MEMBER"
MIN_PHONE = 7
MAX_PHONE = 15  # E.164
_SEPARATORS = re.compile(r"[\s\-().]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    name: str
    phone: str  # digits only
    email: str | None
    language: str  # "en" or "zh"
    birthday: date | None
    level: str
    created_at: datetime
    last_purchase_at: datetime | None

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def name_initial(self) -> str:
        return self.name.strip()[:1]


def normalise_phone(raw: str) -> str:
    """Digits only: spaces, dashes, dots, brackets and a leading ``+`` are dropped.

    >>> normalise_phone("+86 138-1234-5678")
    '8613812345678'
    """
    if not isinstance(raw, str):
        raise InvalidPhoneError("a phone number is text")
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("+"):
        text = text[1:]
    if not text.isdigit() or not text.isascii() or not MIN_PHONE <= len(text) <= MAX_PHONE:
        raise InvalidPhoneError(f"a phone number is {MIN_PHONE} to {MAX_PHONE} digits")
    return text


def mask_phone(phone: str) -> str:
    """What another person may see of a phone number: ``13812345678`` → ``138****5678``.

    The first three and last four digits stay; every digit between is a ``*``. Numbers too
    short for that keep only the last four.
    """
    digits = phone or ""
    if len(digits) >= 8:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


@dataclass(frozen=True, slots=True)
class PhoneQuery:
    digits: str
    suffix: bool  # True: match the end of the number (e.g. the last 4 digits)


def phone_query(raw: str) -> PhoneQuery:
    """A phone search: a full number (exact), or 4 to 6 trailing digits (candidates)."""
    text = _SEPARATORS.sub("", (raw or "").strip()).lstrip("+")
    if not text.isdigit() or not text.isascii():
        raise InvalidPhoneError("search by phone digits only")
    if 4 <= len(text) < MIN_PHONE:
        return PhoneQuery(text, True)
    if MIN_PHONE <= len(text) <= MAX_PHONE:
        return PhoneQuery(text, False)
    raise InvalidPhoneError("give the full phone number or its last 4 digits")


def check_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    email = email.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidMemberError(f"not an e-mail address: {email!r}")
    return email


# -- e-card ------------------------------------------------------------------------------------
def _check(secret: bytes, member_id: str) -> str:
    if not isinstance(secret, bytes) or len(secret) < 16:
        raise MemberCardError("the card secret is at least 16 bytes")
    mac = hmac.new(secret, f"{CARD_PREFIX}:{member_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(mac[:10]).decode("ascii")  # 16 characters, QR alphanumeric-safe


def card_payload(secret: bytes, member_id: str) -> str:
    """The member e-card QR text: ``TILLPI-MEMBER:<member_id>:<check>`` (HMAC-SHA-256 check)."""
    if not member_id or ":" in member_id:
        raise MemberCardError("a member id is non-empty and has no ':'")
    return f"{CARD_PREFIX}:{member_id}:{_check(secret, member_id)}"


def parse_card_payload(secret: bytes, payload: str) -> str:
    """The member id of a genuine e-card; :class:`MemberCardError` for anything else."""
    parts = payload.strip().split(":") if isinstance(payload, str) else []
    if len(parts) != 3 or parts[0] != CARD_PREFIX or not parts[1]:
        raise MemberCardError("not a tillpi member card")
    if not hmac.compare_digest(_check(secret, parts[1]), parts[2].upper()):
        raise MemberCardError("member card check does not match")
    return parts[1]


# -- views -------------------------------------------------------------------------------------
def kiosk_view(member: Member, *, points_balance: int, stored_value_minor: int, currency: str) -> dict[str, Any]:
    """All a kiosk needs to sell to a member: no full phone, no birthday, no e-mail."""
    return {
        "member_id": member.id,
        "level": member.level,
        "points_balance": points_balance,
        "stored_value_balance": {"minor": stored_value_minor, "currency": currency},
        "masked_phone": member.masked_phone,
        "name_initial": member.name_initial,
    }


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to the month's end)."""
    if months < 0:
        raise InvalidMemberError("months is zero or more")
    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)
