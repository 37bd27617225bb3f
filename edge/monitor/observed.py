"""An :class:`~edge.alarms.ports.AlarmRepository` decorator that tells a listener after every
committed change, so the console and the retained alarm topics follow the engine without
polling it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from edge.alarms.model import Alarm, HistoryEntry, KeyTracker, MaintenanceWindow, Notification, Silence
from edge.alarms.ports import AlarmRepository, StoreChanges

__all__ = ["ObservedAlarmRepository"]

log = logging.getLogger(__name__)


class ObservedAlarmRepository:
    """Delegates to ``inner``; calls ``listener()`` after each successful write that changed
    alarms, silences or maintenance windows. ``listener`` may be set later (it is called with
    the engine's lock held: it must only note the change, e.g. set a flag and wake a thread)."""

    def __init__(self, inner: AlarmRepository, listener: Callable[[], None] | None = None) -> None:
        self.inner = inner
        self.listener = listener

    def _changed(self) -> None:
        if self.listener is not None:
            try:
                self.listener()
            except Exception:  # noqa: BLE001 - a listener must not fail the engine's commit
                log.exception("alarm change listener failed")

    def open_alarms(self) -> list[Alarm]:
        return self.inner.open_alarms()

    def trackers(self) -> list[KeyTracker]:
        return self.inner.trackers()

    def apply(self, changes: StoreChanges) -> None:
        self.inner.apply(changes)
        if changes.upsert or changes.delete:
            self._changed()

    def history(self, alarm_id: str | None = None, *, key: str | None = None) -> list[HistoryEntry]:
        return self.inner.history(alarm_id, key=key)

    def add_silence(self, silence: Silence) -> None:
        self.inner.add_silence(silence)
        self._changed()

    def end_silence(self, silence_id: str, at: datetime) -> Silence:
        ended = self.inner.end_silence(silence_id, at)
        self._changed()
        return ended

    def silences(self) -> list[Silence]:
        return self.inner.silences()

    def add_maintenance(self, window: MaintenanceWindow) -> None:
        self.inner.add_maintenance(window)
        self._changed()

    def end_maintenance(self, window_id: str, at: datetime) -> MaintenanceWindow:
        ended = self.inner.end_maintenance(window_id, at)
        self._changed()
        return ended

    def maintenance_windows(self) -> list[MaintenanceWindow]:
        return self.inner.maintenance_windows()

    def unsent_notifications(self) -> list[Notification]:
        return self.inner.unsent_notifications()

    def known_notification(self, notification_id: str) -> bool:
        return self.inner.known_notification(notification_id)

    def mark_sent(self, notification_ids: Sequence[str], at: datetime) -> None:
        self.inner.mark_sent(notification_ids, at)

    def close(self) -> None:
        self.inner.close()
