"""Points accrual from the sales ledger: idempotent across crashes, levels, tenders, issues."""

from __future__ import annotations

from datetime import date

import pytest

from edge.ledger import Ledger
from edge.members import AccrualProcessor, MemberStore
from edge.notify import Outbox
from retail.clock import FakeClock
from retail.money import Money

from tests.members.conftest import ingest, make_sale


class Crash(Exception):
    """Stands in for the process dying half-way through a batch."""


def balances(members: MemberStore, ids: list[str]) -> dict[str, int]:
    return {i: members.points_balance(i) for i in ids}


def test_member_sales_earn_points_and_other_sales_do_not(members: MemberStore, ledger: Ledger,
                                                          clock: FakeClock) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    ingest(ledger, make_sale(clock, member_id=m.id, total_minor=12_880))
    ingest(ledger, make_sale(clock, member_id=None, total_minor=5_000))
    report = AccrualProcessor(members).run()
    assert (report.sales_read, report.member_sales, report.points_earned) == (2, 1, 128)
    assert members.points_balance(m.id) == 128
    assert members.get(m.id).last_purchase_at == clock.now()


def test_accrual_is_idempotent_across_a_crash_inside_the_transaction(members: MemberStore, ledger: Ledger,
                                                                     clock: FakeClock) -> None:
    a = members.create(name="A", phone="13812345678", actor="S0001")
    b = members.create(name="B", phone="13912345678", actor="S0001")
    for n in range(7):
        ingest(ledger, make_sale(clock, member_id=(a.id if n % 2 else b.id), total_minor=1_000 * (n + 1)))
        clock.advance(minutes=1)
    expected = {a.id: 20 + 40 + 60, b.id: 10 + 30 + 50 + 70}  # ¥10 × (n + 1), 1 point per ¥1
    processor = AccrualProcessor(members, batch_size=3)
    real_apply = processor._apply
    calls = {"n": 0}

    def dying_apply(db, row):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 5:  # second batch, second sale: points rows of the first are written already
            raise Crash()
        return real_apply(db, row)

    processor._apply = dying_apply  # type: ignore[method-assign]
    with pytest.raises(Crash):
        processor.run()
    assert processor.cursor() == 3  # the first batch committed, the second rolled back entirely
    after_crash = balances(members, [a.id, b.id])
    assert sum(after_crash.values()) == 10 + 20 + 30

    restarted = AccrualProcessor(members, batch_size=3)  # a fresh process after the restart
    restarted.run()
    assert balances(members, [a.id, b.id]) == expected
    assert restarted.run().sales_read == 0  # and again: nothing counted twice
    assert balances(members, [a.id, b.id]) == expected
    assert members._db().execute("SELECT COUNT(*) FROM member_points").fetchone()[0] == 7


def test_rewinding_the_cursor_does_not_count_a_sale_twice(members: MemberStore, ledger: Ledger,
                                                          clock: FakeClock) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    ingest(ledger, make_sale(clock, member_id=m.id, total_minor=9_900))
    AccrualProcessor(members).run()
    with members.transaction() as db:
        db.execute("UPDATE member_accrual_cursor SET last_sale_row = 0")
    AccrualProcessor(members).run()
    assert members.points_balance(m.id) == 99


def test_points_and_stored_value_tenders_are_taken_from_the_member(members: MemberStore, ledger: Ledger,
                                                                   clock: FakeClock) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    members.adjust_points(m.id, 1_000, reason="opening", actor="S0001")
    members.top_up(m.id, Money.of(50, "CNY"), ref="t1", actor="S0001")
    # 100.00 total: 5.00 in points (500 points), 30.00 stored value, 65.00 card
    ingest(ledger, make_sale(clock, member_id=m.id, total_minor=10_000,
                             payments=[("points", 500), ("stored_value", 3_000), ("card", 6_500)]))
    AccrualProcessor(members).run()
    assert members.points_balance(m.id) == 1_000 - 500 + 65  # earns on the card part only
    assert members.stored_value_balance(m.id) == Money.of(20, "CNY")


def test_a_stored_value_payment_the_balance_cannot_cover_becomes_an_issue_not_a_negative_balance(
        members: MemberStore, ledger: Ledger, clock: FakeClock) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    ingest(ledger, make_sale(clock, member_id=m.id, total_minor=3_000, payments=[("stored_value", 3_000)]))
    ingest(ledger, make_sale(clock, member_id="M999999", total_minor=1_000))
    ingest(ledger, make_sale(clock, member_id=m.id, total_minor=2_000))
    report = AccrualProcessor(members).run()
    assert report.issues == 2 and report.sales_read == 3
    assert members.stored_value_balance(m.id) == Money.zero("CNY")
    assert members.points_balance(m.id) == 20  # the sale behind the issues was still credited
    reasons = [r[0] for r in members._db().execute("SELECT reason FROM member_accrual_issues ORDER BY id")]
    assert reasons == ["stored_value", "unknown_member"]


def test_rolling_spend_moves_the_member_up_a_level_and_the_multiplier_applies_after(
        members: MemberStore, ledger: Ledger, clock: FakeClock) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    ingest(ledger, make_sale(clock, member_id=m.id, total_minor=200_000))  # ¥2,000: silver from now on
    ingest(ledger, make_sale(clock, member_id=m.id, total_minor=10_000))   # ¥100 at silver = 120 points
    AccrualProcessor(members).run()
    assert members.get(m.id).level == "silver"
    assert members.points_balance(m.id) == 2_000 + 120
    clock.advance(days=366)
    assert members.refresh_levels() == 1
    assert members.get(m.id).level == "standard"


def test_a_refund_takes_back_points_and_spend(members: MemberStore, ledger: Ledger, clock: FakeClock) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    sale = make_sale(clock, member_id=m.id, total_minor=10_000)
    ingest(ledger, sale)
    AccrualProcessor(members).run()
    ref = f"sale:{sale.kiosk_id}:{sale.sale_id}"
    taken = members.reverse_points_for_refund(m.id, sale_ref=ref, refund_ref="r1", refunded=Money.of(40, "CNY"),
                                              actor="S0002")
    assert taken == 40 and members.points_balance(m.id) == 60
    assert members.reverse_points_for_refund(m.id, sale_ref=ref, refund_ref="r1", refunded=Money.of(40, "CNY"),
                                             actor="S0002") == 40
    assert members.points_balance(m.id) == 60
    assert members.rolling_spend(m.id) == Money.of(60, "CNY")


def test_member_sales_queue_an_e_receipt_in_chinese(members: MemberStore, ledger: Ledger, clock: FakeClock,
                                                    db_path) -> None:
    m = members.create(name="王小明", phone="13812345678", email="wang@example.com", birthday=date(1990, 1, 1),
                       actor="S0001")
    sale = make_sale(clock, member_id=m.id, total_minor=2_350)
    ingest(ledger, sale)
    AccrualProcessor(members).run()
    AccrualProcessor(members).run()
    with Outbox.open(db_path, clock=clock) as outbox:
        receipt = outbox.get(f"receipt:sale:{sale.kiosk_id}:{sale.sale_id}")
        count = len(outbox.entries())
    assert receipt is not None and count == 2  # welcome + one receipt
    assert "合计：¥23.50" in receipt.body and "大米 5kg" in receipt.body and "本次积分：23" in receipt.body
