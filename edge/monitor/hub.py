"""The live feed of the staff console: events from worker threads to server-sent-event streams.

:meth:`LiveHub.publish` may be called from any thread; each subscriber is an ``asyncio.Queue``
living on the web server's event loop, fed with ``loop.call_soon_threadsafe``. A subscriber
that falls ``max_queue`` events behind is told to reload its snapshot (``{"type": "resync"}``)
instead of growing without bound. :meth:`close` ends every stream.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LiveHub", "Subscription"]

log = logging.getLogger(__name__)

_END: dict[str, Any] = {"type": "__end__"}


@dataclass(eq=False)
class Subscription:
    """One open stream. Iterate :meth:`get` from the loop that made it."""

    id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]]
    overflowed: bool = False
    closed: bool = field(default=False)

    async def get(self, timeout: float) -> dict[str, Any] | None:
        """The next event, ``None`` after ``timeout`` seconds without one; ``{"type": "__end__"}``
        when the hub closed."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            return None


class LiveHub:
    """Fan-out of console events (thread-safe; ``close()`` is idempotent)."""

    def __init__(self, *, max_queue: int = 500) -> None:
        self.max_queue = max_queue
        self._subs: dict[int, Subscription] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False
        self.published = 0

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def subscribe(self) -> Subscription:
        """A new subscription; call from inside the event loop that will read it."""
        loop = asyncio.get_running_loop()
        sub = Subscription(next(self._ids), loop, asyncio.Queue(maxsize=self.max_queue + 1))
        with self._lock:
            if self._closed:
                sub.queue.put_nowait(_END)
            else:
                self._subs[sub.id] = sub
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.pop(sub.id, None)
        sub.closed = True

    def publish(self, event: dict[str, Any]) -> None:
        """Hand ``event`` (a JSON-able dict with a ``type``) to every subscriber."""
        with self._lock:
            subs = list(self._subs.values())
            self.published += 1
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(self._put, sub, event)
            except RuntimeError:  # the loop is closed: the stream is gone
                self.unsubscribe(sub)

    def _put(self, sub: Subscription, event: dict[str, Any]) -> None:
        if sub.overflowed:
            return
        if sub.queue.qsize() >= self.max_queue:
            sub.overflowed = True
            while not sub.queue.empty():
                sub.queue.get_nowait()
            sub.queue.put_nowait({"type": "resync"})
            log.warning("console stream %d fell behind; asked to reload", sub.id)
            return
        sub.queue.put_nowait(event)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            subs = list(self._subs.values())
            self._subs.clear()
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.queue.put_nowait, _END)
            except RuntimeError:
                pass
