"""The ``BarcodeScanner`` port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from kiosk.devices.health import DeviceHealth
from kiosk.devices.scanner.model import Scan

__all__ = ["BarcodeScanner", "ScanCallback"]

ScanCallback = Callable[[Scan], None]


@runtime_checkable
class BarcodeScanner(Protocol):
    """A device that turns codes put in front of it into :class:`Scan` s.

    Register ``on_scan`` (a callable taking a :class:`Scan`, or None). **It is called on the
    scanner's own thread**: the UI must hand the scan over to its main thread (Kivy:
    ``Clock.schedule_once`` / ``@mainthread``) and must not block in the callback.
    ``start()`` begins scanning, ``stop()`` pauses it, ``close()`` releases the device
    (idempotent); scanners are context managers.
    """

    name: str
    on_scan: ScanCallback | None

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...

    def health(self) -> DeviceHealth: ...

    def self_test(self) -> DeviceHealth: ...
