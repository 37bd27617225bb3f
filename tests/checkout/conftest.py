"""Fixtures for the checkout engine tests: a small catalogue with Chinese names, promotions,
members, staff, and a ``Lane`` driver that sends events and keeps the effects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from kiosk.catalogue_replica import CatalogueReplica
from kiosk.checkout import (
    CheckoutEngine,
    CheckoutSettings,
    CheckoutState,
    Member,
    Role,
    SimulatedMemberDirectory,
    SimulatedStaffDirectory,
    WeightLearner,
)
from kiosk.checkout import model as m
from kiosk.payments import SimulatedPaymentGateway, SimulatedPaymentTerminal
from retail.barcodes import gtin_check_digit
from retail.catalogue import CatalogueItem, SoldBy, TaxClass
from retail.clock import FakeClock
from retail.loyalty import LoyaltyProgram
from retail.money import Money
from retail.promotions import MemberPrice, PercentOff, PromotionSet, SpendAndSave, SpendTier

SECRET = b"test-store-secret-0123456789"


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def gtin13(body12: str) -> str:
    return body12 + str(gtin_check_digit(body12))


def key14(gtin: str) -> str:
    return gtin.zfill(14)


GTINS = {
    "COKE": gtin13("690123456001"),
    "BEER": gtin13("690123456002"),
    "CHIPS": gtin13("690123456003"),
    "WATER": gtin13("690123456004"),
    "MILK": gtin13("690123456005"),
    "NOWEIGHT": gtin13("690123456006"),
    "BAIJIU": gtin13("690123456007"),
}

FOOD = TaxClass("food", 900)


def make_items() -> list[CatalogueItem]:
    return [
        CatalogueItem("COKE", "Coca-Cola 330ml", "可口可乐", cny("3.50"), "drinks", (key14(GTINS["COKE"]),), unit_weight_g=350, weight_tolerance_g=20),
        CatalogueItem("BEER", "Tsingtao Beer", "青岛啤酒", cny("6.00"), "drinks", (key14(GTINS["BEER"]),), min_age=18, unit_weight_g=520, weight_tolerance_g=25),
        CatalogueItem("BAIJIU", "Erguotou", "二锅头", cny("25.00"), "drinks", (key14(GTINS["BAIJIU"]),), min_age=18, unit_weight_g=900),
        CatalogueItem("CHIPS", "Potato Chips", "薯片", cny("8.50"), "snacks", (key14(GTINS["CHIPS"]),), tax_class=FOOD, unit_weight_g=80, weight_tolerance_g=20),
        CatalogueItem("WATER", "Water 24-pack", "矿泉水整箱", cny("39.90"), "drinks", (key14(GTINS["WATER"]),), unit_weight_g=12500, weight_tolerance_g=300),
        CatalogueItem("MILK", "Milk 1L", "牛奶", cny("12.00"), "dairy", (key14(GTINS["MILK"]),), tax_class=FOOD, unit_weight_g=1050, weight_tolerance_g=30),
        CatalogueItem("NOWEIGHT", "Greeting Card", "贺卡", cny("5.00"), "general", (key14(GTINS["NOWEIGHT"]),)),
        CatalogueItem("APPLE", "Apple", "苹果", cny("12.80"), "produce", plu="4131", sold_by=SoldBy.WEIGHT, tax_class=FOOD, weight_tolerance_g=15),
        CatalogueItem("BANANA", "Banana", "香蕉", cny("6.98"), "produce", plu="4011", sold_by=SoldBy.WEIGHT, tax_class=FOOD),
        CatalogueItem("HAM", "Sliced Ham", "火腿片", cny("58.00"), "deli", plu="12345", sold_by=SoldBy.WEIGHT, tax_class=FOOD),
        CatalogueItem("SALAD", "Deli Salad", "沙拉", cny("30.00"), "deli", plu="23456", tax_class=FOOD),
    ]


def make_promotions(replica: CatalogueReplica) -> PromotionSet:
    return PromotionSet.compile(
        [
            PercentOff(promotion_id="P-CHIPS", name_en="Chips 20% off", name_zh="薯片八折", skus=("CHIPS",), percent_bp=2000),
            MemberPrice(promotion_id="M-MILK", name_en="Member price milk", name_zh="会员价牛奶", skus=("MILK",), price=cny("9.90")),
            SpendAndSave(
                promotion_id="C-SAVE2",
                name_en="Coupon: spend 10 save 2",
                name_zh="满10减2券",
                coupon_code="SAVE2",
                tiers=(SpendTier(cny("10.00"), cny("2.00")),),
            ),
        ],
        replica.items,
    )


MEMBER = Member("M001", "13812345678", "silver", "Silver", "银卡会员", points=5000, stored_value=cny("20.00"), name="王芳")


@pytest.fixture(scope="session")
def staff_directory() -> SimulatedStaffDirectory:
    d = SimulatedStaffDirectory()
    d.add("S1", "Ann Attendant", Role.ATTENDANT, pin="1111", badge_token="badge-ann")
    d.add("S2", "Sam Supervisor", Role.SUPERVISOR, pin="2222", badge_token="badge-sam")
    d.add("S3", "Mia Manager", Role.MANAGER, pin="3333")
    return d


@dataclass
class Lane:
    """Drives one engine: sends events and keeps every effect."""

    engine: CheckoutEngine
    clock: FakeClock
    effects: list[Any] = field(default_factory=list)
    bag_g: int = 0

    def send(self, event: Any) -> tuple[Any, ...]:
        out = self.engine.handle(event)
        self.effects.extend(out)
        return out

    @property
    def state(self) -> CheckoutState:
        return self.engine.state

    @property
    def snap(self):  # noqa: ANN201
        return self.engine.snapshot()

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.effects if isinstance(e, kind)]

    def scan(self, sku_or_text: str) -> tuple[Any, ...]:
        return self.send(m.Scan(GTINS.get(sku_or_text, sku_or_text)))

    def place(self, grams: int) -> tuple[Any, ...]:
        """Put ``grams`` on the bagging scale (negative takes off); a stable reading follows."""
        self.bag_g += grams
        self.send(m.BagReading(self.bag_g, False))
        return self.send(m.BagReading(self.bag_g, True))

    def scan_and_bag(self, sku: str, grams: int) -> None:
        self.scan(sku)
        assert self.state is CheckoutState.WAITING_FOR_BAGGING, self.state
        self.place(grams)
        assert self.state is CheckoutState.SCANNING, self.state

    def pin(self, pin: str, approve: bool = True) -> tuple[Any, ...]:
        return self.send(m.ApprovePin(pin, approve))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def replica() -> CatalogueReplica:
    return CatalogueReplica(make_items(), version="v42")


@pytest.fixture
def members() -> SimulatedMemberDirectory:
    return SimulatedMemberDirectory([MEMBER])


def build_engine(
    replica: CatalogueReplica,
    clock: FakeClock,
    members: SimulatedMemberDirectory,
    staff: SimulatedStaffDirectory,
    **settings: Any,
) -> CheckoutEngine:
    learner = settings.pop("learner", None) or WeightLearner()
    return CheckoutEngine(
        replica,
        clock=clock,
        members=members,
        staff=staff,
        suspend_secret=SECRET,
        promotions=make_promotions(replica),
        settings=CheckoutSettings(**settings),
        learner=learner,
        loyalty=LoyaltyProgram.simple("CNY"),
    )


@pytest.fixture
def make_lane(replica, clock, members, staff_directory):  # noqa: ANN001, ANN201
    def factory(**settings: Any) -> Lane:
        lane = Lane(build_engine(replica, clock, members, staff_directory, **settings), clock)
        lane.send(m.BagReading(0, True))  # empty bagging area: the baseline
        return lane

    return factory


@pytest.fixture
def lane(make_lane) -> Lane:  # noqa: ANN001
    return make_lane()


@pytest.fixture
def started(lane: Lane) -> Lane:
    lane.send(m.Start())
    return lane


@pytest.fixture
def terminal(clock: FakeClock) -> SimulatedPaymentTerminal:
    return SimulatedPaymentTerminal(clock=clock)


@pytest.fixture
def gateway(clock: FakeClock) -> SimulatedPaymentGateway:
    return SimulatedPaymentGateway(clock=clock)


def wire_payments(lane: Lane, terminal: SimulatedPaymentTerminal, gateway: SimulatedPaymentGateway) -> None:
    """What the composition root does: payment effects to providers, results back as events."""

    def on_effects(effects: tuple[Any, ...]) -> None:
        for effect in effects:
            if isinstance(effect, m.StartCardPayment):
                terminal.start(effect.request)
            elif isinstance(effect, m.CancelCardPayment):
                terminal.cancel(effect.payment_id)
            elif isinstance(effect, m.RequestQrPayment):
                qr = gateway.create(effect.request)
                lane.send(m.PaymentQrReady(qr.payment_id, qr.payload))
            elif isinstance(effect, m.CancelQrPayment):
                gateway.cancel(effect.payment_id)

    lane.engine.on_effects(on_effects)
    terminal.on_result(lane.send)
    gateway.on_result(lane.send)
