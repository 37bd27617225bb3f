"""Promotions authoring on the edge: validation against the catalogue, versions, activation,
coupons and the preview agreeing with retail.pricing.price_basket."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from edge.promotions import (
    CouponError,
    CouponRejectedError,
    InvalidPromotionDefinitionError,
    PromotionStore,
    SampleLine,
    build_basket,
)
from retail.money import Money
from retail.pricing import MemberContext, price_basket
from retail.promotions import (
    MemberPrice,
    MultiBuy,
    PercentOff,
    PromotionSet,
    SpendAndSave,
    SpendTier,
    TimeWindow,
    promotion_to_dict,
)
from tests.refunds.shop import Shop

TEA20 = PercentOff(promotion_id="tea-20", name_en="Tea 20% off", name_zh="茶饮八折", skus=("tea-500",), percent_bp=2000)
NOODLES = MultiBuy(promotion_id="noodle-3for2", name_en="Noodles 3 for 2", name_zh="方便面买三付二",
                   skus=("noodles",), quantity=3, pay_for=2)
SPEND = SpendAndSave(promotion_id="spend-100", name_en="Spend 100 save 10", name_zh="满100减10",
                     tiers=(SpendTier(Money.of(100, "CNY"), Money.of(10, "CNY")),))
MILK_MEMBER = MemberPrice(promotion_id="milk-gold", name_en="Gold milk price", name_zh="金卡牛奶价",
                          skus=("milk-1l",), price=Money(990, "CNY"), member_levels=("gold",))


def test_a_promotion_naming_an_unknown_sku_or_category_is_refused_with_the_reason(promotions: PromotionStore) -> None:
    bad = dict(promotion_to_dict(TEA20), skus=["no-such-sku"])
    with pytest.raises(InvalidPromotionDefinitionError, match="no-such-sku"):
        promotions.put(bad, actor="S0001")
    with pytest.raises(InvalidPromotionDefinitionError, match="toys"):
        promotions.put(dict(promotion_to_dict(TEA20), skus=[], categories=["toys"]), actor="S0001")
    with pytest.raises(InvalidPromotionDefinitionError, match="percent_bp"):
        promotions.put(dict(promotion_to_dict(TEA20), percent_bp=0), actor="S0001")
    assert promotions.list() == [] and promotions.version() == 0


def test_every_change_bumps_the_version_and_a_resave_of_the_same_body_does_not(promotions: PromotionStore) -> None:
    promotions.put(TEA20, actor="S0001")
    promotions.put(NOODLES, actor="S0001")
    assert promotions.version() == 2
    promotions.put(TEA20, actor="S0001")
    assert promotions.version() == 2
    promotions.set_active("tea-20", False, actor="S0001")
    assert promotions.version() == 3 and [p.promotion_id for p in promotions.promotion_set().promotions] == ["noodle-3for2"]
    snap = promotions.snapshot()
    assert snap["version"] == 3 and [p["promotion_id"] for p in snap["promotions"]] == ["noodle-3for2"]
    assert [c[3] for c in promotions.changes_since(2)] == ["deactivated"]


def test_preview_prices_exactly_like_price_basket(promotions: PromotionStore, shop: Shop) -> None:
    for promo in (TEA20, NOODLES, SPEND, MILK_MEMBER):
        promotions.put(promo, actor="S0001")
    lines = [SampleLine("tea-500", 4), SampleLine("noodles", 3), SampleLine("rice-5kg", 2), SampleLine("milk-1l", 2),
             SampleLine("apple", weight_g=750)]
    at = datetime(2026, 3, 2, 10, 0)
    priced, rejected = promotions.preview(lines, at=at, member_level="gold")
    index = {p.sku: p.to_item() for p in shop.catalogue.all_products()}
    expected = price_basket(build_basket(lines, index, "CNY"),
                            PromotionSet.compile([MILK_MEMBER, NOODLES, SPEND, TEA20], index), at=at,
                            member=MemberContext("x", "gold"))
    assert rejected == {}
    assert priced.total == expected.total and priced.savings_by_promotion == expected.savings_by_promotion
    # by hand: tea 4x350=1400 -20% = 280; noodles 3x450, one free = 450; milk 2x(1190-990) = 400;
    # basket after items: 1120 + 900 + 9980 + 1980 + 960 = 14940 >= 10000: spend-and-save 1000
    assert dict((k, v.minor) for k, v in priced.savings_by_promotion.items()) == {
        "milk-gold": 400, "noodle-3for2": 450, "spend-100": 1000, "tea-20": 280}
    assert priced.total.minor == 1400 + 1350 + 9980 + 2380 + 960 - 2130


def test_time_windows_decide_whether_a_promotion_runs_in_the_preview(promotions: PromotionStore) -> None:
    happy = PercentOff(promotion_id="happy-hour", name_en="Happy hour", name_zh="欢乐时光", skus=("water",),
                       percent_bp=5000, window=TimeWindow(start_time=time(17), end_time=time(19)))
    promotions.put(happy, actor="S0001")
    inside, _ = promotions.preview([SampleLine("water", 2)], at=datetime(2026, 3, 2, 17, 30))
    outside, _ = promotions.preview([SampleLine("water", 2)], at=datetime(2026, 3, 2, 20, 0))
    assert (inside.total.minor, outside.total.minor) == (200, 400)


def test_a_single_use_coupon_unlocks_its_promotion_once(promotions: PromotionStore) -> None:
    promo = PercentOff(promotion_id="coupon-rice", name_en="Rice coupon", name_zh="大米券", skus=("rice-5kg",),
                       percent_bp=1000, coupon_code="RICE10")
    promotions.put(promo, actor="S0001")
    promotions.create_coupon("welcome-001", "coupon-rice", actor="S0001", max_redemptions=1,
                             valid_until=date(2026, 3, 31))
    with_coupon, rejected = promotions.preview([SampleLine("rice-5kg")], coupons=["WELCOME-001"])
    assert with_coupon.total.minor == 4990 - 499 and rejected == {}
    promotions.redeem("welcome-001", ref="sale:kiosk-01:a")
    assert promotions.redeem("welcome-001", ref="sale:kiosk-01:a").redemptions == 1  # idempotent
    with pytest.raises(CouponRejectedError, match="already used"):
        promotions.redeem("welcome-001", ref="sale:kiosk-01:b")
    used, rejected = promotions.preview([SampleLine("rice-5kg")], coupons=["welcome-001", "nope"])
    assert used.total.minor == 4990 and rejected == {"WELCOME-001": "already used", "NOPE": "unknown code"}


def test_coupon_dates_and_withdrawal_are_enforced(promotions: PromotionStore, shop: Shop) -> None:
    promotions.put(PercentOff(promotion_id="p", name_en="P", name_zh="券", skus=("water",), percent_bp=1000,
                              coupon_code="SPRING"), actor="S0001")
    promotions.create_coupon("SPRING-A", "p", actor="S0001", max_redemptions=None, valid_from=date(2026, 3, 5))
    _, rejected = promotions.resolve_coupons(["spring-a"])
    assert rejected == {"SPRING-A": "valid from 2026-03-05"}
    shop.clock.advance(days=4)
    assert promotions.resolve_coupons(["spring-a"]) == (frozenset({"SPRING"}), {})
    promotions.set_coupon_active("SPRING-A", False, actor="S0001")
    assert promotions.resolve_coupons(["spring-a"])[1] == {"SPRING-A": "withdrawn"}
    with pytest.raises(CouponError):
        promotions.create_coupon("X", "p", actor="S0001", valid_from=date(2026, 4, 2), valid_until=date(2026, 4, 1))


def test_a_draft_is_previewed_without_being_saved(promotions: PromotionStore) -> None:
    priced, _ = promotions.preview([SampleLine("tea-500", 2)], drafts=[TEA20])
    assert priced.total.minor == 560 and promotions.list() == []
