"""The :class:`Notifier` port: hand one message to a delivery service."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from edge.notify.messages import Message

__all__ = ["Notifier"]


@runtime_checkable
class Notifier(Protocol):
    """Delivers member messages (e-mail today).

    ``send`` returns when the service has accepted the message; it raises
    :class:`~edge.notify.errors.TemporaryDeliveryError` when a later retry may succeed and
    :class:`~edge.notify.errors.PermanentDeliveryError` when it will not.
    """

    def send(self, message: Message) -> None: ...

    def close(self) -> None: ...
