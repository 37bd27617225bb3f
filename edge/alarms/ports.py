"""The alarm engine's ports: where alarms are kept (:class:`AlarmRepository`) and where
notifications go (:class:`Notifier`). Pure typing: adapters live in :mod:`edge.alarms.store`
and :mod:`edge.alarms.notify`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from edge.alarms.model import (
    Alarm,
    HistoryEntry,
    KeyTracker,
    MaintenanceWindow,
    Notification,
    Silence,
)

__all__ = ["AlarmRepository", "Notifier", "StoreChanges"]


@dataclass(slots=True)
class StoreChanges:
    """What one engine operation changed; applied atomically."""

    upsert: list[Alarm] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)  # alarm ids that closed
    history: list[HistoryEntry] = field(default_factory=list)
    trackers: list[KeyTracker] = field(default_factory=list)
    drop_trackers: list[str] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.upsert or self.delete or self.history or self.trackers or self.drop_trackers or self.notifications)


@runtime_checkable
class AlarmRepository(Protocol):
    """Persistence of the alarm engine."""

    def open_alarms(self) -> list[Alarm]: ...

    def trackers(self) -> list[KeyTracker]: ...

    def apply(self, changes: StoreChanges) -> None: ...

    def history(self, alarm_id: str | None = None, *, key: str | None = None) -> list[HistoryEntry]: ...

    def add_silence(self, silence: Silence) -> None: ...

    def end_silence(self, silence_id: str, at: datetime) -> Silence: ...

    def silences(self) -> list[Silence]: ...

    def add_maintenance(self, window: MaintenanceWindow) -> None: ...

    def end_maintenance(self, window_id: str, at: datetime) -> MaintenanceWindow: ...

    def maintenance_windows(self) -> list[MaintenanceWindow]: ...

    def unsent_notifications(self) -> list[Notification]: ...

    def known_notification(self, notification_id: str) -> bool: ...

    def mark_sent(self, notification_ids: Sequence[str], at: datetime) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Notifier(Protocol):
    """Where the engine's notifications go."""

    def notify(self, notifications: Sequence[Notification]) -> None:
        """Deliver (or accept for delivery) one message made of ``notifications``."""

    def flush(self) -> None:
        """Do time-based work: release grouped messages, retry failed deliveries."""

    def close(self) -> None: ...
