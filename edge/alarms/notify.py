"""Telling staff: the :class:`Notifier` port and its implementations.

* :class:`RecordingNotifier` - simulator: keeps every batch in memory (tests, the demo).
* :class:`GroupingNotifier` - batches notifications that arrive close together into one message
  (an edge reboot is one message, not twenty); time from the injected clock, released by
  :meth:`flush`, which the engine calls from every ``tick()``.
* :class:`WebhookNotifier` - POSTs a JSON message with httpx. A failed delivery is retried from
  :meth:`flush` with exponential backoff measured on the injected clock, so it never blocks or
  sleeps; errors are logged, never raised into the engine.

A notifier receives a *batch* (a sequence of :class:`~edge.alarms.model.Notification`) per call:
one call is one message for whoever reads it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from edge.alarms.errors import AlarmConfigError, NotifyError
from edge.alarms.model import Notification
from edge.alarms.ports import Notifier
from edge.alarms.texts import batch_text
from retail.clock import Clock

__all__ = ["GroupingNotifier", "Notifier", "RecordingNotifier", "WebhookNotifier", "message_payload"]

log = logging.getLogger(__name__)

SCHEMA = "tillpi.alarm-notifications/1"


def message_payload(batch: Sequence[Notification], store_id: str = "") -> dict[str, Any]:
    """The JSON body of one message."""
    text_en, text_zh = batch_text(batch)
    return {
        "schema": SCHEMA,
        "store_id": store_id,
        "count": len(batch),
        "text_en": text_en,
        "text_zh": text_zh,
        "notifications": [n.to_dict() for n in batch],
    }


def idempotency_key(batch: Sequence[Notification]) -> str:
    return hashlib.sha256("\n".join(n.id for n in batch).encode("utf-8")).hexdigest()


class RecordingNotifier:
    """Simulator: a :class:`Notifier` that records each message (batch) in memory.
    :meth:`fail_next` makes the next calls raise :class:`NotifyError` like a broken channel."""

    def __init__(self) -> None:
        self.batches: list[list[Notification]] = []
        self.flushes = 0
        self._fail = 0
        self._lock = threading.Lock()
        self.closed = False

    def notify(self, notifications: Sequence[Notification]) -> None:
        with self._lock:
            if self._fail > 0:
                self._fail -= 1
                raise NotifyError("simulated delivery failure")
            if notifications:
                self.batches.append(list(notifications))

    def flush(self) -> None:
        self.flushes += 1

    def fail_next(self, times: int = 1) -> None:
        self._fail = times

    @property
    def notifications(self) -> list[Notification]:
        """Every notification, in order, whatever batch it came in."""
        return [n for b in self.batches for n in b]

    def transitions(self, key: str | None = None) -> list[str]:
        return [n.transition.value for n in self.notifications if key is None or n.key == key]

    def clear(self) -> None:
        self.batches.clear()

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> RecordingNotifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GroupingNotifier:
    """Holds notifications until none has arrived for ``window_s`` (or the first has waited
    ``max_delay_s``), then hands them to ``inner`` as one message. Call :meth:`flush` regularly
    (the engine's ``tick()`` does); :meth:`drain` and :meth:`close` send whatever is held."""

    def __init__(self, inner: Notifier, *, clock: Clock, window_s: float = 5.0, max_delay_s: float = 30.0) -> None:
        if window_s <= 0 or max_delay_s < window_s:
            raise AlarmConfigError("need 0 < window_s <= max_delay_s")
        self._inner = inner
        self._clock = clock
        self.window_s = window_s
        self.max_delay_s = max_delay_s
        self._held: list[Notification] = []
        self._first = 0.0
        self._last = 0.0
        self._lock = threading.RLock()
        self._closed = False

    @property
    def held(self) -> int:
        return len(self._held)

    def notify(self, notifications: Sequence[Notification]) -> None:
        if not notifications:
            return
        with self._lock:
            now = self._clock.monotonic()
            if not self._held:
                self._first = now
            self._last = now
            self._held.extend(notifications)
            if now - self._first >= self.max_delay_s:
                self._send()

    def flush(self) -> None:
        with self._lock:
            if self._held:
                now = self._clock.monotonic()
                if now - self._last >= self.window_s or now - self._first >= self.max_delay_s:
                    self._send()
        self._inner.flush()

    def drain(self) -> None:
        """Send what is held now, whatever the window."""
        with self._lock:
            if self._held:
                self._send()

    def _send(self) -> None:
        batch, self._held = self._held, []
        try:
            self._inner.notify(batch)
        except Exception:  # noqa: BLE001 - keep the batch and try again on the next flush
            log.exception("grouped notification of %d failed; kept for the next flush", len(batch))
            self._held = batch + self._held
            self._first = self._last = self._clock.monotonic()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.drain()

    def __enter__(self) -> GroupingNotifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(slots=True)
class _Retry:
    payload: dict[str, Any]
    key: str
    attempts: int
    due: float


class WebhookNotifier:
    """POSTs each message as JSON (see :func:`message_payload`) to ``url`` with an
    ``Idempotency-Key`` header (the same message always has the same key, so a receiver can drop
    repeats). Failures (network error, 5xx, 408, 429) are retried from :meth:`flush` after
    ``backoff_s``, doubling up to ``max_backoff_s``, at most ``max_attempts`` tries in all;
    other 4xx answers are not retried. Nothing here raises into the caller."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock,
        store_id: str = "",
        client: httpx.Client | None = None,
        timeout_s: float = 5.0,
        max_attempts: int = 5,
        backoff_s: float = 2.0,
        max_backoff_s: float = 300.0,
        max_queue: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise AlarmConfigError(f"webhook url must be http(s), not {url!r}")
        if max_attempts < 1 or backoff_s <= 0 or max_backoff_s < backoff_s or max_queue < 1 or timeout_s <= 0:
            raise AlarmConfigError("invalid webhook retry settings")
        self.url = url
        self._clock = clock
        self.store_id = store_id
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)
        self._timeout = timeout_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_queue = max_queue
        self._headers = dict(headers or {})
        self._retries: list[_Retry] = []
        self._lock = threading.RLock()
        self._closed = False
        self.delivered = 0
        self.given_up = 0

    @property
    def pending(self) -> int:
        """Messages waiting for a retry."""
        return len(self._retries)

    def notify(self, notifications: Sequence[Notification]) -> None:
        if not notifications:
            return
        with self._lock:
            if self._closed:
                log.error("webhook notifier closed; %d notifications not sent", len(notifications))
                return
            payload = message_payload(notifications, self.store_id)
            item = _Retry(payload, idempotency_key(notifications), 0, self._clock.monotonic())
            self._attempt(item)

    def flush(self) -> None:
        with self._lock:
            if self._closed or not self._retries:
                return
            now = self._clock.monotonic()
            due = [r for r in self._retries if r.due <= now]
            self._retries = [r for r in self._retries if r.due > now]
            for item in due:
                self._attempt(item)

    def _attempt(self, item: _Retry) -> None:
        item.attempts += 1
        retry, reason = self._post(item)
        if not retry and reason is None:
            self.delivered += 1
            return
        if not retry or item.attempts >= self.max_attempts:
            self.given_up += 1
            log.error("alarm webhook gave up after %d attempt(s) (%s): %s", item.attempts, reason, item.payload["text_en"][:200])
            return
        delay = min(self.max_backoff_s, self.backoff_s * 2 ** (item.attempts - 1))
        item.due = self._clock.monotonic() + delay
        if len(self._retries) >= self.max_queue:
            dropped = self._retries.pop(0)
            self.given_up += 1
            log.error("alarm webhook retry queue full; dropped a message of %d", dropped.payload["count"])
        self._retries.append(item)
        log.warning("alarm webhook attempt %d failed (%s); retry in %.0f s", item.attempts, reason, delay)

    def _post(self, item: _Retry) -> tuple[bool, str | None]:
        """``(retry?, reason)``; ``(False, None)`` is success."""
        headers = {"Idempotency-Key": item.key, **self._headers}
        try:
            response = self._client.post(self.url, json=item.payload, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as exc:
            return True, f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001 - a notifier must never take the engine down
            return True, f"unexpected {type(exc).__name__}: {exc}"
        if response.is_success:
            return False, None
        reason = f"HTTP {response.status_code}"
        return response.status_code >= 500 or response.status_code in (408, 429), reason

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._retries:
                log.warning("alarm webhook closing with %d undelivered message(s)", len(self._retries))
            self._retries.clear()
            if self._own_client:
                self._client.close()

    def __enter__(self) -> WebhookNotifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
