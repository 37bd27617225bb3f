"""Members at the till: the ``MemberDirectory`` port, its simulator and phone masking.

A shopper identifies with a phone number typed on the screen (shown masked once entered:
``138****5678``) or a member e-card QR (``TILLPI-MEMBER:<id>``). The edge implements the
directory for real; :class:`SimulatedMemberDirectory` ships here so a kiosk runs alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kiosk.checkout.errors import CheckoutInputError, DirectoryUnavailableError
from retail.money import Money

__all__ = [
    "MEMBER_PREFIX",
    "Member",
    "MemberDirectory",
    "SimulatedMemberDirectory",
    "mask_phone",
    "normalize_phone",
]

MEMBER_PREFIX = "TILLPI-MEMBER:"


def normalize_phone(text: str) -> str:
    """Digits of a phone number; a leading +86 / 0086 country code is dropped."""
    digits = "".join(ch for ch in text if ch in "0123456789")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    if not 5 <= len(digits) <= 15:
        raise CheckoutInputError("a phone number has 5 to 15 digits")
    return digits


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``; short numbers keep only their last 4 digits."""
    digits = normalize_phone(phone)
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * (len(digits) - 4) + digits[-4:]


@dataclass(frozen=True, slots=True)
class Member:
    """A member as the kiosk sees them (the edge's record, trimmed)."""

    member_id: str
    phone: str
    level: str  # loyalty level code (retail.loyalty.Level.code)
    level_name_en: str
    level_name_zh: str
    points: int
    stored_value: Money
    name: str = ""

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def level_name(self, language: str) -> str:
        return self.level_name_zh if language.startswith("zh") else self.level_name_en


@runtime_checkable
class MemberDirectory(Protocol):
    """Find members. May raise :class:`DirectoryUnavailableError` when the edge is away."""

    def find_by_phone(self, phone: str) -> Member | None: ...

    def find_by_id(self, member_id: str) -> Member | None: ...


class SimulatedMemberDirectory:
    """A **simulated** member directory held in memory (``add(member)``); :meth:`go_offline`
    makes it raise :class:`DirectoryUnavailableError` like an unreachable edge."""

    def __init__(self, members: tuple[Member, ...] | list[Member] = ()) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, Member] = {}
        self._by_phone: dict[str, Member] = {}
        self._offline = False
        for member in members:
            self.add(member)

    def add(self, member: Member) -> None:
        phone = normalize_phone(member.phone)
        with self._lock:
            self._by_id[member.member_id] = member
            self._by_phone[phone] = member

    def go_offline(self) -> None:
        self._offline = True

    def go_online(self) -> None:
        self._offline = False

    def find_by_phone(self, phone: str) -> Member | None:
        if self._offline:
            raise DirectoryUnavailableError("the member directory is out of reach (simulated)")
        with self._lock:
            return self._by_phone.get(normalize_phone(phone))

    def find_by_id(self, member_id: str) -> Member | None:
        if self._offline:
            raise DirectoryUnavailableError("the member directory is out of reach (simulated)")
        with self._lock:
            return self._by_id.get(member_id)
