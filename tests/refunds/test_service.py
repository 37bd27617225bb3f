"""Refunds against sales written by the real ingest: amounts, stock, points, stored value,
idempotency, permission, audit and the HQ outbox."""

from __future__ import annotations

import json

import pytest

from edge.refunds import (
    InvalidRefundError,
    OverRefundError,
    RefundConflictError,
    RefundPermissionError,
    RefundService,
    ReturnLine,
    SaleNotFoundError,
)
from edge.staff.audit import query_audit
from retail.money import Money
from tests.refunds.shop import Shop, line


def outbox(refunds: RefundService, kind: str = "refund") -> list[tuple[str, dict]]:
    rows = refunds._db().execute("SELECT ref, payload FROM hq_outbox WHERE kind = ? ORDER BY id", (kind,)).fetchall()
    return [(r[0], json.loads(r[1])) for r in rows]


def test_partial_then_full_refund_of_a_unit_line_gives_back_its_net_amount(shop: Shop, refunds: RefundService) -> None:
    sale = shop.sell(lines=[line("tea-500", 3, saving=105), line("water", 2)])  # tea: 1050 - 105 = 945
    sam = shop.principal("sam")
    first = refunds.refund("R-1", sale.sale_id, [ReturnLine(1, 1)], actor=sam)
    assert first.total == Money(315, "CNY") and first.payments == (("card", "card", 315),)
    assert refunds.find_sale(sale.sale_id).to_dict()["lines"][0]["left"] == 2
    rest = refunds.refund("R-2", sale.sale_id, [ReturnLine(1), ReturnLine(2)], actor=sam)
    assert rest.total.minor == 630 + 400
    assert first.total.minor + rest.total.minor == sale.totals.total_minor


def test_a_sale_is_found_by_its_id_and_by_kiosk_and_seq(shop: Shop, refunds: RefundService) -> None:
    shop.sell()
    sale = shop.sell("kiosk-02")
    by_id = refunds.find_sale(sale.sale_id)
    by_seq = refunds.find_sale("kiosk-02-1")
    assert (by_id.kiosk_id, by_id.sale_id) == (by_seq.kiosk_id, by_seq.sale_id) == ("kiosk-02", sale.sale_id)
    with pytest.raises(SaleNotFoundError):
        refunds.find_sale("kiosk-02-9")


def test_more_than_was_sold_is_refused_and_nothing_is_written(shop: Shop, refunds: RefundService) -> None:
    sale = shop.sell(lines=[line("milk-1l", 2)])
    sam = shop.principal("sam")
    with pytest.raises(OverRefundError):
        refunds.refund("R-1", sale.sale_id, [ReturnLine(1, 3)], actor=sam)
    refunds.refund("R-2", sale.sale_id, [ReturnLine(1, 2)], actor=sam)
    with pytest.raises(OverRefundError):
        refunds.refund("R-3", sale.sale_id, [ReturnLine(1, 1)], actor=sam)
    with pytest.raises(InvalidRefundError):
        refunds.refund("R-4", sale.sale_id, [ReturnLine(7, 1)], actor=sam)
    assert [r.refund_id for r in refunds.refunds()] == ["R-2"]
    assert shop.ledger.moves_total("milk-1l").units == -2 + 2


def test_a_retried_refund_refunds_once_and_a_reused_id_is_refused(shop: Shop, refunds: RefundService) -> None:
    sale = shop.sell(lines=[line("noodles", 4)])
    sam = shop.principal("sam")
    first = refunds.refund("R-9", sale.sale_id, [ReturnLine(1, 1)], actor=sam)
    again = refunds.refund("R-9", sale.sale_id, [ReturnLine(1, 1)], actor=sam)
    assert again.replayed and not first.replayed and again.total == first.total
    assert len(outbox(refunds)) == 1
    assert shop.ledger.moves_total("noodles").units == -4 + 1
    with pytest.raises(RefundConflictError):
        refunds.refund("R-9", sale.sale_id, [ReturnLine(1, 2)], actor=sam)


def test_stock_comes_back_by_a_return_move_in_pieces_and_grams(shop: Shop, refunds: RefundService) -> None:
    sale = shop.sell(lines=[line("rice-5kg", 2), line("apple", 640)])
    refunds.refund("R-1", sale.sale_id, [ReturnLine(1, 1), ReturnLine(2)], actor=shop.principal("sam"))
    assert shop.ledger.moves_total("rice-5kg").units == -1
    assert shop.ledger.moves_total("apple").grams == 0
    kinds = refunds._db().execute("SELECT kind, sku, qty, grams, ref FROM stock_moves WHERE kind = 'return' ORDER BY sku").fetchall()
    assert kinds == [("return", "apple", 0, 640, "refund:R-1"), ("return", "rice-5kg", 1, 0, "refund:R-1")]


