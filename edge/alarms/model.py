"""The alarm engine's values: what goes in (:class:`Observation`), what it keeps (:class:`Alarm`,
:class:`KeyTracker`, :class:`HistoryEntry`, :class:`Silence`, :class:`MaintenanceWindow`) and
what comes out (:class:`Notification`). Pure: no I/O, no clock.

An alarm *key* names one condition on one thing: ``<scope>/<device>/<condition>``, where the
scope is a kiosk id or ``store`` for store-wide conditions (``kiosk-03/printer/paper_out``,
``store/ingest/dead_letter``).
"""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

__all__ = [
    "STORE_SCOPE",
    "Alarm",
    "AlarmState",
    "Category",
    "HistoryEntry",
    "KeyTracker",
    "MaintenanceWindow",
    "Notification",
    "Observation",
    "Severity",
    "Silence",
    "Transition",
    "alarm_key",
]

STORE_SCOPE = "store"


class Severity(str, Enum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more severe: critical 3 ... info 0."""
        return _RANK[self]

    def raised(self, levels: int) -> Severity:
        """This severity raised by ``levels`` steps, capped at critical (used by escalation)."""
        target = min(3, self.rank + max(0, levels))
        return next(s for s, r in _RANK.items() if r == target)


_RANK = {Severity.INFO: 0, Severity.MINOR: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}


class Category(str, Enum):
    """What an alarm is about. Device and assistance alarms of a kiosk are inhibited while the
    kiosk is offline; presence and sales-safety alarms never are."""

    DEVICE = "device"
    ASSISTANCE = "assistance"
    PRESENCE = "presence"
    SALES_SAFETY = "sales_safety"

    @property
    def inhibitable(self) -> bool:
        return self in (Category.DEVICE, Category.ASSISTANCE)


class AlarmState(str, Enum):
    PENDING = "pending"
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"

    @property
    def is_raised(self) -> bool:
        """Active or acknowledged: the alarm is real (its raise delay has passed)."""
        return self in (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED)


class Transition(str, Enum):
    """What happened to an alarm; history rows and notifications carry one."""

    PENDING = "pending"  # condition seen, raise delay running
    DISCARDED = "discarded"  # condition went away before the raise delay: never raised
    RAISED = "raised"
    REOCCURRED = "reoccurred"  # condition came back while the alarm was still open
    ACKNOWLEDGED = "acknowledged"
    ACK_EXPIRED = "ack_expired"
    ESCALATED = "escalated"
    FLAPPING = "flapping"
    FLAPPING_ENDED = "flapping_ended"
    CLEARED = "cleared"
    RESOLVED = "resolved"  # cleared by a person
    ANNOUNCED = "announced"  # raised while suppressed, notified once the suppression ended


def alarm_key(scope: str, device: str, condition: str) -> str:
    for part, what in ((scope, "scope"), (device, "device"), (condition, "condition")):
        if not part or "/" in part:
            raise ValueError(f"invalid alarm key {what} {part!r}")
    return f"{scope}/{device}/{condition}"


@dataclass(frozen=True, slots=True)
class Observation:
    """One reading of one condition. ``active`` says whether the condition holds; for a rule with
    numeric thresholds the engine decides from ``value`` instead (hysteresis). ``kiosk_id`` is
    ``None`` for store-wide conditions. ``at`` is when the source saw it (kept as detail: the
    engine times everything on its own clock, kiosk clocks may be wrong)."""

    kiosk_id: str | None
    device: str
    condition: str
    active: bool
    value: float | None = None
    at: datetime | None = None
    detail: str = ""

    @property
    def scope(self) -> str:
        return self.kiosk_id or STORE_SCOPE

    @property
    def key(self) -> str:
        return alarm_key(self.scope, self.device, self.condition)


@dataclass(slots=True)
class KeyTracker:
    """The engine's memory of one key across alarms: is the condition on (after hysteresis),
    since when, and the times it came on lately (for flapping)."""

    key: str
    active: bool = False
    changed_at: datetime | None = None
    value: float | None = None
    edges: list[datetime] = field(default_factory=list)


@dataclass(slots=True)
class Alarm:
    """One open alarm: at most one per key. Removed from the open set when cleared; its history
    stays."""

    id: str
    key: str
    kiosk_id: str | None
    device: str
    condition: str
    severity: Severity
    category: Category
    state: AlarmState
    first_seen_at: datetime
    updated_at: datetime
    raised_at: datetime | None = None
    occurrences: int = 1
    value: float | None = None
    detail: str = ""
    acked_by: str | None = None
    ack_comment: str = ""
    ack_until: datetime | None = None
    escalation_level: int = 0
    escalate_from: datetime | None = None
    flapping: bool = False
    flapping_since: datetime | None = None
    announced: bool = False  # a raise (or flapping) notification went out
    revision: int = 0  # bumped on every transition; makes notification ids unique and replay-safe

    def copy(self) -> Alarm:
        return dataclasses.replace(self)

    @property
    def effective_severity(self) -> Severity:
        """The severity after escalation."""
        return self.severity.raised(self.escalation_level)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One transition, append-only."""

    alarm_id: str
    key: str
    transition: Transition
    from_state: AlarmState | None
    to_state: AlarmState
    at: datetime
    who: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Silence:
    """No notifications for alarms whose key matches ``pattern`` (shell-style: ``kiosk-03/*``,
    ``*/printer/paper_low``) from ``starts_at`` until ``ends_at``."""

    id: str
    pattern: str
    starts_at: datetime
    ends_at: datetime
    by: str
    comment: str = ""

    def covers(self, key: str, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at and fnmatch.fnmatchcase(key, self.pattern)


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A kiosk under maintenance: its alarms (except sales-safety) are not notified."""

    id: str
    kiosk_id: str
    starts_at: datetime
    ends_at: datetime
    by: str
    comment: str = ""

    def covers(self, kiosk_id: str | None, now: datetime) -> bool:
        return kiosk_id == self.kiosk_id and self.starts_at <= now < self.ends_at


@dataclass(frozen=True, slots=True)
class Notification:
    """What staff are told. ``id`` is the idempotency key: the same transition of the same alarm
    always has the same id, so a replay after a restart is recognised and not sent again."""

    id: str
    alarm_id: str
    key: str
    kiosk_id: str | None
    transition: Transition
    severity: Severity
    level: int
    text_en: str
    text_zh: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alarm_id": self.alarm_id,
            "key": self.key,
            "kiosk_id": self.kiosk_id,
            "transition": self.transition.value,
            "severity": self.severity.value,
            "level": self.level,
            "text_en": self.text_en,
            "text_zh": self.text_zh,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notification:
        return cls(
            id=str(data["id"]),
            alarm_id=str(data["alarm_id"]),
            key=str(data["key"]),
            kiosk_id=None if data.get("kiosk_id") is None else str(data["kiosk_id"]),
            transition=Transition(data["transition"]),
            severity=Severity(data["severity"]),
            level=int(data["level"]),
            text_en=str(data["text_en"]),
            text_zh=str(data["text_zh"]),
            at=datetime.fromisoformat(str(data["at"])),
        )
