"""The receipt spool keeps receipts by sale id until they have printed, across restarts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.devices.printer import ReceiptNotFoundError, ReceiptSpool, SimulatedReceiptPrinter, SpoolError
from retail.clock import FakeClock
from tests.printer.samples import sample_receipt


def test_kept_receipt_is_pending_until_marked_printed():
    with ReceiptSpool() as spool:
        spool.keep(sample_receipt("en", sale_id="S-1"))
        spool.keep(sample_receipt("en", sale_id="S-2"))
        assert [p.sale_id for p in spool.pending()] == ["S-1", "S-2"]
        spool.mark_printed("S-1")
        assert [p.sale_id for p in spool.pending()] == ["S-2"]
        assert spool.get("S-1") == sample_receipt("en", sale_id="S-1")


def test_keeping_the_same_sale_twice_keeps_the_first():
    with ReceiptSpool() as spool:
        spool.keep(sample_receipt("en", sale_id="S-1"))
        spool.keep(sample_receipt("zh", sale_id="S-1"))
        assert spool.get("S-1").language == "en"
        assert len(spool.pending()) == 1


def test_pending_receipts_survive_a_restart(tmp_path):
    path = tmp_path / "spool" / "receipts.sqlite"
    with ReceiptSpool(path) as spool:
        spool.keep(sample_receipt("zh", sale_id="S-9"))
        spool.mark_failed("S-9", "PaperOutError: paper out")
    with ReceiptSpool(path) as again:
        [item] = again.pending()
        assert item.sale_id == "S-9" and item.last_error.startswith("PaperOutError")
        assert again.get("S-9") == sample_receipt("zh", sale_id="S-9")


def test_reprint_through_the_spool_after_a_failure(tmp_path):
    spool = ReceiptSpool(tmp_path / "r.sqlite")
    sim = SimulatedReceiptPrinter(spool=spool)
    sim.unplug()
    for sale in ("S-1", "S-2"):
        with pytest.raises(ConnectionError):
            sim.print_receipt(sample_receipt("en", sale_id=sale))
    sim.plug_in()
    results = spool.reprint_pending(sim)
    assert [r.sale_id for r in results] == ["S-1", "S-2"]
    assert spool.pending() == []
    assert [r.sale_id for r in sim.tear_paper()] == ["S-1", "S-2"]
    sim.close()
    spool.get("S-1")  # the printer did not close a spool it was given
    spool.close()


def test_purge_forgets_old_printed_receipts_only():
    clock = FakeClock()
    with ReceiptSpool(clock=clock) as spool:
        spool.keep(sample_receipt("en", sale_id="old"))
        spool.mark_printed("old")
        spool.keep(sample_receipt("en", sale_id="waiting"))
        clock.advance(days=8)
        assert spool.purge_printed(clock.now() - timedelta(days=7)) == 1
        assert "old" not in spool and "waiting" in spool


def test_unknown_sale_and_closed_spool_are_typed_errors():
    spool = ReceiptSpool()
    with pytest.raises(ReceiptNotFoundError):
        spool.get("missing")
    with pytest.raises(ReceiptNotFoundError):
        spool.mark_printed("missing")
    spool.close()
    spool.close()
    with pytest.raises(SpoolError):
        spool.pending()
