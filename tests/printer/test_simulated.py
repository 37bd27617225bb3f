"""The simulated printer: paper, cover and cable; failed receipts stay in the spool."""

from __future__ import annotations

import logging

import pytest
from escpos.printer import Dummy

from kiosk.devices.health import DeviceStatus
from kiosk.devices.printer import (
    CoverOpenError,
    EscposReceiptPrinter,
    PaperOutError,
    PrinterError,
    PrinterOfflineError,
    PrinterStatus,
    SimulatedReceiptPrinter,
)
from retail.clock import FakeClock
from tests.printer.samples import sample_receipt


@pytest.fixture
def sim():
    with SimulatedReceiptPrinter(clock=FakeClock()) as printer:
        yield printer


def test_paper_low_still_prints_but_health_is_degraded(sim):
    sim.paper_low()
    result = sim.print_receipt(sample_receipt("en"))
    assert result.status is PrinterStatus.PAPER_NEAR_END
    health = sim.health()
    assert (health.status, health.code) == (DeviceStatus.DEGRADED, "paper_low")


def test_paper_out_keeps_the_receipt_and_reprint_after_refill_prints_it(sim):
    sim.run_out_of_paper()
    data = sample_receipt("zh")
    with pytest.raises(PaperOutError):
        sim.print_receipt(data)
    assert sim.printed == []
    assert sim.output == b""
    pending = sim.spool.pending()
    assert [p.sale_id for p in pending] == ["K01-000042"]
    assert "PaperOutError" in pending[0].last_error
    assert sim.health().status is DeviceStatus.FAULT

    sim.refill()
    result = sim.spool.reprint("K01-000042", sim)
    assert result.attempts == 2
    assert sim.spool.pending() == []
    [receipt] = sim.tear_paper()
    assert receipt.data == data
    assert receipt.payload == EscposReceiptPrinter(Dummy()).render_receipt(data)


def test_cover_open_refuses_to_print_until_closed(sim):
    sim.open_cover()
    assert sim.status() is PrinterStatus.COVER_OPEN
    with pytest.raises(CoverOpenError):
        sim.print_receipt(sample_receipt("en"))
    with pytest.raises(RuntimeError):  # CoverOpenError is also the fitting builtin
        sim.print_receipt(sample_receipt("en"))
    sim.close_cover()
    assert sim.status() is PrinterStatus.OK
    assert [r.sale_id for r in sim.spool.reprint_pending(sim)] == ["K01-000042"]


def test_unplugged_printer_is_offline_and_keeps_the_receipt(sim):
    sim.unplug()
    assert sim.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrinterOfflineError):
        sim.print_receipt(sample_receipt("en"))
    with pytest.raises(ConnectionError):
        sim.kick_drawer()
    assert sim.health().code == "offline"
    assert len(sim.spool.pending()) == 1
    sim.plug_in()
    sim.reprint("K01-000042")
    assert sim.spool.pending() == []


def test_self_test_with_paper_out_reports_the_fault(sim):
    sim.run_out_of_paper()
    health = sim.self_test()
    assert (health.status, health.code) == (DeviceStatus.FAULT, "paper_out")


def test_tear_paper_hands_over_receipts_in_order_and_clears_the_paper(sim):
    sim.print_receipt(sample_receipt("en", sale_id="A-1"))
    sim.print_receipt(sample_receipt("zh", sale_id="A-2"))
    assert [r.sale_id for r in sim.tear_paper()] == ["A-1", "A-2"]
    assert sim.tear_paper() == [] and sim.output == b""


def test_status_queries_never_reach_the_paper(sim):
    for _ in range(3):
        sim.status()
    assert sim.output == b""


def test_status_change_is_logged_once_and_recovery_once(sim, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.devices.printer.escpos_adapter")
    sim.status()
    sim.run_out_of_paper()
    for _ in range(3):
        sim.status()
    sim.refill()
    for _ in range(3):
        sim.status()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["printer printer: paper_out", "printer printer: recovered (ok)"]


def test_every_failure_is_a_printer_error(sim):
    sim.unplug()
    with pytest.raises(PrinterError):
        sim.print_receipt(sample_receipt("en"))
