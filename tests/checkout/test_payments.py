"""Paying: card, mobile QR, stored value, points, cash; split payments; change; receipts."""

from __future__ import annotations

import pytest

from kiosk.checkout import AttendantReason as R
from kiosk.checkout import CheckoutState as S
from kiosk.checkout import IllegalEventError
from kiosk.checkout import model as m
from kiosk.payments import PaymentOutcome, PaymentResult, Tender
from retail.money import CashRounding

from .conftest import MEMBER, Lane, cny, wire_payments


@pytest.fixture
def paying(started: Lane, terminal, gateway) -> Lane:  # noqa: ANN001
    wire_payments(started, terminal, gateway)
    started.scan_and_bag("WATER", 12500)  # 39.90
    started.scan_and_bag("COKE", 350)  # 3.50
    started.send(m.Pay())
    assert started.state is S.PAYING
    return started


def test_finalising_makes_a_sale_id(paying: Lane) -> None:
    snap = paying.snap
    assert snap.sale_id and len(snap.sale_id) == 36 and snap.amount_due == cny("43.40")


def test_card_payment_approved(paying: Lane, terminal) -> None:  # noqa: ANN001
    paying.send(m.PayByCard())
    assert terminal.pending[0].amount == cny("43.40")
    assert paying.snap.pending_payment.tender is Tender.CARD
    terminal.approve()
    assert paying.state is S.RECEIPT
    sale = paying.snap.finished_sale
    assert sale.payments[0].tender is Tender.CARD and sale.payments[0].reference.startswith("SIMCARD-")
    assert sale.paid == sale.total == cny("43.40") and sale.change == cny("0")
    assert paying.of(m.SaleFinished)[0].sale == sale


def test_mobile_qr_payment_shows_the_gateway_qr(paying: Lane, gateway) -> None:  # noqa: ANN001
    paying.send(m.PayByQr("wechat"))
    qr = paying.snap.qr
    assert qr.purpose == "payment" and qr.payload.startswith("tillpi-sim-pay://wechat/")
    gateway.scan_with_phone(qr.payload)
    assert paying.state is S.RECEIPT
    assert paying.snap.finished_sale.payments[0].provider == "wechat"


def test_stored_value_and_points_need_a_member(paying: Lane) -> None:
    out = paying.send(m.PayByStoredValue())
    assert m.ShowMessage("member_required") in out and paying.state is S.PAYING


def test_split_stored_value_points_and_card(paying: Lane, terminal) -> None:  # noqa: ANN001
    paying.send(m.EnterPhone(MEMBER.phone))
    paying.send(m.PayByStoredValue())  # the whole ¥20.00 balance
    assert paying.snap.amount_due == cny("23.40")
    paying.send(m.PayByPoints(1000))  # 100 points = ¥1
    assert paying.snap.amount_due == cny("13.40")
    paying.send(m.PayByCard())
    terminal.approve()
    sale = paying.snap.finished_sale
    assert [p.tender for p in sale.payments] == [Tender.STORED_VALUE, Tender.POINTS, Tender.CARD]
    assert [p.amount for p in sale.payments] == [cny("20.00"), cny("10.00"), cny("13.40")]
    assert sale.payments[1].points == 1000 and sale.member_id == "M001"
    assert sale.paid == sale.total


def test_points_over_the_cap_are_refused(paying: Lane) -> None:
    paying.send(m.EnterPhone(MEMBER.phone))
    out = paying.send(m.PayByPoints(5000))  # ¥50 > 50 % of the sale
    assert any(isinstance(e, m.ShowMessage) and e.code == "points_refused" for e in out)
    assert paying.snap.payments == ()


def test_cash_is_attendant_assisted_and_gives_change(paying: Lane) -> None:
    paying.send(m.PayByCash())
    assert paying.state is S.NEEDS_ATTENDANT and paying.snap.reason is R.CASH_PAYMENT
    out = paying.pin("1111")
    assert any(isinstance(e, m.OpenDrawer) for e in out)
    assert paying.state is S.PAYING and paying.snap.cash_drawer_open
    out = paying.send(m.CashTendered(cny("50.00")))
    assert m.ShowMessage("take_change", "¥6.60") in out
    sale = paying.snap.finished_sale
    assert sale.change == cny("6.60") and sale.payments[0].tendered == cny("50.00")
    assert sale.approvals[-1].reason is R.CASH_PAYMENT


