"""Contract tests every ReceiptPrinter passes: the escpos adapter on Dummy and the simulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from escpos.printer import Dummy

from kiosk.devices.health import DeviceStatus, HealthReporting
from kiosk.devices.printer import (
    EscposReceiptPrinter,
    PrinterConfigError,
    PrinterOfflineError,
    PrinterStatus,
    ReceiptNotFoundError,
    ReceiptPrinter,
    SimulatedReceiptPrinter,
)
from retail.clock import FakeClock
from tests.printer.samples import sample_receipt


class Adapter:
    """The adapter together with the Dummy whose output the test reads."""

    def __init__(self, clock: FakeClock) -> None:
        self.dummy = Dummy()
        self.printer = EscposReceiptPrinter(self.dummy, name="printer", clock=clock)

    def output(self) -> bytes:
        return self.dummy.output


class Simulator:
    def __init__(self, clock: FakeClock) -> None:
        self.printer = SimulatedReceiptPrinter(name="printer", clock=clock)

    def output(self) -> bytes:
        return self.printer.output


@pytest.fixture(params=[Adapter, Simulator], ids=["escpos-dummy", "simulated"])
def rig(request):
    r = request.param(FakeClock())
    yield r
    r.printer.close()


def test_is_a_receipt_printer_and_reports_health(rig):
    assert isinstance(rig.printer, ReceiptPrinter)
    assert isinstance(rig.printer, HealthReporting)
    health = rig.printer.health()
    assert health.device == "printer"
    assert health.status is DeviceStatus.OK


def test_print_receipt_sends_exactly_the_rendered_bytes_and_marks_it_printed(rig):
    data = sample_receipt("zh")
    expected = EscposReceiptPrinter(Dummy()).render_receipt(data)
    result = rig.printer.print_receipt(data)
    assert rig.output() == expected
    assert result.sale_id == "K01-000042" and result.byte_count == len(expected)
    assert result.status.can_print
    assert rig.printer.spool.pending() == []
    assert rig.printer.spool.info("K01-000042").printed_at is not None


def test_reprint_prints_the_same_receipt_again(rig):
    rig.printer.print_receipt(sample_receipt("en"))
    first = rig.output()
    rig.printer.reprint("K01-000042")
    assert rig.output() == first + first


def test_reprint_of_an_unknown_sale_is_a_typed_error(rig):
    with pytest.raises(ReceiptNotFoundError):
        rig.printer.reprint("nope")
    with pytest.raises(KeyError):  # also the fitting builtin
        rig.printer.reprint("nope")


def test_kick_drawer_sends_esc_p_on_pin_2_or_5(rig):
    rig.printer.kick_drawer()
    rig.printer.kick_drawer(5)
    assert rig.output() == b"\x1bp\x00\x32\x32" + b"\x1bp\x01\x32\x32"
    with pytest.raises(PrinterConfigError):
        rig.printer.kick_drawer(3)


def test_self_test_prints_a_bilingual_test_page(rig):
    health = rig.printer.self_test()
    assert health.status is DeviceStatus.OK
    out = rig.output()
    assert "打印机测试页".encode("gb18030") in out
    assert b"Printer test page" in out
    assert b"123456789012345678901234567890123456789012345678\n" in out
    assert out.endswith(b"\x1dV\x00")


def test_status_can_print_when_ready(rig):
    assert rig.printer.status() in (PrinterStatus.OK, PrinterStatus.UNKNOWN_OK)


def test_close_is_idempotent_and_a_closed_printer_refuses_work(rig):
    rig.printer.close()
    rig.printer.close()
    with pytest.raises(PrinterOfflineError):
        rig.printer.print_receipt(sample_receipt("en"))
    assert rig.printer.health().status is DeviceStatus.ABSENT


def test_context_manager_closes(rig):
    with rig.printer as p:
        p.print_receipt(sample_receipt("en"))
    with pytest.raises(PrinterOfflineError):
        rig.printer.kick_drawer()


def test_health_since_is_when_the_status_last_changed():
    clock = FakeClock()
    sim = SimulatedReceiptPrinter(clock=clock)
    first = sim.health().since
    clock.advance(60)
    assert sim.health().since == first  # unchanged status keeps its time
    sim.run_out_of_paper()
    health = sim.health()
    assert health.since == first + timedelta(seconds=60)
    assert health.code == "paper_out"
