"""Properties of the engine over many generated sessions."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.catalogue_replica import CatalogueReplica
from kiosk.checkout import CheckoutState as S
from kiosk.checkout import SimulatedMemberDirectory
from kiosk.checkout import model as m
from kiosk.payments import SimulatedPaymentGateway, SimulatedPaymentTerminal, Tender
from retail.clock import FakeClock
from retail.money import Money

from .conftest import MEMBER, Lane, build_engine, make_items, wire_payments

UNIT_ITEMS = {"COKE": 350, "CHIPS": 80, "MILK": 1050, "WATER": 12500}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    skus=st.lists(st.sampled_from(sorted(UNIT_ITEMS)), min_size=1, max_size=8),
    card_parts=st.lists(st.integers(min_value=1, max_value=2000), max_size=3),
    use_stored_value=st.booleans(),
    cash_extra=st.integers(min_value=0, max_value=10000),
)
def test_split_payments_always_add_up_to_the_total(staff_directory, skus, card_parts, use_stored_value, cash_extra) -> None:  # noqa: ANN001
    clock = FakeClock()
    lane = Lane(build_engine(CatalogueReplica(make_items()), clock, SimulatedMemberDirectory([MEMBER]), staff_directory), clock)
    terminal, gateway = SimulatedPaymentTerminal(clock=clock), SimulatedPaymentGateway(clock=clock)
    wire_payments(lane, terminal, gateway)
    lane.send(m.BagReading(0, True))
    lane.send(m.Start())
    lane.send(m.EnterPhone(MEMBER.phone))
    for sku in skus:
        lane.scan_and_bag(sku, UNIT_ITEMS[sku])
    lane.send(m.Pay())
    for minor in card_parts:
        if lane.state is not S.PAYING:
            break
        lane.send(m.PayByCard(Money(minor, "CNY")))
        terminal.approve()
    if lane.state is S.PAYING and use_stored_value:
        lane.send(m.PayByStoredValue())
    if lane.state is S.PAYING:
        due = lane.snap.amount_due
        lane.send(m.PayByCash())
        lane.pin("1111")
        lane.send(m.CashTendered(due + Money(cash_extra, "CNY")))
    assert lane.state is S.RECEIPT
    sale = lane.snap.finished_sale
    assert sale.paid == sale.total
    assert all(p.amount.minor > 0 for p in sale.payments)
    cash = [p for p in sale.payments if p.tender is Tender.CASH]
    assert sale.change == Money(cash_extra if cash else 0, "CNY")
    assert sum(line.payable.minor for line in sale.lines) == sale.total.minor
