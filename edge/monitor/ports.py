"""Ports of the store monitor: where it publishes (:class:`BusPublisher`) and where it keeps
its place in the ledger's alarm events (:class:`CursorStore`)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["BusPublisher", "CursorStore"]


@runtime_checkable
class BusPublisher(Protocol):
    """Publishes edge -> kiosk/staff messages (retained alarm topics, kiosk commands)."""

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None: ...


@runtime_checkable
class CursorStore(Protocol):
    """A named integer that survives restarts (how many ledger alarm events were handled)."""

    def get(self, name: str) -> int: ...

    def set(self, name: str, value: int) -> None: ...
