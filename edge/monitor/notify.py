"""Notifiers the edge adds to the alarm engine's: the console's toast feed, a log line, and a
fan-out to several channels."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from edge.alarms.model import Notification
from edge.alarms.notify import message_payload
from edge.alarms.ports import Notifier
from edge.monitor.hub import LiveHub

__all__ = ["FanoutNotifier", "HubNotifier", "LogNotifier"]

log = logging.getLogger(__name__)


class HubNotifier:
    """Each (grouped) message becomes a ``notification`` event on the console's live feed."""

    def __init__(self, hub: LiveHub, store_id: str = "") -> None:
        self._hub = hub
        self._store = store_id

    def notify(self, notifications: Sequence[Notification]) -> None:
        if notifications:
            self._hub.publish({"type": "notification", **message_payload(notifications, self._store)})

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


class LogNotifier:
    """Each message as one log line (the channel of last resort)."""

    def notify(self, notifications: Sequence[Notification]) -> None:
        if notifications:
            log.warning("alarm message: %s", message_payload(notifications)["text_en"].replace("\n", " | "))

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


class FanoutNotifier:
    """Hands every message to each of ``channels``; one failing channel does not stop the others
    (a channel that must retry, such as the webhook, does it itself)."""

    def __init__(self, channels: Sequence[Notifier]) -> None:
        self.channels = list(channels)
        self._closed = False

    def notify(self, notifications: Sequence[Notification]) -> None:
        for channel in self.channels:
            try:
                channel.notify(notifications)
            except Exception:  # noqa: BLE001
                log.exception("notification channel %s failed", type(channel).__name__)

    def flush(self) -> None:
        for channel in self.channels:
            try:
                channel.flush()
            except Exception:  # noqa: BLE001
                log.exception("notification channel %s failed to flush", type(channel).__name__)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for channel in self.channels:
            channel.close()
