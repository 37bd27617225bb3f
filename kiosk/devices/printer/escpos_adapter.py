"""``EscposReceiptPrinter``: the receipt printer port over any python-escpos printer object."""

from __future__ import annotations

import logging
from datetime import datetime

from escpos.escpos import Escpos

from kiosk.devices.health import DeviceHealth, DeviceStatus
from kiosk.devices.printer.errors import (
    CoverOpenError,
    PaperOutError,
    PrinterConfigError,
    PrinterError,
    PrinterOfflineError,
)
from kiosk.devices.printer.render import ChineseMode, render_to_bytes
from kiosk.devices.printer.spool import ReceiptSpool
from kiosk.devices.printer.status import (
    QUERY_OFFLINE_CAUSE,
    QUERY_PAPER,
    QUERY_PRINTER,
    PrinterStatus,
    PrintResult,
    decode_status,
)
from kiosk.receipt.data import ReceiptData
from kiosk.receipt.errors import ReceiptError
from kiosk.receipt.layout import ReceiptBlock, layout_receipt, layout_test_page
from retail.clock import Clock, SystemClock

__all__ = ["EscposReceiptPrinter", "can_report_status"]

log = logging.getLogger(__name__)

_HEALTH: dict[PrinterStatus, tuple[DeviceStatus, str, str]] = {
    PrinterStatus.OK: (DeviceStatus.OK, "", ""),
    PrinterStatus.UNKNOWN_OK: (
        DeviceStatus.OK,
        "status_unknown",
        "this connection cannot report printer status; assumed ready",
    ),
    PrinterStatus.PAPER_NEAR_END: (DeviceStatus.DEGRADED, "paper_low", "paper roll nearly empty"),
    PrinterStatus.PAPER_OUT: (DeviceStatus.FAULT, "paper_out", "paper roll empty"),
    PrinterStatus.COVER_OPEN: (DeviceStatus.FAULT, "cover_open", "printer cover open"),
    PrinterStatus.OFFLINE: (DeviceStatus.FAULT, "offline", "printer offline or unplugged"),
}


def can_report_status(printer: Escpos) -> bool:
    """Whether the connection can read answers (USB, serial, network; not File or Dummy)."""
    return type(printer)._read is not Escpos._read


