"""From a finished checkout to the edge ledger: every kind of line, payment and approval the
engine produces is recorded in the kiosk journal and accepted by the edge's ingest."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.contract import encode, kiosk_topic
from edge.ingest import Inbound, IngestCore
from edge.ledger import Ledger
from kiosk.checkout import CheckoutState as S
from kiosk.checkout import model as m
from kiosk.outbox.journal import SaleOutbox
from kiosk.sale_record import OutboxSaleSink, SaleMappingError, draft_from_finished
from retail.barcodes import make_variable_measure
from retail.money import CashRounding

from .conftest import MEMBER, Lane, cny, wire_payments


@pytest.fixture
def journal(tmp_path: Path, clock) -> SaleOutbox:  # noqa: ANN001
    with SaleOutbox(tmp_path / "journal.sqlite3", store_id="s1", kiosk_id="kiosk-01", clock=clock) as outbox:
        yield outbox


@pytest.fixture
def edge(tmp_path: Path, clock):  # noqa: ANN001, ANN201
    with Ledger(tmp_path / "edge.sqlite3", clock=clock) as ledger:
        yield ledger, IngestCore(ledger, store_id="s1", clock=clock)


def _ingest(edge, sale) -> str:  # noqa: ANN001
    _, core = edge
    [outcome] = core.process([Inbound(kiosk_topic("s1", "kiosk-01", "sale"), encode(sale))])
    return outcome.decision


def _fix_store(lane: Lane) -> None:
    # the test engine's store id comes from its settings; the journal is for store s1
    assert lane.snap.finished_sale.store_id == "s1", lane.snap.finished_sale.store_id


def test_a_rich_purchase_is_journalled_and_accepted_by_the_edge(make_lane, terminal, gateway, journal, edge) -> None:  # noqa: ANN001
    lane = make_lane(store_id="s1")
    wire_payments(lane, terminal, gateway)
    lane.send(m.Start())
    lane.send(m.EnterPhone(MEMBER.phone))  # member price on milk
    lane.scan_and_bag("MILK", 1050)
    lane.scan_and_bag("CHIPS", 80)  # 20 % off
    lane.scan_and_bag("CHIPS", 80)
    lane.scan(make_variable_measure("20", "23456", price_minor=1575))  # deli label, price inside
    lane.place(300)
    lane.scan(make_variable_measure("22", "12345", weight_g=250))  # deli label, weight inside
    lane.place(255)
    lane.send(m.OpenLookup())
    lane.send(m.SelectItem("BANANA"))
    lane.send(m.ProduceReading(333, True))
    lane.send(m.ConfirmWeight())
    lane.place(333)
    lane.scan("BEER")  # age check: an attendant approves
    assert lane.state is S.NEEDS_ATTENDANT
    lane.pin("1111")
    lane.place(520)
    lane.send(m.Pay())
    lane.send(m.PayByStoredValue())
    lane.send(m.PayByPoints(1000))
    lane.send(m.PayByCard())
    terminal.approve()
    finished = lane.snap.finished_sale
    _fix_store(lane)

    sink = OutboxSaleSink(journal, kiosk_id="kiosk-01")
    assert sink.record(finished) == 1  # the SaleSink port: the journal's sequence number
    sale = sink.record_sale(finished)  # recording again returns the same stored sale

    assert sale.seq == 1 and sale.sale_id == finished.sale_id
    assert sale.totals.total_minor == finished.total.minor
    assert {p.method for p in sale.payments} == {"stored_value", "points", "card"}
    assert sale.member_id == "M001"
    assert [a.what for a in sale.approvals] == ["age_restricted"]
    kinds = {line.sku: (line.quantity, line.weight_g) for line in sale.lines}
    assert kinds["SALAD"] == (1, None) and kinds["HAM"] == (None, 250) and kinds["BANANA"] == (None, 333)
    assert _ingest(edge, sale) == "accepted"
    ledger, _ = edge
    assert ledger.moves_total("CHIPS").units == -2 and ledger.moves_total("BANANA").grams == -333


def test_a_cash_sale_with_rounding_is_accepted(make_lane, journal, edge) -> None:  # noqa: ANN001
    lane = make_lane(store_id="s1", cash_rounding=CashRounding.NEAREST_0_10)
    lane.send(m.Start())
    lane.scan_and_bag("WATER", 12500)
    lane.scan_and_bag("COKE", 350)
    lane.scan("TILLPI-COUPON:SAVE2")
    lane.send(m.OpenLookup())
    lane.send(m.SelectItem("BANANA"))
    lane.send(m.ProduceReading(333, True))
    lane.send(m.ConfirmWeight())
    lane.place(333)
    lane.send(m.Pay())
    lane.send(m.PayByCash())
    lane.pin("1111")
    lane.send(m.CashTendered(cny("50.00")))
    finished = lane.snap.finished_sale

    sale = OutboxSaleSink(journal, kiosk_id="kiosk-01").record_sale(finished)

    assert (sale.change_minor, sale.cash_rounding_minor) == (630, -2)
    assert _ingest(edge, sale) == "accepted"


def test_a_sale_whose_lines_do_not_add_up_is_refused_not_guessed(make_lane, terminal, gateway) -> None:  # noqa: ANN001
    from dataclasses import replace

    lane = make_lane(store_id="s1")
    wire_payments(lane, terminal, gateway)
    lane.send(m.Start())
    lane.scan_and_bag("COKE", 350)
    lane.send(m.Pay())
    lane.send(m.PayByCard())
    terminal.approve()
    broken = replace(lane.snap.finished_sale, total=cny("99.00"))
    with pytest.raises(SaleMappingError, match="add up"):
        draft_from_finished(broken, kiosk_id="kiosk-01", clock_synced=True)
