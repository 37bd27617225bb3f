"""The kiosk bus port: what the checkout and the composition root need from a sale uplink."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from broker.contract import DeviceEvent, Health

__all__ = ["KioskBus"]


@runtime_checkable
class KioskBus(Protocol):
    """Publishes the sale journal to the edge and applies its acknowledgements and commands.

    ``start()`` never blocks on the network; sales flow from the journal by themselves.
    """

    def start(self) -> "KioskBus": ...

    def close(self) -> None: ...

    @property
    def connected(self) -> bool: ...

    def wait_connected(self, timeout: float) -> bool: ...

    def publish_health(self, health: Health) -> None: ...

    def publish_event(self, event: DeviceEvent) -> None: ...