def test_cash_rounding_to_ten_fen(make_lane) -> None:  # noqa: ANN001
    lane = make_lane(cash_rounding=CashRounding.NEAREST_0_10)
    lane.send(m.Start())
    lane.scan_and_bag("WATER", 12500)
    lane.scan_and_bag("COKE", 350)
    lane.scan("TILLPI-COUPON:SAVE2")  # 41.40
    lane.send(m.OpenLookup())
    lane.send(m.SelectItem("BANANA"))
    lane.send(m.ProduceReading(333, True))  # 6.98 × 0.333 = 2.32
    lane.send(m.ConfirmWeight())
    lane.place(333)
    lane.send(m.Pay())
    assert lane.snap.amount_due == cny("43.72")
    lane.send(m.PayByCash())
    lane.pin("1111")
    lane.send(m.CashTendered(cny("50.00")))
    sale = lane.snap.finished_sale
    assert sale.change == cny("6.30") and sale.cash_rounding == cny("-0.02")
    assert sale.paid == sale.total


def test_cash_tendered_without_an_open_drawer_is_illegal(paying: Lane) -> None:
    with pytest.raises(IllegalEventError):
        paying.send(m.CashTendered(cny("50.00")))


def test_declined_card_then_cash(paying: Lane, terminal) -> None:  # noqa: ANN001
    paying.send(m.PayByCard())
    terminal.decline()
    assert paying.state is S.PAYING
    assert any(isinstance(e, m.ShowMessage) and e.code == "payment_declined" for e in paying.effects)
    assert paying.snap.pending_payment is None and paying.snap.amount_due == cny("43.40")
    paying.send(m.PayByCash())
    paying.pin("1111")
    paying.send(m.CashTendered(cny("100.00")))
    sale = paying.snap.finished_sale
    assert [p.tender for p in sale.payments] == [Tender.CASH] and sale.change == cny("56.60")


def test_card_timeout_and_cancel_leave_the_lane_paying(paying: Lane, terminal) -> None:  # noqa: ANN001
    paying.send(m.PayByCard())
    terminal.timeout()
    assert paying.state is S.PAYING and paying.snap.pending_payment is None
    paying.send(m.PayByCard())
    out = paying.send(m.CancelPayment())
    assert any(isinstance(e, m.CancelCardPayment) for e in out)
    assert terminal.results[-1].outcome is PaymentOutcome.CANCELLED
    assert paying.snap.pending_payment is None and paying.state is S.PAYING and paying.snap.payments == ()


def test_split_card_for_part_then_qr_for_the_rest(paying: Lane, terminal, gateway) -> None:  # noqa: ANN001
    paying.send(m.PayByCard(cny("20.00")))
    terminal.approve()
    assert paying.snap.amount_due == cny("23.40")
    paying.send(m.PayByQr("alipay"))
    gateway.pay()
    sale = paying.snap.finished_sale
    assert [(p.tender, p.amount) for p in sale.payments] == [(Tender.CARD, cny("20.00")), (Tender.MOBILE_QR, cny("23.40"))]


def test_repeated_payment_result_is_ignored(paying: Lane, terminal) -> None:  # noqa: ANN001
    paying.send(m.PayByCard(cny("10.00")))
    first = terminal.approve()
    assert paying.snap.amount_due == cny("33.40")
    terminal.repeat_last()
    assert paying.send(first) == ()  # a repeat changes nothing and says nothing
    late = PaymentResult(first.payment_id, PaymentOutcome.CANCELLED, first.amount)
    assert paying.send(late) == ()  # nor does a contradicting result for a settled payment
    assert paying.snap.amount_due == cny("33.40") and len(paying.snap.payments) == 1


def test_result_for_an_unknown_payment_is_ignored(paying: Lane) -> None:
    paying.send(PaymentResult("not-ours", PaymentOutcome.APPROVED, cny("43.40"), "X"))
    assert paying.snap.amount_due == cny("43.40")


