"""Kiosk presence from the retained ``KioskState`` births and wills. Pure: no bus, no clock.

A kiosk publishes ``online`` (retained) on every connect with a session number that rises
on every connect, and leaves a retained ``lost`` will carrying the same session. The broker
may deliver a will late: after a kiosk reconnected, the old connection's will can still
arrive (it sat in a queue, or the broker noticed the dead socket only after the new birth).
So a message only counts when its session is not older than the newest one seen:

* ``online`` with session ``s >= newest`` -> online (newest = s);
* ``lost`` with session ``s >= newest`` -> offline (newest = s);
* anything with ``s < newest`` -> stale, ignored (counted in :attr:`PresenceTracker.stale`);
* ``online`` with ``s == newest`` after that session's ``lost`` -> stale as well (a replay of
  a birth whose connection is known dead).

Every other message from a kiosk (health, events) only refreshes its *last seen* time.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

__all__ = ["KioskPresence", "PresenceChange", "PresenceStatus", "PresenceTracker"]

log = logging.getLogger(__name__)


class PresenceStatus(str, Enum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class KioskPresence:
    """What the edge believes about one kiosk's connection."""

    kiosk_id: str
    status: PresenceStatus
    session: int
    since: datetime | None
    last_seen: datetime | None
    software_version: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "kiosk_id": self.kiosk_id,
            "status": self.status.value,
            "session": self.session,
            "since": self.since.isoformat() if self.since else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "software_version": self.software_version,
        }


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """A kiosk went online or offline (``before`` is ``None`` for a kiosk seen the first time)."""

    kiosk_id: str
    before: PresenceStatus | None
    after: PresenceStatus
    session: int
    at: datetime


class PresenceTracker:
    """Applies kiosk births and wills in session order (thread-safe)."""

    def __init__(self) -> None:
        self._kiosks: dict[str, KioskPresence] = {}
        self._lock = threading.Lock()
        self.stale = 0  # births and wills ignored because a newer session was already seen

    def apply(self, kiosk_id: str, status: str, session: int, *, at: datetime,
              software_version: str = "") -> PresenceChange | None:
        """Apply a ``KioskState`` (``status`` ``online`` or ``lost``/``offline``) received at
        ``at`` (edge time). Returns the change, or ``None`` when nothing changed or the message
        was stale."""
        if status not in ("online", "lost", "offline"):
            raise ValueError(f"unknown kiosk status {status!r}")
        if isinstance(session, bool) or not isinstance(session, int) or session < 1:
            raise ValueError(f"a session is a whole number >= 1, not {session!r}")
        target = PresenceStatus.ONLINE if status == "online" else PresenceStatus.OFFLINE
        with self._lock:
            known = self._kiosks.get(kiosk_id)
            if known is not None:
                older = session < known.session
                dead_birth = (session == known.session and target is PresenceStatus.ONLINE
                              and known.status is PresenceStatus.OFFLINE)
                if older or dead_birth:
                    self.stale += 1
                    log.info("kiosk %s: ignored stale %s of session %d (newest %d)", kiosk_id, status, session, known.session)
                    self._kiosks[kiosk_id] = replace(known, last_seen=_later(known.last_seen, at))
                    return None
            before = known.status if known is not None else None
            changed = before is not target
            self._kiosks[kiosk_id] = KioskPresence(
                kiosk_id, target, session,
                since=at if changed or known is None else known.since,
                last_seen=at if target is PresenceStatus.ONLINE else (known.last_seen if known else None),
                software_version=software_version or (known.software_version if known else ""),
            )
        if not changed:
            return None
        log.info("kiosk %s is %s (session %d)", kiosk_id, target.value, session)
        return PresenceChange(kiosk_id, before, target, session, at)

    def seen(self, kiosk_id: str, at: datetime) -> None:
        """Any other message from ``kiosk_id`` arrived at ``at``: refresh its last-seen time."""
        with self._lock:
            known = self._kiosks.get(kiosk_id)
            if known is None:
                self._kiosks[kiosk_id] = KioskPresence(kiosk_id, PresenceStatus.UNKNOWN, 0, None, at)
            else:
                self._kiosks[kiosk_id] = replace(known, last_seen=_later(known.last_seen, at))

    def forget(self, kiosk_id: str) -> None:
        with self._lock:
            self._kiosks.pop(kiosk_id, None)

    def get(self, kiosk_id: str) -> KioskPresence | None:
        with self._lock:
            return self._kiosks.get(kiosk_id)

    def all(self) -> list[KioskPresence]:
        with self._lock:
            return [self._kiosks[k] for k in sorted(self._kiosks)]


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a
