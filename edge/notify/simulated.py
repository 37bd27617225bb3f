"""``SimulatedNotifier``: a simulator of the :class:`~edge.notify.ports.Notifier` port.

It keeps what it was sent in memory and fails on request, so the outbox and the whole edge
run on a laptop without a mail server.
"""

from __future__ import annotations

import threading

from edge.notify.errors import NotifyError, PermanentDeliveryError, TemporaryDeliveryError
from edge.notify.messages import Message

__all__ = ["SimulatedNotifier"]


class SimulatedNotifier:
    """Simulator: records messages in :attr:`sent`; ``refuse_next(n)`` fails the next sends."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self._refuse = 0
        self._permanent: set[str] = set()
        self._closed = False
        self._lock = threading.Lock()

    def refuse_next(self, count: int = 1) -> None:
        """The next ``count`` sends fail as temporary errors (server busy)."""
        with self._lock:
            self._refuse += count

    def reject_address(self, address: str) -> None:
        """Sends to ``address`` fail permanently (mailbox does not exist)."""
        with self._lock:
            self._permanent.add(address.lower())

    def send(self, message: Message) -> None:
        with self._lock:
            if self._closed:
                raise NotifyError("the simulated notifier is closed")
            if message.to.lower() in self._permanent:
                raise PermanentDeliveryError(f"550 no such mailbox: {message.to}")
            if self._refuse:
                self._refuse -= 1
                raise TemporaryDeliveryError("451 try again later (simulated)")
            self.sent.append(message)

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def __enter__(self) -> SimulatedNotifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
