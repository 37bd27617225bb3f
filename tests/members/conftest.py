"""Fixtures of the members tests: one edge database holding the ledger, members, staff,
the audit log and the notification outbox; a frozen clock; sale factories."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from broker.contract import Payment, Sale, SaleDraft, SaleLine, SaleTotals
from edge.ledger import Ledger
from edge.members import MemberSettings, MemberStore
from edge.staff import HashSettings, StaffSettings, StaffStore
from retail.clock import FakeClock
from retail.loyalty import BirthdayCouponRule, LoyaltyProgram, StoredValueRules, TopUpBonus
from retail.money import Money

CARD_SECRET = b"test-card-secret-0123456789"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "edge.sqlite3"


@pytest.fixture
def member_settings() -> MemberSettings:
    return MemberSettings(
        program=LoyaltyProgram.simple("CNY"),
        stored_value=StoredValueRules(
            "CNY",
            bonus_tiers=(TopUpBonus(Money.of(100, "CNY"), Money.of(10, "CNY")),
                         TopUpBonus(Money.of(500, "CNY"), Money.of(80, "CNY"))),
            min_top_up=Money.of(10, "CNY"),
            max_balance=Money.of(5000, "CNY"),
        ),
        card_secret=CARD_SECRET,
        birthday_rule=BirthdayCouponRule(days_before=3, days_after=7, value=Money.of(20, "CNY")),
        store_name="Corner Shop",
    )


@pytest.fixture
def ledger(db_path: Path, clock: FakeClock) -> Iterator[Ledger]:
    with Ledger(db_path, clock=clock) as led:
        yield led


@pytest.fixture
def members(ledger: Ledger, db_path: Path, clock: FakeClock, member_settings: MemberSettings) -> Iterator[MemberStore]:
    with MemberStore.open(db_path, clock=clock, settings=member_settings) as store:
        yield store


@pytest.fixture
def staff(db_path: Path, clock: FakeClock) -> Iterator[StaffStore]:
    settings = StaffSettings(badge_secret=b"test-badge-secret-0123456789", hashing=HashSettings.for_tests())
    with StaffStore.open(db_path, clock=clock, settings=settings) as store:
        yield store


_seq: dict[str, int] = {}


def make_sale(clock: FakeClock, *, member_id: str | None, total_minor: int,
              payments: list[tuple[str, int]] | None = None, kiosk_id: str = "kiosk-01") -> Sale:
    """A one-line sale of ``total_minor``, paid by card unless ``payments`` say otherwise."""
    now = clock.now()
    line = SaleLine(sku="SKU1", name="大米 5kg", quantity=1, unit_price_minor=total_minor, gross_minor=total_minor,
                    net_minor=total_minor, tax_rate_bp=900, tax_minor=total_minor * 9 // 109)
    pays = [Payment(method=m, amount_minor=a) for m, a in (payments or [("card", total_minor)])]  # type: ignore[arg-type]
    draft = SaleDraft(
        sale_id=str(uuid.uuid4()), store_id="s1", kiosk_id=kiosk_id, business_date=now.date(),
        started_at=now - timedelta(minutes=2), finished_at=now, clock_synced=True, currency="CNY",
        catalogue_version="t-1", lines=[line],
        totals=SaleTotals(subtotal_minor=total_minor, savings_minor=0, total_minor=total_minor,
                          tax_minor=line.tax_minor),
        payments=pays, member_id=member_id,
    )
    _seq[kiosk_id] = _seq.get(kiosk_id, 0) + 1
    return Sale.from_draft(draft, _seq[kiosk_id])


def ingest(ledger: Ledger, sale: Sale) -> None:
    """Write ``sale`` to the ledger the way the ingest does."""
    with ledger.transaction() as db:
        ledger.insert_sale(db, sale, sale.model_dump_json(by_alias=True).encode())


def birthday(year: int, month: int, day: int) -> date:
    return date(year, month, day)
