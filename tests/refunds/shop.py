"""A small shop for the back-office tests: an edge database with the ledger, catalogue (the
simulated seller's products, with cost prices), staff and members; sales are made by the
simulated seller and written through the real ingest, so they have the real shape."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from broker.contract import LineSaving, Payment, Sale, SaleDraft, SaleLine, SaleTotals, encode, kiosk_topic
from edge.catalogue.model import Category, Product
from edge.catalogue.store import CatalogueStore
from edge.ingest.core import Inbound, IngestCore
from edge.ledger import Ledger
from edge.members import AccrualProcessor, MemberSettings, MemberStore
from edge.staff import HashSettings, Principal, StaffSettings, StaffStore
from kiosk.simulated_seller import SIM_CATALOGUE, random_sale_draft
from retail.catalogue import SoldBy, TaxClass
from retail.clock import FakeClock
from retail.loyalty import LoyaltyProgram, StoredValueRules
from retail.money import Money

STORE = "s1"
PRICES = {sku: (name, price, weighed, bp) for sku, _gtin, name, price, weighed, bp in SIM_CATALOGUE}
#: cost price per piece (per kg when weighed), minor units
COSTS = {"tea-500": 200, "rice-5kg": 3500, "apple": 800, "milk-1l": 700, "noodles": 250, "banana": 400, "water": 80}
CATEGORY = {"tea-500": "drinks", "water": "drinks", "milk-1l": "dairy", "rice-5kg": "grocery", "noodles": "grocery",
            "apple": "fruit", "banana": "fruit"}
PASSWORDS = {"olivia": "owner-pass-1", "mia": "mia-pass-123", "sam": "sam-pass-123", "ann": "ann-pass-123"}


def add_catalogue(catalogue: CatalogueStore) -> None:
    for code, en, zh in (("drinks", "Drinks", "饮料"), ("dairy", "Dairy", "乳品"), ("grocery", "Grocery", "杂货"),
                         ("fruit", "Fruit", "水果")):
        catalogue.put_category(Category(code, en, zh))
    for sku, gtin, name, price, weighed, bp in SIM_CATALOGUE:
        catalogue.create(Product(
            sku=sku, name_en=name, name_zh=f"商品 {name}", price=Money(price, "CNY"), category=CATEGORY[sku],
            gtins=(gtin,) if gtin else (), cost_price=Money(COSTS[sku], "CNY"),
            tax_class=TaxClass("reduced" if bp == 900 else "standard", bp),
            sold_by=SoldBy.WEIGHT if weighed else SoldBy.UNIT,
        ))


def member_settings() -> MemberSettings:
    return MemberSettings(
        program=LoyaltyProgram.simple("CNY"),
        stored_value=StoredValueRules("CNY", min_top_up=Money.of(10, "CNY"), max_balance=Money.of(5000, "CNY")),
        card_secret=b"test-card-secret-0123456789",
    )


def line(sku: str, amount: int, *, saving: int = 0) -> SaleLine:
    """A sale line as the simulated seller makes them: ``amount`` pieces, or grams if weighed;
    ``saving`` minor units off (promotion ``promo-10pct``)."""
    name, price, weighed, bp = PRICES[sku]
    gross = (price * amount * 2 + 1000) // 2000 if weighed else price * amount
    net = gross - saving
    qty = {"weight_g": amount} if weighed else {"quantity": amount}
    savings = [LineSaving(promotion_id="promo-10pct", amount_minor=saving)] if saving else []
    return SaleLine(sku=sku, gtin=None, name=name, unit_price_minor=price, gross_minor=gross, savings=savings,
                    net_minor=net, tax_rate_bp=bp, tax_minor=net * bp // (10_000 + bp), **qty)


@dataclass
class Shop:
    path: Path
    clock: FakeClock
    ledger: Ledger
    core: IngestCore
    catalogue: CatalogueStore
    staff: StaffStore
    members: MemberStore
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    seqs: dict[str, int] = field(default_factory=dict)

    def draft(self, kiosk: str = "kiosk-01", *, lines: Sequence[SaleLine] | None = None,
              payments: Sequence[tuple[str, int]] | None = None, change: int = 0,
              member_id: str | None = None) -> SaleDraft:
        """A draft from the simulated seller, with the lines, payments and member replaced when given."""
        draft = random_sale_draft(self.rng, store_id=STORE, kiosk_id=kiosk, clock=self.clock)
        data = draft.model_dump(mode="json")
        if lines is not None:
            data["lines"] = [l.model_dump(mode="json") for l in lines]
            data["totals"] = SaleTotals(
                subtotal_minor=sum(l.gross_minor for l in lines), savings_minor=sum(l.savings_minor for l in lines),
                total_minor=sum(l.net_minor for l in lines), tax_minor=sum(l.tax_minor for l in lines),
            ).model_dump(mode="json")
        total = data["totals"]["total_minor"]
        if payments is not None:
            data["payments"] = [Payment(method=m, amount_minor=a).model_dump(mode="json") for m, a in payments]  # type: ignore[arg-type]
            data["change_minor"] = change
        elif lines is not None:
            data["payments"] = [{"method": "card", "amount_minor": total, "reference": "r"}]
            data["change_minor"] = 0
        data["member_id"] = member_id
        return SaleDraft.model_validate_json(json.dumps(data))

    def sell(self, kiosk: str = "kiosk-01", *, seq: int | None = None, **kw: object) -> Sale:
        """Sell through the real ingest; returns the sale as stored."""
        if seq is None:
            seq = self.seqs.get(kiosk, 0) + 1
        self.seqs[kiosk] = max(self.seqs.get(kiosk, 0), seq)
        sale = Sale.from_draft(self.draft(kiosk, **kw), seq)  # type: ignore[arg-type]
        outcome = self.core.process([Inbound(kiosk_topic(STORE, kiosk, "sale"), encode(sale), kiosk)])[0]
        if outcome.decision != "accepted":
            raise AssertionError(f"ingest did not accept the sale: {outcome}")
        return sale

    def accrue(self) -> None:
        AccrualProcessor(self.members).run()

    def principal(self, username: str) -> Principal:
        member = next(m for m in self.staff.list() if m.username == username)
        return self.staff.principal(member.id)


def open_shop(tmp_path: Path, *, start: datetime | None = None) -> Shop:
    path = tmp_path / "edge.sqlite3"
    clock = FakeClock(start or datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    ledger = Ledger(path, clock=clock)
    catalogue = CatalogueStore(path, clock=clock)
    add_catalogue(catalogue)
    staff = StaffStore.open(path, clock=clock, settings=StaffSettings(badge_secret=b"test-badge-secret-0123456789",
                                                                      hashing=HashSettings.for_tests()))
    owner = staff.principal(staff.create(name="Olivia", role="owner", username="olivia", password=PASSWORDS["olivia"],
                                         actor=None).id)
    staff.create(name="Mia", role="manager", username="mia", password=PASSWORDS["mia"], actor=owner)
    staff.create(name="Sam", role="supervisor", username="sam", password=PASSWORDS["sam"], actor=owner)
    staff.create(name="Ann", role="attendant", username="ann", password=PASSWORDS["ann"], actor=owner)
    members = MemberStore.open(path, clock=clock, settings=member_settings())
    core = IngestCore(ledger, store_id=STORE, clock=clock)
    return Shop(path, clock, ledger, core, catalogue, staff, members)


def close_shop(shop: Shop) -> None:
    for thing in (shop.members, shop.staff, shop.catalogue, shop.ledger):
        thing.close()