def test_second_payment_while_one_is_pending_is_refused(paying: Lane, terminal) -> None:  # noqa: ANN001
    paying.send(m.PayByCard())
    out = paying.send(m.PayByQr("wechat"))
    assert m.ShowMessage("payment_in_progress") in out and len(terminal.pending) == 1


def test_back_to_scanning_only_before_any_payment(paying: Lane, terminal) -> None:  # noqa: ANN001
    paying.send(m.BackToScanning())
    assert paying.state is S.SCANNING and paying.snap.sale_id is None
    paying.send(m.Pay())
    paying.send(m.PayByCard(cny("1.00")))
    terminal.approve()
    out = paying.send(m.BackToScanning())
    assert m.ShowMessage("payments_started") in out and paying.state is S.PAYING
    with pytest.raises(IllegalEventError):
        paying.send(m.CancelTransaction())


def _finish_with_card(paying: Lane, terminal) -> None:  # noqa: ANN001
    paying.send(m.PayByCard())
    terminal.approve()
    assert paying.state is S.RECEIPT


def test_receipt_print(paying: Lane, terminal) -> None:  # noqa: ANN001
    _finish_with_card(paying, terminal)
    out = paying.send(m.ChooseReceipt(m.ReceiptChoice.PRINT))
    assert out[0] == m.PrintReceipt(paying.snap.finished_sale) and paying.state is S.THANK_YOU


def test_receipt_as_e_receipt_qr(paying: Lane, terminal) -> None:  # noqa: ANN001
    _finish_with_card(paying, terminal)
    sale_id = paying.snap.finished_sale.sale_id
    paying.send(m.ChooseReceipt(m.ReceiptChoice.E_RECEIPT))
    assert paying.snap.qr.purpose == "e_receipt" and paying.snap.qr.payload.endswith(sale_id)
    assert not paying.of(m.PrintReceipt)


def test_no_receipt_then_back_to_welcome_after_timeout(paying: Lane, terminal) -> None:  # noqa: ANN001
    _finish_with_card(paying, terminal)
    paying.send(m.ChooseReceipt(m.ReceiptChoice.NONE))
    assert paying.state is S.THANK_YOU and not paying.of(m.PrintReceipt)
    paying.clock.advance(4.9)
    paying.send(m.Tick())
    assert paying.state is S.THANK_YOU
    paying.clock.advance(0.2)
    paying.send(m.Tick())
    assert paying.state is S.WELCOME and paying.snap.lines == () and paying.snap.finished_sale is None


def test_receipt_screen_times_out_to_the_default_choice(make_lane, terminal, gateway) -> None:  # noqa: ANN001
    lane = make_lane(default_receipt=m.ReceiptChoice.PRINT, receipt_timeout_s=20)
    wire_payments(lane, terminal, gateway)
    lane.scan_and_bag("COKE", 350)
    lane.send(m.Pay())
    lane.send(m.PayByCard())
    terminal.approve()
    lane.clock.advance(20)
    out = lane.send(m.Tick())
    assert any(isinstance(e, m.PrintReceipt) for e in out) and lane.state is S.THANK_YOU


def test_finished_sale_carries_everything_the_bus_needs(paying: Lane, terminal) -> None:  # noqa: ANN001
    paying.send(m.EnterPhone(MEMBER.phone))
    _finish_with_card(paying, terminal)
    sale = paying.snap.finished_sale
    d = sale.to_dict()
    assert d["sale_id"] == sale.sale_id and d["member_id"] == "M001" and d["catalogue_version"] == "v42"
    assert d["total"] == {"minor": 4340, "currency": "CNY"}
    line = d["lines"][0]
    assert (line["sku"], line["gtin"], line["name_zh"], line["quantity"]) == ("WATER", sale.lines[0].gtin, "矿泉水整箱", 1)
    assert sum(t.tax.minor for t in sale.tax) == sum(x.tax.minor for x in sale.lines)
    assert sale.started_at <= sale.finalised_at <= sale.finished_at
    import json

    json.dumps(d)  # JSON-safe
    with pytest.raises(AttributeError):
        sale.total = cny("1.00")  # type: ignore[misc]
