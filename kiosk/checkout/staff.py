"""Staff who approve interventions: roles, the ``StaffDirectory`` port and its simulator.

Roles are ordered: attendant < supervisor < manager < owner; a request needs a minimum role
(:data:`DEFAULT_APPROVAL_ROLES`, overridable per lane). The edge implements the directory for
real; :class:`SimulatedStaffDirectory` ships here so a kiosk runs alone.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol, runtime_checkable

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error, InvalidHashError

from kiosk.checkout.errors import CheckoutInputError, DirectoryUnavailableError

__all__ = [
    "STAFF_PREFIX",
    "Role",
    "SimulatedStaffDirectory",
    "StaffDirectory",
    "StaffMember",
    "fast_hasher",
    "parse_staff_badge",
]

log = logging.getLogger(__name__)

STAFF_PREFIX = "TILLPI-STAFF:"


class Role(IntEnum):
    ATTENDANT = 1
    SUPERVISOR = 2
    MANAGER = 3
    OWNER = 4

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise CheckoutInputError(f"unknown role {text!r}; use attendant, supervisor, manager or owner") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class StaffMember:
    staff_id: str
    name: str
    role: Role
    active: bool = True

    def may(self, required: Role) -> bool:
        """Whether this person may approve something that needs ``required``."""
        return self.active and self.role >= required


def parse_staff_badge(text: str) -> tuple[str, str] | None:
    """``TILLPI-STAFF:<id>:<token>`` → ``(id, token)``; None for anything else."""
    if not text.startswith(STAFF_PREFIX):
        return None
    rest = text[len(STAFF_PREFIX) :]
    staff_id, sep, token = rest.partition(":")
    if not sep or not staff_id or not token:
        return None
    return staff_id, token


@runtime_checkable
class StaffDirectory(Protocol):
    """Who the staff are and how they prove it. May raise ``DirectoryUnavailableError``."""

    def verify_pin(self, pin: str) -> StaffMember | None:
        """The active staff member whose PIN this is, or None."""
        ...

    def verify_badge(self, staff_id: str, token: str) -> StaffMember | None:
        """The active staff member this badge belongs to, or None."""
        ...

    def get(self, staff_id: str) -> StaffMember | None:
        """A staff member by id (remote approvals arrive authenticated by the edge)."""
        ...


def fast_hasher() -> PasswordHasher:
    """An argon2id hasher with very low cost: for the simulator and tests only."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=8)


class SimulatedStaffDirectory:
    """A **simulated** staff directory held in memory, with argon2-hashed PINs and badge tokens.

    ``add(staff_id, name, role, pin=..., badge_token=...)``; :meth:`go_offline` /
    :meth:`go_online` make it raise :class:`DirectoryUnavailableError` like an unreachable edge.
    The default hasher has very low cost so tests stay fast; pass ``hasher=`` for real costs.
    """

    def __init__(self, *, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or fast_hasher()
        self._lock = threading.Lock()
        self._staff: dict[str, StaffMember] = {}
        self._pins: dict[str, str] = {}
        self._badges: dict[str, str] = {}
        self._offline = False

    def add(
        self,
        staff_id: str,
        name: str,
        role: Role,
        *,
        pin: str | None = None,
        badge_token: str | None = None,
        active: bool = True,
    ) -> StaffMember:
        if not staff_id or ":" in staff_id:
            raise CheckoutInputError(f"a staff id is non-empty text without ':', not {staff_id!r}")
        if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 12):
            raise CheckoutInputError("a PIN is 4 to 12 digits")
        member = StaffMember(staff_id, name, Role(role), active)
        with self._lock:
            if pin is not None:
                for other_id, other_hash in self._pins.items():
                    if other_id != staff_id and self._matches(other_hash, pin):
                        raise CheckoutInputError("that PIN is already someone else's")
            self._staff[staff_id] = member
            if pin is not None:
                self._pins[staff_id] = self._hasher.hash(pin)
            if badge_token is not None:
                self._badges[staff_id] = self._hasher.hash(badge_token)
        return member

    def go_offline(self) -> None:
        self._offline = True

    def go_online(self) -> None:
        self._offline = False

    def _check_online(self) -> None:
        if self._offline:
            raise DirectoryUnavailableError("the staff directory is out of reach (simulated)")

    def _matches(self, stored: str, secret: str) -> bool:
        try:
            return self._hasher.verify(stored, secret)
        except (Argon2Error, InvalidHashError):
            return False

    def verify_pin(self, pin: str) -> StaffMember | None:
        self._check_online()
        with self._lock:
            candidates = list(self._pins.items())
        for staff_id, stored in candidates:
            if self._matches(stored, pin):
                member = self._staff[staff_id]
                return member if member.active else None
        return None

    def verify_badge(self, staff_id: str, token: str) -> StaffMember | None:
        self._check_online()
        with self._lock:
            stored = self._badges.get(staff_id)
            member = self._staff.get(staff_id)
        if stored is None or member is None or not member.active:
            return None
        return member if self._matches(stored, token) else None

    def get(self, staff_id: str) -> StaffMember | None:
        self._check_online()
        with self._lock:
            member = self._staff.get(staff_id)
        return member if member is not None and member.active else None