def test_a_refund_needs_the_refunds_permission(shop: Shop, refunds: RefundService) -> None:
    sale = shop.sell()
    with pytest.raises(RefundPermissionError):
        refunds.refund("R-1", sale.sale_id, [ReturnLine(1)], actor=shop.principal("ann"))
    assert refunds.refunds() == []


def test_every_refund_is_audited_and_queued_for_hq(shop: Shop, refunds: RefundService) -> None:
    sale = shop.sell(lines=[line("water", 5)], payments=[("cash", 2_000)], change=1_000)
    refund = refunds.refund("R-5", f"kiosk-01-{sale.seq}", [ReturnLine(1, 2)], actor=shop.principal("sam"),
                            reason="damaged")
    entries = query_audit(refunds._db(), action="refund.create")
    assert len(entries) == 1 and entries[0].actor == refund.actor and entries[0].detail == "damaged"
    assert entries[0].after["refund_id"] == "R-5" and entries[0].target == f"sale:kiosk-01:{sale.sale_id}"
    [(ref, payload)] = outbox(refunds)
    assert ref == "refund/R-5" and payload["total_minor"] == 400 and payload["store_id"] == "s1"
    assert payload["payments"] == [{"method": "cash", "refunded_as": "cash", "amount_minor": 400}]


def test_cash_refunds_stop_at_the_cash_kept_after_change(shop: Shop, refunds: RefundService) -> None:
    sale = shop.sell(lines=[line("water", 5)], payments=[("cash", 2_000)], change=1_000)
    refunds.refund("R-1", sale.sale_id, [ReturnLine(1)], actor=shop.principal("sam"))
    assert refunds.find_sale(sale.sale_id).refunded == {"cash": 1_000}


def test_points_earned_are_taken_back_and_stored_value_restored(shop: Shop, refunds: RefundService) -> None:
    member = shop.members.create(name="王芳", phone="13800000001", actor="S0001")
    shop.members.top_up(member.id, Money.of(100, "CNY"), ref="t1", actor="S0001")
    sale = shop.sell(lines=[line("rice-5kg", 2)], payments=[("card", 5_980), ("stored_value", 4_000)],
                     member_id=member.id)
    shop.accrue()
    earned = shop.members.points_balance(member.id)
    assert earned > 0 and shop.members.stored_value_balance(member.id).minor == 6_000
    refund = refunds.refund("R-1", sale.sale_id, [ReturnLine(1, 1)], actor=shop.principal("sam"))
    assert refund.members_done and dict((m, a) for m, _, a in refund.payments) == {"card": 2_990, "stored_value": 2_000}
    assert shop.members.stored_value_balance(member.id).minor == 8_000
    assert shop.members.points_balance(member.id) < earned


def test_member_side_runs_the_accrual_first_when_the_sale_is_not_credited_yet(shop: Shop, refunds: RefundService) -> None:
    member = shop.members.create(name="Li", phone="13800000002", actor="S0001")
    sale = shop.sell(lines=[line("rice-5kg", 2)], member_id=member.id)
    refund = refunds.refund("R-1", sale.sale_id, [ReturnLine(1)], actor=shop.principal("sam"))
    assert refund.members_done and shop.members.points_balance(member.id) == 0


def test_a_member_refund_can_go_to_stored_value_but_not_a_strangers(shop: Shop, refunds: RefundService) -> None:
    member = shop.members.create(name="Zhao", phone="13800000003", actor="S0001")
    sale = shop.sell(lines=[line("milk-1l", 2)], member_id=member.id)
    refund = refunds.refund("R-1", sale.sale_id, [ReturnLine(1, 1)], actor=shop.principal("sam"), mode="stored_value")
    assert refund.by_method() == {"stored_value": 1_190}
    assert shop.members.stored_value_balance(member.id) == Money(1_190, "CNY")
    again = refunds.refund("R-1", sale.sale_id, [ReturnLine(1, 1)], actor=shop.principal("sam"), mode="stored_value")
    assert again.replayed and shop.members.stored_value_balance(member.id) == Money(1_190, "CNY")
    stranger = shop.sell(lines=[line("milk-1l", 1)])
    with pytest.raises(InvalidRefundError):
        refunds.refund("R-2", stranger.sale_id, [ReturnLine(1)], actor=shop.principal("sam"), mode="stored_value")


def test_a_pending_member_side_is_finished_later(shop: Shop, tmp_path) -> None:
    member = shop.members.create(name="Qian", phone="13800000004", actor="S0001")
    sale = shop.sell(lines=[line("rice-5kg", 1)], member_id=member.id)
    shop.accrue()
    earned = shop.members.points_balance(member.id)
    with RefundService(shop.path, clock=shop.clock, members=None) as without:
        pending = without.refund("R-1", sale.sale_id, [ReturnLine(1)], actor=shop.principal("sam"))
    assert not pending.members_done and pending.members_note
    with RefundService(shop.path, clock=shop.clock, members=shop.members) as service:
        assert service.finish_pending() == 1
        assert service.get("R-1").members_done
    assert shop.members.points_balance(member.id) == 0 < earned
