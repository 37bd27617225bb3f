"""Members: phone lookup and masking, e-cards, kiosk view, stored value, points, levels,
birthday coupons and the win-back list."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from edge.members import (
    DuplicateMemberError,
    InvalidPhoneError,
    MemberCardError,
    MemberStore,
    mask_phone,
    normalise_phone,
)
from edge.members.model import months_before
from edge.notify import Outbox
from retail.clock import FakeClock
from retail.loyalty import BalanceLimitError, InsufficientBalanceError, InsufficientPointsError, RefundExceedsSaleError
from retail.money import Money

CNY = "CNY"


def cny(amount: str | int) -> Money:
    return Money.of(amount, CNY)


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812345678", "138****5678"),
    ("8613812345678", "861******5678"),
    ("0201234567", "020***4567"),
    ("1234567", "***4567"),
])
def test_phone_numbers_are_masked_keeping_three_leading_and_four_trailing_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_phone_numbers_are_normalised_to_digits() -> None:
    assert normalise_phone("+86 138-1234-5678") == "8613812345678"
    with pytest.raises(InvalidPhoneError):
        normalise_phone("138-CALL-ME")


def test_lookup_by_full_phone_or_last_four_digits_returns_candidates(members: MemberStore) -> None:
    wang = members.create(name="王小明", phone="138 1234 5678", actor="S0001")
    li = members.create(name="李华", phone="13955555678", actor="S0001")
    members.create(name="Zhang", phone="13700001111", actor="S0001")
    assert [m.id for m in members.search_by_phone("13812345678")] == [wang.id]
    assert {m.id for m in members.search_by_phone("5678")} == {wang.id, li.id}
    assert [m.id for m in members.search_by_phone("55678")] == [li.id]
    assert members.search_by_phone("9999") == []
    with pytest.raises(InvalidPhoneError):
        members.search_by_phone("56")


def test_a_phone_number_belongs_to_one_member(members: MemberStore) -> None:
    members.create(name="A", phone="13812345678", actor="S0001")
    with pytest.raises(DuplicateMemberError):
        members.create(name="B", phone="+138-1234-5678", actor="S0001")


def test_e_card_payload_round_trips_and_forgeries_are_refused(members: MemberStore) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    other = members.create(name="B", phone="13812340000", actor="S0001")
    payload = members.card(m.id)
    assert payload.startswith(f"TILLPI-MEMBER:{m.id}:") and len(payload.split(":")[2]) == 16
    assert members.from_card(payload).id == m.id
    with pytest.raises(MemberCardError):
        members.from_card(payload.replace(m.id, other.id))
    with pytest.raises(MemberCardError):
        members.from_card("TILLPI-STAFF:S0001:XYZ")


def test_kiosk_view_carries_only_what_a_sale_needs(members: MemberStore) -> None:
    m = members.create(name="王小明", phone="13812345678", email="wang@example.com", birthday=date(1990, 5, 1),
                       actor="S0001")
    members.top_up(m.id, cny(100), ref="t1", actor="S0001")
    view = members.kiosk_view(m.id)
    assert set(view) == {"member_id", "level", "points_balance", "stored_value_balance", "masked_phone", "name_initial"}
    assert view["masked_phone"] == "138****5678" and view["name_initial"] == "王"
    assert view["stored_value_balance"] == {"minor": 11000, "currency": "CNY"}
    assert "13812345678" not in repr(view) and "wang@" not in repr(view)


def test_top_up_adds_the_tier_bonus_and_is_idempotent_by_ref(members: MemberStore) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    first = members.top_up(m.id, cny(500), ref="desk-1", actor="S0002")
    again = members.top_up(m.id, cny(500), ref="desk-1", actor="S0002")
    assert first.bonus == cny(80) and again.balance_after == first.balance_after == cny(580)
    assert members.stored_value_balance(m.id) == cny(580)
    entry = members._db().execute(
        "SELECT actor, action FROM audit_log WHERE action = 'member.stored_value.top_up'").fetchall()
    assert entry == [("S0002", "member.stored_value.top_up")]


def test_stored_value_never_goes_negative(members: MemberStore) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    members.top_up(m.id, cny(50), ref="t1", actor="S0001")
    members.spend_stored_value(m.id, cny("49.99"), ref="sale:k:1", actor="accrual")
    with pytest.raises(InsufficientBalanceError):
        members.spend_stored_value(m.id, cny("0.02"), ref="sale:k:2", actor="accrual")
    assert members.stored_value_balance(m.id) == cny("0.01")
    with pytest.raises(sqlite3.IntegrityError):  # the table itself refuses a negative balance
        members._db().execute(
            "INSERT INTO member_stored_value (member_id, kind, amount_minor, delta_minor, balance_after_minor, currency,"
            " ref, actor, at) VALUES (?, 'spend', 5, -5, -4, 'CNY', 'x', 'x', 'x')", (m.id,))


def test_stored_value_refund_gives_back_at_most_what_the_sale_took(members: MemberStore) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    members.top_up(m.id, cny(100), ref="t1", actor="S0001")
    members.spend_stored_value(m.id, cny(30), ref="sale:k:1", actor="accrual")
    members.refund_stored_value(m.id, cny(20), sale_ref="sale:k:1", ref="r1", actor="S0002")
    with pytest.raises(RefundExceedsSaleError):
        members.refund_stored_value(m.id, cny("10.01"), sale_ref="sale:k:1", ref="r2", actor="S0002")
    assert members.stored_value_balance(m.id) == cny(100)


def test_top_up_above_the_maximum_balance_is_refused(members: MemberStore) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    members.top_up(m.id, cny(4000), ref="t1", actor="S0001")
    with pytest.raises(BalanceLimitError):
        members.top_up(m.id, cny(1000), ref="t2", actor="S0001")


def test_the_stored_value_and_points_ledgers_are_append_only(members: MemberStore) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    members.top_up(m.id, cny(100), ref="t1", actor="S0001")
    members.adjust_points(m.id, 50, reason="goodwill", actor="S0001")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        members._db().execute("UPDATE member_stored_value SET delta_minor = 999999")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        members._db().execute("DELETE FROM member_points")


def test_points_adjustment_is_audited_and_cannot_make_the_balance_negative(members: MemberStore) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    assert members.adjust_points(m.id, 300, reason="complaint 17", actor="S0003") == 300
    with pytest.raises(InsufficientPointsError):
        members.adjust_points(m.id, -301, reason="typo", actor="S0003")
    row = members._db().execute(
        "SELECT actor, before_json, after_json, detail FROM audit_log WHERE action = 'member.points.adjust'").fetchone()
    assert row == ("S0003", '{"points": 0}', '{"points": 300}', "complaint 17")


def test_redeeming_points_follows_the_program_caps(members: MemberStore) -> None:
    m = members.create(name="A", phone="13812345678", actor="S0001")
    members.adjust_points(m.id, 1000, reason="opening balance", actor="S0001")
    result = members.redeem_points(m.id, 500, due=cny(20), ref="console-1", actor="S0002")
    assert result.value == cny(5) and members.points_balance(m.id) == 500
    again = members.redeem_points(m.id, 500, due=cny(20), ref="console-1", actor="S0002")
    assert again.points == 500 and members.points_balance(m.id) == 500
    with pytest.raises(InsufficientPointsError):
        members.redeem_points(m.id, 600, due=cny(100), ref="console-2", actor="S0002")


def test_birthday_coupon_is_issued_once_per_birthday_year(members: MemberStore, clock: FakeClock,
                                                         db_path) -> None:
    m = members.create(name="王小明", phone="13812345678", email="wang@example.com", birthday=date(1990, 3, 4),
                       actor="S0001")
    members.create(name="Later", phone="13800000000", birthday=date(1990, 6, 1), actor="S0001")
    issued = members.issue_birthday_coupons()  # 2 March: 2 days before, window opens 3 days before
    assert [(c.member_id, c.year) for c in issued] == [(m.id, 2026)]
    assert members.issue_birthday_coupons() == []
    clock.advance(days=5)
    assert members.issue_birthday_coupons() == []
    clock.advance(days=365)
    again = members.issue_birthday_coupons()
    assert [(c.member_id, c.year) for c in again] == [(m.id, 2027)]
    assert [c.year for c in members.birthday_coupons(m.id)] == [2026, 2027]
    with Outbox.open(db_path, clock=clock) as outbox:
        message = outbox.get(f"birthday:{m.id}:2026")
    assert message is not None and "生日快乐" in message.subject and issued[0].code in message.body


def test_winback_lists_members_without_a_purchase_for_n_months(members: MemberStore, clock: FakeClock) -> None:
    old = members.create(name="Old", phone="13800000001", actor="S0001")
    clock.advance(days=200)
    recent = members.create(name="Recent", phone="13800000002", actor="S0001")
    with members.transaction() as db:
        db.execute("UPDATE members SET last_purchase_at = ? WHERE id = ?", (clock.now().isoformat(), recent.id))
    clock.advance(days=40)
    assert [m.id for m in members.winback(3)] == [old.id]
    assert [m.id for m in members.winback(1)] == [old.id, recent.id]


def test_months_before_clamps_to_the_end_of_a_shorter_month() -> None:
    from datetime import datetime, timezone
    assert months_before(datetime(2026, 3, 31, tzinfo=timezone.utc), 1) == datetime(2026, 2, 28, tzinfo=timezone.utc)
    assert months_before(datetime(2026, 1, 15, tzinfo=timezone.utc), 13) == datetime(2024, 12, 15, tzinfo=timezone.utc)


def test_enrolment_with_email_queues_one_welcome_message_in_the_members_language(members: MemberStore,
                                                                                  clock: FakeClock, db_path) -> None:
    m = members.create(name="Amy", phone="13812345678", email="amy@example.com", language="en", actor="S0001")
    members.create(name="No Mail", phone="13812340000", actor="S0001")
    with Outbox.open(db_path, clock=clock) as outbox:
        entries = outbox.entries()
    assert [(e.key, e.language) for e in entries] == [(f"welcome:{m.id}", "en")]
    assert m.id in entries[0].body and entries[0].subject == "Welcome to Corner Shop, Amy"


def test_expiry_records_lapsed_unspent_points_once(ledger, db_path, clock: FakeClock, member_settings) -> None:
    from dataclasses import replace

    from retail.loyalty import ExpiryKind, PointsExpiry

    program = replace(member_settings.program, expiry=PointsExpiry(ExpiryKind.AFTER_DAYS, 30))
    with MemberStore.open(db_path, clock=clock, settings=replace(member_settings, program=program)) as store:
        m = store.create(name="A", phone="13812345678", actor="S0001")
        with store.transaction() as db:
            store._add_points(db, m.id, "earned", 300, "sale:k:1", actor="accrual", at=clock.now())
        store.redeem_points(m.id, 100, due=cny(10), ref="r1", actor="S0001")
        clock.advance(days=29)
        assert store.expire_points() == 0
        clock.advance(days=1)
        assert store.expire_points() == 200  # the 100 redeemed came out of the oldest lot first
        assert store.expire_points() == 0
        assert store.points_balance(m.id) == 0
