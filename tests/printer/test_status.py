"""Real-time status (DLE EOT) decoding and the adapter's use of it."""

from __future__ import annotations

import pytest
from escpos.printer import Dummy

from kiosk.devices.health import DeviceStatus
from kiosk.devices.printer import (
    EscposReceiptPrinter,
    PaperOutError,
    PrinterOfflineError,
    PrinterStatus,
    can_report_status,
    decode_status,
)
from tests.printer.samples import sample_receipt

QUERIES = {b"\x10\x04\x01": 0, b"\x10\x04\x02": 1, b"\x10\x04\x04": 2}


class AnsweringDummy(Dummy):
    """A Dummy that answers DLE EOT 1/2/4 with scripted bytes, like a USB or serial printer."""

    def __init__(self, printer: int = 0x12, cause: int = 0x12, paper: int = 0x12, *, fail: bool = False) -> None:
        super().__init__()
        self.replies = [bytes([printer]), bytes([cause]), bytes([paper])]
        self.fail = fail
        self.queries: list[bytes] = []
        self._next = b""

    def _raw(self, msg: bytes) -> None:
        if msg in QUERIES:
            self.queries.append(msg)
            self._next = self.replies[QUERIES[msg]]
            return
        super()._raw(msg)

    def _read(self) -> bytes:
        if self.fail:
            raise OSError("USB device vanished")
        return self._next


@pytest.mark.parametrize(
    "printer, cause, paper, expected",
    [
        (b"\x12", b"\x12", b"\x12", PrinterStatus.OK),
        (b"\x12", b"\x12", b"\x1e", PrinterStatus.PAPER_NEAR_END),  # bits 2-3 near end
        (b"\x1a", b"\x32", b"\x72", PrinterStatus.PAPER_OUT),  # bits 5-6 paper end
        (b"\x1a", b"\x16", b"\x12", PrinterStatus.COVER_OPEN),  # bit 2 of the offline cause
        (b"\x1a", b"\x12", b"\x12", PrinterStatus.OFFLINE),  # bit 3 of the printer status
        (b"", b"", b"", PrinterStatus.UNKNOWN_OK),  # no answer at all
        (None, None, None, PrinterStatus.UNKNOWN_OK),
    ],
)
def test_decode_status_bits(printer, cause, paper, expected):
    assert decode_status(printer, cause, paper) is expected


def test_cover_open_wins_over_paper_out():
    assert decode_status(b"\x1a", b"\x36", b"\x72") is PrinterStatus.COVER_OPEN


def test_dummy_and_file_cannot_report_so_status_is_unknown_ok_and_nothing_is_sent():
    dummy = Dummy()
    printer = EscposReceiptPrinter(dummy)
    assert not can_report_status(dummy)
    assert printer.status() is PrinterStatus.UNKNOWN_OK
    health = printer.health()
    assert (health.status, health.code) == (DeviceStatus.OK, "status_unknown")
    assert dummy.output == b""


def test_bidirectional_printer_is_queried_and_paper_out_blocks_printing():
    device = AnsweringDummy(printer=0x1A, cause=0x32, paper=0x72)
    printer = EscposReceiptPrinter(device)
    assert can_report_status(device)
    with pytest.raises(PaperOutError):
        printer.print_receipt(sample_receipt("en"))
    assert device.queries == [b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04"]
    assert device.output == b""
    assert [p.sale_id for p in printer.spool.pending()] == ["K01-000042"]


def test_bidirectional_printer_that_stops_answering_is_offline():
    printer = EscposReceiptPrinter(AnsweringDummy(fail=True))
    assert printer.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrinterOfflineError):
        printer.print_receipt(sample_receipt("en"))


def test_write_failure_is_offline_and_keeps_the_receipt():
    class Broken(Dummy):
        def _raw(self, msg: bytes) -> None:
            raise OSError("broken pipe")

    printer = EscposReceiptPrinter(Broken())
    with pytest.raises(PrinterOfflineError):
        printer.print_receipt(sample_receipt("zh"))
    assert "broken pipe" in printer.spool.pending()[0].last_error
