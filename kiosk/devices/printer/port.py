"""The receipt printer port."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from kiosk.devices.health import DeviceHealth
from kiosk.devices.printer.spool import ReceiptSpool
from kiosk.devices.printer.status import PrinterStatus, PrintResult
from kiosk.receipt.data import ReceiptData

__all__ = ["ReceiptPrinter"]


@runtime_checkable
class ReceiptPrinter(Protocol):
    """Prints receipts, kicks the drawer wired to it, reports its health.

    ``print_receipt`` keeps the receipt in ``spool`` first; when it cannot print it raises a
    :class:`~kiosk.devices.printer.errors.PrinterError` and the receipt stays pending there.
    """

    name: str
    spool: ReceiptSpool

    def print_receipt(self, data: ReceiptData) -> PrintResult: ...

    def reprint(self, sale_id: str) -> PrintResult: ...

    def status(self) -> PrinterStatus: ...

    def health(self) -> DeviceHealth: ...

    def self_test(self) -> DeviceHealth: ...

    def kick_drawer(self, pin: int = 2) -> None: ...

    def close(self) -> None: ...
