"""``SimulatedReceiptPrinter``: a working simulator of the receipt printer port.

SIMULATOR, not a driver. It simulates the *device* — a python-escpos ``Dummy`` that answers
real-time status queries (``DLE EOT 1/2/4``) from the simulated paper, cover and cable — and
runs the real :class:`EscposReceiptPrinter` on it, so it sends exactly the bytes the escpos
adapter sends and goes through the same status decoding and spool. A person drives it with
``paper_low()``, ``run_out_of_paper()``, ``refill()``, ``open_cover()``, ``close_cover()``,
``unplug()``, ``plug_in()`` and takes receipts with ``tear_paper()``.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass

from escpos.printer import Dummy

from kiosk.devices.health import DeviceHealth
from kiosk.devices.printer.escpos_adapter import EscposReceiptPrinter
from kiosk.devices.printer.render import ChineseMode
from kiosk.devices.printer.spool import ReceiptSpool
from kiosk.devices.printer.status import QUERY_OFFLINE_CAUSE, QUERY_PAPER, QUERY_PRINTER, PrinterStatus, PrintResult
from kiosk.receipt.data import ReceiptData
from retail.clock import Clock

__all__ = ["PrintedReceipt", "SimulatedReceiptPrinter"]

log = logging.getLogger(__name__)

# Fixed bits of the status bytes (bits 1 and 4 set, bit 0 and 7 clear), as real printers send.
_FIXED = 0x12


@dataclass(frozen=True, slots=True)
class PrintedReceipt:
    """A receipt that came out of the simulated printer, with the exact bytes it took."""

    sale_id: str
    data: ReceiptData
    payload: bytes


class _SimulatedDevice(Dummy):
    """A ``Dummy`` that answers ``DLE EOT`` like a printer and fails when unplugged."""

    def __init__(self, owner: SimulatedReceiptPrinter, profile: str | None = None) -> None:
        super().__init__(profile=profile)
        self._owner = owner
        self._reply = b""

    def _raw(self, msg: bytes) -> None:
        if msg in (QUERY_PRINTER, QUERY_OFFLINE_CAUSE, QUERY_PAPER):
            self._reply = self._owner._answer(msg)  # real-time commands never reach the paper
            return
        if not self._owner.plugged:
            raise OSError(errno.ENODEV, "simulated printer unplugged")
        super()._raw(msg)

    def _read(self) -> bytes:
        if not self._owner.plugged:
            raise OSError(errno.ENODEV, "simulated printer unplugged")
        reply, self._reply = self._reply, b""
        return reply


class SimulatedReceiptPrinter:
    """Simulated receipt printer (simulator): same bytes and behaviour as the escpos adapter
    over ``Dummy``, with paper, cover and cable a test or a demo can move."""

    def __init__(
        self,
        *,
        name: str = "printer",
        width_chars: int = 48,
        chinese_mode: ChineseMode | str = ChineseMode.GB18030,
        qr_native: bool = True,
        profile: str | None = None,
        spool: ReceiptSpool | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.plugged = True
        self.cover_open = False
        self.paper = "ok"  # ok | low | out
        self.printed: list[PrintedReceipt] = []
        self.drawer_kicks: list[int] = []
        self.device = _SimulatedDevice(self, profile)
        self._adapter = EscposReceiptPrinter(
            self.device,
            name=name,
            width_chars=width_chars,
            chinese_mode=chinese_mode,
            qr_native=qr_native,
            query_status=True,
            spool=spool,
            clock=clock,
        )
        self.name = name
        self.spool = self._adapter.spool

    # -- verbs a person would use -------------------------------------------------------------
    def paper_low(self) -> None:
        self.paper = "low"

    def run_out_of_paper(self) -> None:
        self.paper = "out"

    def refill(self) -> None:
        self.paper = "ok"

    def open_cover(self) -> None:
        self.cover_open = True

    def close_cover(self) -> None:
        self.cover_open = False

    def unplug(self) -> None:
        self.plugged = False

    def plug_in(self) -> None:
        self.plugged = True

    def tear_paper(self) -> list[PrintedReceipt]:
        """Tear off what has printed since the last tear: the receipts, oldest first."""
        torn, self.printed = self.printed, []
        self.device.clear()
        return torn

    @property
    def output(self) -> bytes:
        """Every byte on the paper since the last tear (test pages and drawer kicks included)."""
        return self.device.output

    # -- status bytes the simulated printer answers -------------------------------------------
    def _answer(self, query: bytes) -> bytes:
        offline = self.cover_open or self.paper == "out"
        if query == QUERY_PRINTER:
            return bytes([_FIXED | (0x08 if offline else 0)])
        if query == QUERY_OFFLINE_CAUSE:
            return bytes([_FIXED | (0x04 if self.cover_open else 0) | (0x20 if self.paper == "out" else 0)])
        sensor = {"ok": 0x00, "low": 0x0C, "out": 0x6C}[self.paper]
        return bytes([_FIXED | sensor])

    # -- the port, through the real adapter ---------------------------------------------------
    def print_receipt(self, data: ReceiptData) -> PrintResult:
        before = len(self.device.output)
        result = self._adapter.print_receipt(data)
        self.printed.append(PrintedReceipt(data.sale_id, data, self.device.output[before:]))
        return result

    def reprint(self, sale_id: str) -> PrintResult:
        return self.print_receipt(self.spool.get(sale_id))

    def render_receipt(self, data: ReceiptData) -> bytes:
        return self._adapter.render_receipt(data)

    def status(self) -> PrinterStatus:
        return self._adapter.status()

    def health(self) -> DeviceHealth:
        return self._adapter.health()

    def self_test(self) -> DeviceHealth:
        return self._adapter.self_test()

    def kick_drawer(self, pin: int = 2) -> None:
        self._adapter.kick_drawer(pin)
        self.drawer_kicks.append(pin)

    def close(self) -> None:
        self._adapter.close()

    def __enter__(self) -> SimulatedReceiptPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