class EscposReceiptPrinter:
    """The receipt printer on a python-escpos printer (``Usb``, ``Network``, ``Serial``,
    ``File``, ``Dummy``).

    Status comes from real-time ``DLE EOT`` queries where the connection can read
    (``query_status=None`` decides by the connection); otherwise it is ``unknown-ok``.
    Receipts are rendered by :func:`kiosk.devices.printer.render.render_to_bytes` and sent in
    one write. Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        printer: Escpos,
        *,
        name: str = "printer",
        width_chars: int = 48,
        chinese_mode: ChineseMode | str = ChineseMode.GB18030,
        qr_native: bool = True,
        query_status: bool | None = None,
        spool: ReceiptSpool | None = None,
        clock: Clock | None = None,
        close_spool: bool = False,
    ) -> None:
        try:
            self._chinese_mode = ChineseMode(chinese_mode)
        except ValueError:
            raise PrinterConfigError(f"chinese_mode must be gb18030 or image, not {chinese_mode!r}") from None
        if width_chars not in (48, 32):
            raise PrinterConfigError(f"width_chars must be 48 (80 mm) or 32 (58 mm), not {width_chars}")
        self.name = name
        self.width_chars = width_chars
        self.qr_native = qr_native
        self._printer = printer
        self._query = can_report_status(printer) if query_status is None else query_status
        self._clock = clock or SystemClock()
        self._owns_spool = spool is None or close_spool
        self.spool = spool if spool is not None else ReceiptSpool(clock=self._clock)
        self._last: PrinterStatus | None = None
        self._since: datetime = self._clock.now()
        self._closed = False

    # -- rendering ----------------------------------------------------------------------------
    def render(self, blocks: list[ReceiptBlock]) -> bytes:
        """The exact bytes this printer sends for ``blocks``."""
        return render_to_bytes(
            blocks,
            profile=self._printer.profile,
            width_chars=self.width_chars,
            chinese_mode=self._chinese_mode,
            qr_native=self.qr_native,
        )

    def render_receipt(self, data: ReceiptData) -> bytes:
        return self.render(layout_receipt(data, self.width_chars))

    # -- status -------------------------------------------------------------------------------
    def _ask(self, query: bytes) -> bytes:
        return bytes(self._printer.query_status(query) or b"")

    def status(self) -> PrinterStatus:
        self._check_open()
        if not self._query:
            return self._note(PrinterStatus.UNKNOWN_OK)
        try:
            printer = self._ask(QUERY_PRINTER)
            cause = self._ask(QUERY_OFFLINE_CAUSE)
            paper = self._ask(QUERY_PAPER)
        except Exception as exc:  # noqa: BLE001 - any connection failure means offline
            log.debug("status query on %s failed: %r", self.name, exc)
            return self._note(PrinterStatus.OFFLINE)
        return self._note(decode_status(printer, cause, paper))

    def _note(self, status: PrinterStatus) -> PrinterStatus:
        """Remember ``status``; log once when it changes and once when it recovers."""
        if status != self._last:
            if self._last is not None:
                if status.can_print and status != PrinterStatus.PAPER_NEAR_END:
                    log.info("printer %s: recovered (%s)", self.name, status.value)
                else:
                    log.warning("printer %s: %s", self.name, status.value)
            self._last = status
            self._since = self._clock.now()
        return status

    def health(self) -> DeviceHealth:
        if self._closed:
            return DeviceHealth(self.name, DeviceStatus.ABSENT, self._since, "closed", "printer closed")
        status = self.status()
        level, code, detail = _HEALTH[status]
        pending = len(self.spool.pending())
        if pending:
            detail = (detail + "; " if detail else "") + f"{pending} receipt(s) waiting to print"
        return DeviceHealth(self.name, level, self._since, code, detail)

    def self_test(self) -> DeviceHealth:
        """Print a test page (both languages, barcode, QR) and report health."""
        try:
            self._send(self.render(layout_test_page(self.name, self._clock.now(), self.width_chars)))
        except PrinterError as exc:
            health = self.health()
            return DeviceHealth(self.name, DeviceStatus.FAULT, health.since, health.code or "self_test_failed",
                                str(exc))
        return self.health()

    # -- printing -----------------------------------------------------------------------------
    def _ready(self) -> PrinterStatus:
        status = self.status()
        if status == PrinterStatus.PAPER_OUT:
            raise PaperOutError(f"printer {self.name}: paper out")
        if status == PrinterStatus.COVER_OPEN:
            raise CoverOpenError(f"printer {self.name}: cover open")
        if status == PrinterStatus.OFFLINE:
            raise PrinterOfflineError(f"printer {self.name}: offline")
        return status

    def _send(self, payload: bytes) -> PrinterStatus:
        status = self._ready()
        try:
            self._printer._raw(payload)
        except Exception as exc:  # noqa: BLE001 - a connection library's own error types
            self._note(PrinterStatus.OFFLINE)
            raise PrinterOfflineError(f"printer {self.name}: {exc}") from exc
        return status

    def print_receipt(self, data: ReceiptData) -> PrintResult:
        """Keep ``data`` in the spool, print it, mark it printed. On failure the typed error is
        raised and the receipt stays pending in the spool."""
        self._check_open()
        self.spool.keep(data)
        attempts = self.spool.mark_attempt(data.sale_id)
        try:
            payload = self.render_receipt(data)
            status = self._send(payload)
        except PrinterError as exc:
            self.spool.mark_failed(data.sale_id, f"{type(exc).__name__}: {exc}")
            log.warning("receipt %s kept for reprint: %s", data.sale_id, exc)
            raise
        except (ReceiptError, ValueError) as exc:
            self.spool.mark_failed(data.sale_id, f"{type(exc).__name__}: {exc}")
            raise PrinterError(f"receipt {data.sale_id} could not be rendered: {exc}") from exc
        self.spool.mark_printed(data.sale_id)
        return PrintResult(data.sale_id, len(payload), status, attempts)

    def reprint(self, sale_id: str) -> PrintResult:
        """Print a kept receipt again (pending or already printed)."""
        return self.print_receipt(self.spool.get(sale_id))

    def kick_drawer(self, pin: int = 2) -> None:
        """Pulse the cash drawer wired to the printer's drawer port (pin 2 or 5)."""
        self._check_open()
        if pin not in (2, 5):
            raise PrinterConfigError(f"drawer kick pin must be 2 or 5, not {pin!r}")
        try:
            self._printer.cashdraw(pin)
        except Exception as exc:  # noqa: BLE001
            self._note(PrinterStatus.OFFLINE)
            raise PrinterOfflineError(f"printer {self.name}: drawer kick failed: {exc}") from exc

    # -- resource -----------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise PrinterOfflineError(f"printer {self.name} is closed")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._printer.close()
        except Exception as exc:  # noqa: BLE001
            log.debug("closing printer %s: %r", self.name, exc)
        if self._owns_spool:
            self.spool.close()

    def __enter__(self) -> EscposReceiptPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
