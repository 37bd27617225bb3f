"""Promotions: every type, eligibility (windows, members, coupons), competition and stacking,
attribution to lines, validation against the catalogue, serialisation."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time

import pytest

from retail.basket import Basket
from retail.catalogue import CatalogueItem, SoldBy, TaxClass
from retail.errors import CurrencyMismatchError, PromotionError
from retail.money import Money
from retail.pricing import LineSaving, MemberContext, PricedBasket, price_basket
from retail.promotions import (
    BasketPercentOff,
    BuyXGetY,
    DuplicatePromotionError,
    FixedPrice,
    InvalidPromotionError,
    MemberPrice,
    MultiBuy,
    PercentOff,
    Promotion,
    PromotionCurrencyError,
    PromotionSet,
    SpendAndSave,
    SpendTier,
    TimeWindow,
    UnknownReferenceError,
    promotion_from_dict,
    promotion_to_dict,
    promotions_from_json,
    promotions_to_json,
)

CNY = "CNY"
AT = datetime(2026, 1, 5, 10, 0)  # a Monday morning


def m(text: str) -> Money:
    return Money.of(text, CNY)


def _item(sku: str, price: str, category: str, **kw: object) -> CatalogueItem:
    return CatalogueItem(sku, f"Item {sku}", f"商品{sku}", m(price), category=category, **kw)  # type: ignore[arg-type]


CATALOGUE = {
    i.sku: i
    for i in (
        _item("A", "3.00", "fruit"),
        _item("P", "2.00", "fruit"),
        _item("O", "5.00", "fruit"),
        _item("W", "12.00", "fruit", sold_by=SoldBy.WEIGHT),
        _item("M", "9.90", "dairy", tax_class=TaxClass("food", 900)),
        _item("Y", "4.00", "dairy"),
        _item("B", "6.00", "bakery"),
        _item("BIG", "150.00", "electronics"),
    )
}


def names(pid: str) -> dict[str, str]:
    return {"promotion_id": pid, "name_en": f"Deal {pid}", "name_zh": f"优惠{pid}"}


def basket(*scans: tuple[str, int]) -> Basket:
    b = Basket(CNY)
    for sku, qty in scans:
        item = CATALOGUE[sku]
        if item.by_weight:
            b.add_weighed(item, qty)
        else:
            b.add_item(item, qty)
    return b


def price(b: Basket, *promos: Promotion, **kw: object) -> PricedBasket:
    at = kw.pop("at", AT)
    return price_basket(b, PromotionSet.compile(list(promos), CATALOGUE), at=at, **kw)  # type: ignore[arg-type]


def saved_by(priced: PricedBasket, sku: str) -> Money:
    return sum((line.savings for line in priced.lines if line.sku == sku), Money.zero(CNY))


# -- each promotion type ----------------------------------------------------------------------


def test_percent_off_item() -> None:
    p = price(basket(("A", 2)), PercentOff(**names("p"), skus=("A",), percent_bp=2000))
    assert p.total_savings == m("1.20")
    assert p.total == m("4.80")


def test_percent_off_category_includes_weighed_lines() -> None:
    p = price(basket(("A", 1), ("W", 500), ("M", 1)), PercentOff(**names("p"), categories=("fruit",), percent_bp=1000))
    assert saved_by(p, "A") == m("0.30")
    assert saved_by(p, "W") == m("0.60")
    assert saved_by(p, "M") == m("0")


def test_percent_off_basket() -> None:
    p = price(basket(("A", 1), ("M", 1)), BasketPercentOff(**names("b"), percent_bp=1000))
    assert p.total_savings == m("1.29")  # 12.90 x 10 %


def test_basket_percent_needs_min_spend() -> None:
    promo = BasketPercentOff(**names("b"), percent_bp=1000, min_spend=m("20.00"))
    assert price(basket(("A", 6)), promo).total_savings == m("0")  # 18.00
    assert price(basket(("A", 7)), promo).total_savings == m("2.10")  # 21.00


def test_fixed_price_per_unit() -> None:
    p = price(basket(("A", 3)), FixedPrice(**names("f"), skus=("A",), price=m("2.50")))
    assert p.total == m("7.50")


def test_fixed_price_above_shelf_price_never_charges_more() -> None:
    p = price(basket(("A", 3)), FixedPrice(**names("f"), skus=("A",), price=m("4.00")))
    assert p.total == m("9.00")
    assert p.total_savings == m("0")


def test_fixed_price_is_per_kilogram_for_weighed_items() -> None:
    p = price(basket(("W", 500)), FixedPrice(**names("f"), skus=("W",), price=m("10.00")))
    assert p.lines[0].gross == m("6.00")
    assert p.total == m("5.00")


def test_multibuy_three_for_two() -> None:
    promo = MultiBuy(**names("3for2"), skus=("A",), quantity=3, pay_for=2)
    assert price(basket(("A", 3)), promo).total == m("6.00")
    assert price(basket(("A", 4)), promo).total == m("9.00")
    assert price(basket(("A", 6)), promo).total == m("12.00")
    assert price(basket(("A", 2)), promo).total == m("6.00")


def test_multibuy_n_for_a_price_mix_and_match_allocates_by_price() -> None:
    p = price(basket(("A", 1), ("O", 1), ("P", 1)), MultiBuy(**names("mm"), skus=("A", "O", "P"), quantity=3, price=m("7.00")))
    assert p.total == m("7.00")
    assert (saved_by(p, "O"), saved_by(p, "A"), saved_by(p, "P")) == (m("1.50"), m("0.90"), m("0.60"))


def test_multibuy_groups_dearest_pieces_first_and_skips_groups_that_save_nothing() -> None:
    # pieces O 5, A 3, P 2, P 2 -> (O, A) = 8 for 6 saves 2; (P, P) = 4 for 6 would cost more
    p = price(basket(("A", 1), ("O", 1), ("P", 2)), MultiBuy(**names("2for6"), skus=("A", "O", "P"), quantity=2, price=m("6.00")))
    assert p.total_savings == m("2.00")
    assert saved_by(p, "P") == m("0")


def test_multibuy_ignores_weighed_lines() -> None:
    p = price(basket(("W", 300), ("W", 300), ("W", 300)), MultiBuy(**names("m"), categories=("fruit",), quantity=3, pay_for=2))
    assert p.total_savings == m("0")


def test_buy_x_get_y_cheapest_free() -> None:
    p = price(basket(("A", 1), ("O", 1), ("P", 1)), BuyXGetY(**names("b2g1"), categories=("fruit",), buy=2, get=1))
    assert p.total_savings == m("2.00")
    assert saved_by(p, "P") == m("2.00")


def test_buy_x_get_y_groups_from_the_dearest_down() -> None:
    # O O A A P P -> groups (O O A) (A P P): A and P free
    p = price(basket(("O", 2), ("A", 2), ("P", 2)), BuyXGetY(**names("b2g1"), categories=("fruit",), buy=2, get=1))
    assert p.total_savings == m("5.00")


def test_buy_x_get_y_percent_off_the_cheapest() -> None:
    p = price(basket(("B", 1), ("Y", 1)), BuyXGetY(**names("half"), skus=("B", "Y"), buy=1, get=1, percent_bp=5000))
    assert p.total_savings == m("2.00")
    assert saved_by(p, "Y") == m("2.00")


def test_spend_and_save_tiers() -> None:
    promo = SpendAndSave(
        **names("mj"),
        tiers=(SpendTier(m("100"), m("10")), SpendTier(m("200"), m("25"))),
    )
    assert price(basket(("A", 33)), promo).total_savings == m("0")  # 99.00
    assert price(basket(("BIG", 1)), promo).total == m("140.00")
    assert price(basket(("BIG", 2)), promo).total == m("275.00")


def test_spend_and_save_counts_the_basket_after_item_promotions() -> None:
    tiers = (SpendTier(m("100"), m("10")),)
    promos = (
        FixedPrice(**names("f"), skus=("BIG",), price=m("90.00")),
        SpendAndSave(**names("mj"), tiers=tiers),
    )
    assert price(basket(("BIG", 1)), *promos).total == m("90.00")


def test_member_price_needs_a_member() -> None:
    promo = MemberPrice(**names("mp"), skus=("M",), price=m("8.80"))
    assert promo.member_only
    assert price(basket(("M", 1)), promo).total == m("9.90")
    assert price(basket(("M", 1)), promo, member=MemberContext("m1")).total == m("8.80")


def test_member_levels_restrict_a_promotion() -> None:
    promo = PercentOff(**names("gold"), skus=("M",), percent_bp=1000, member_levels=("gold",))
    assert price(basket(("M", 1)), promo, member=MemberContext("m1", "silver")).total_savings == m("0")
    assert price(basket(("M", 1)), promo, member=MemberContext("m1", "gold")).total_savings == m("0.99")


# -- time windows and coupons -----------------------------------------------------------------


def test_time_window_date_range_is_inclusive() -> None:
    w = TimeWindow(start_date=date(2026, 1, 1), end_date=date(2026, 1, 31))
    assert w.contains(datetime(2026, 1, 31, 23, 59))
    assert not w.contains(datetime(2026, 2, 1, 0, 0))
    assert not w.contains(datetime(2025, 12, 31, 23, 59))


def test_time_window_weekdays_are_iso_numbers() -> None:
    weekend = TimeWindow(weekdays=(6, 7))
    assert weekend.contains(datetime(2026, 1, 10, 12))  # Saturday
    assert not weekend.contains(datetime(2026, 1, 9, 12))  # Friday


def test_time_window_hours_start_inclusive_end_exclusive() -> None:
    happy = TimeWindow(start_time=time(17, 0), end_time=time(19, 0))
    assert happy.contains(datetime(2026, 1, 5, 17, 0))
    assert not happy.contains(datetime(2026, 1, 5, 19, 0))


def test_time_window_hours_can_wrap_past_midnight() -> None:
    night = TimeWindow(start_time=time(22, 0), end_time=time(2, 0))
    assert night.contains(datetime(2026, 1, 5, 23, 30))
    assert night.contains(datetime(2026, 1, 6, 1, 59))
    assert not night.contains(datetime(2026, 1, 6, 2, 0))


def test_promotion_runs_only_inside_its_window_at_the_given_time() -> None:
    promo = PercentOff(**names("eve"), skus=("B",), percent_bp=5000, window=TimeWindow(start_time=time(20, 0), end_time=time(22, 0)))
    assert price(basket(("B", 1)), promo, at=datetime(2026, 1, 5, 19, 59)).total == m("6.00")
    assert price(basket(("B", 1)), promo, at=datetime(2026, 1, 5, 20, 0)).total == m("3.00")


def test_coupon_promotion_needs_its_code_presented() -> None:
    promo = BasketPercentOff(**names("c"), percent_bp=1000, coupon_code="welcome10")
    assert promo.coupon_code == "WELCOME10"
    assert price(basket(("B", 1)), promo).total == m("6.00")
    assert price(basket(("B", 1)), promo, coupons=frozenset({"OTHER"})).total == m("6.00")
    assert price(basket(("B", 1)), promo, coupons=frozenset({" Welcome10 "})).total == m("5.40")


# -- competition and stacking -----------------------------------------------------------------


def test_competing_item_promotions_give_the_shopper_the_best_one() -> None:
    ten = PercentOff(**names("ten"), skus=("A",), percent_bp=1000, priority=9)
    three_for_two = MultiBuy(**names("3for2"), skus=("A",), quantity=3, pay_for=2)
    p = price(basket(("A", 3)), ten, three_for_two)
    assert p.total == m("6.00")
    assert set(p.savings_by_promotion) == {"3for2"}


def test_pieces_left_over_by_a_multibuy_can_take_another_promotion() -> None:
    ten = PercentOff(**names("ten"), skus=("A",), percent_bp=1000)
    three_for_two = MultiBuy(**names("3for2"), skus=("A",), quantity=3, pay_for=2)
    p = price(basket(("A", 4)), ten, three_for_two)
    assert p.savings_by_promotion == {"3for2": m("3.00"), "ten": m("0.30")}


def test_equal_savings_go_to_the_higher_priority() -> None:
    low = PercentOff(**names("low"), skus=("A",), percent_bp=1000, priority=1)
    high = FixedPrice(**names("high"), skus=("A",), price=m("2.70"), priority=5)
    p = price(basket(("A", 1)), low, high)
    assert set(p.savings_by_promotion) == {"high"}


def test_stackable_percentage_applies_on_top_of_the_exclusive_one() -> None:
    fixed = FixedPrice(**names("f"), skus=("B",), price=m("5.00"))
    extra = PercentOff(**names("x"), skus=("B",), percent_bp=1000, stackable=True)
    p = price(basket(("B", 1)), fixed, extra)
    assert p.total == m("4.50")
    assert p.savings_by_promotion == {"f": m("1.00"), "x": m("0.50")}


def test_basket_promotions_in_one_group_compete_for_the_best() -> None:
    pct = BasketPercentOff(**names("pct"), percent_bp=500)  # 5 % of 300 = 15
    mj = SpendAndSave(**names("mj"), tiers=(SpendTier(m("200"), m("25")),))
    p = price(basket(("BIG", 2)), pct, mj)
    assert p.savings_by_promotion == {"mj": m("25.00")}


def test_basket_promotions_in_different_groups_both_apply_in_priority_order() -> None:
    pct = BasketPercentOff(**names("pct"), percent_bp=1000, exclusive_group="pct", priority=2)
    mj = SpendAndSave(**names("mj"), tiers=(SpendTier(m("200"), m("25")),), exclusive_group="mj", priority=1)
    # 300 -> 10 % off = 270 -> spend 200 save 25 = 245
    assert price(basket(("BIG", 2)), pct, mj).total == m("245.00")


def test_stackable_basket_promotion_applies_after_the_exclusive_ones() -> None:
    mj = SpendAndSave(**names("mj"), tiers=(SpendTier(m("200"), m("25")),))
    pct = BasketPercentOff(**names("pct"), percent_bp=1000, stackable=True, priority=99)
    # 300 - 25 = 275, then 10 % = 27.50
    assert price(basket(("BIG", 2)), pct, mj).total == m("247.50")


def test_basket_saving_is_spread_over_lines_in_proportion() -> None:
    p = price(basket(("BIG", 1), ("B", 1), ("P", 1)), SpendAndSave(**names("mj"), tiers=(SpendTier(m("100"), m("10")),)))
    shares = {line.sku: line.savings for line in p.lines}
    assert shares == {"BIG": m("9.49"), "B": m("0.38"), "P": m("0.13")}
    assert sum(s.minor for s in shares.values()) == 1000


def test_label_price_lines_take_basket_but_not_item_promotions() -> None:
    b = Basket(CNY)
    b.add_label_price(CATALOGUE["W"], m("8.00"))
    item_promo = PercentOff(**names("i"), skus=("W",), percent_bp=5000)
    basket_promo = BasketPercentOff(**names("b"), percent_bp=1000)
    p = price(b, item_promo, basket_promo)
    assert p.savings_by_promotion == {"b": m("0.80")}


# -- attribution and invariants ---------------------------------------------------------------


def test_every_saving_is_attributed_to_a_line_with_both_names() -> None:
    p = price(basket(("A", 3), ("B", 1)), MultiBuy(**names("3for2"), skus=("A",), quantity=3, pay_for=2))
    [saving] = p.line_savings
    assert isinstance(saving, LineSaving)
    assert saving.line_id == p.lines[0].line_id
    assert (saving.promotion_id, saving.name_en, saving.name_zh, saving.amount) == ("3for2", "Deal 3for2", "优惠3for2", m("3.00"))
    assert saving.name("zh_CN") == "优惠3for2"


def test_savings_never_exceed_a_lines_price() -> None:
    free = FixedPrice(**names("free"), skus=("A",), price=m("0"))
    pct = BasketPercentOff(**names("b"), percent_bp=10000, stackable=True)
    p = price(basket(("A", 2), ("B", 1)), free, pct)
    assert p.total == m("0")
    assert all(line.savings <= line.gross for line in p.lines)


def test_scan_order_does_not_change_any_amount() -> None:
    promos = (
        MultiBuy(**names("mm"), categories=("fruit",), quantity=3, price=m("7.00")),
        BuyXGetY(**names("bxgy"), categories=("dairy",), buy=1, get=1, percent_bp=5000),
        PercentOff(**names("pct"), categories=("fruit", "bakery"), percent_bp=1500),
        SpendAndSave(**names("mj"), tiers=(SpendTier(m("30"), m("3")),)),
    )
    scans = [("A", 1), ("O", 1), ("P", 1), ("A", 1), ("M", 1), ("Y", 1), ("B", 1), ("W", 250), ("O", 1)]
    reference = price(basket(*scans), *promos)
    rng = random.Random(7)
    for _ in range(20):
        rng.shuffle(scans)
        p = price(basket(*scans), *promos)
        assert p.total == reference.total
        assert p.savings_by_promotion == reference.savings_by_promotion
        assert {(x.sku, x.quantity, x.weight_g, x.net) for x in p.lines} == {
            (x.sku, x.quantity, x.weight_g, x.net) for x in reference.lines
        }


def test_promotions_for_items_not_in_the_basket_change_nothing() -> None:
    p = price(basket(("B", 1)), PercentOff(**names("p"), skus=("A",), percent_bp=5000))
    assert p.total == m("6.00") and not p.savings_by_promotion


# -- validation -------------------------------------------------------------------------------


def test_unknown_sku_is_rejected_naming_promotion_and_sku() -> None:
    with pytest.raises(UnknownReferenceError, match=r"promotion p9 .*'NOPE'") as info:
        PromotionSet.compile([PercentOff(**names("p9"), skus=("NOPE",), percent_bp=100)], CATALOGUE)
    assert isinstance(info.value, PromotionError) and isinstance(info.value, LookupError)


def test_unknown_category_is_rejected() -> None:
    with pytest.raises(UnknownReferenceError, match="toys"):
        PromotionSet.compile([PercentOff(**names("p"), categories=("toys",), percent_bp=100)], CATALOGUE)


def test_duplicate_promotion_ids_are_rejected() -> None:
    promo = PercentOff(**names("p"), skus=("A",), percent_bp=100)
    with pytest.raises(DuplicatePromotionError, match="'p'"):
        PromotionSet.compile([promo, promo], CATALOGUE)


def test_amounts_in_another_currency_are_rejected() -> None:
    with pytest.raises(PromotionCurrencyError, match="EUR") as info:
        PromotionSet.compile([FixedPrice(**names("p"), skus=("A",), price=Money.of("1", "EUR"))], CATALOGUE)
    assert isinstance(info.value, CurrencyMismatchError)


def test_pricing_a_basket_in_another_currency_is_rejected() -> None:
    b = Basket("EUR")
    with pytest.raises(PromotionCurrencyError):
        price_basket(b, PromotionSet.compile([], CATALOGUE), at=AT)


@pytest.mark.parametrize(
    "build",
    [
        lambda: PercentOff(**names("p"), skus=("A",), percent_bp=0),
        lambda: PercentOff(**names("p"), skus=("A",), percent_bp=10001),
        lambda: PercentOff(**names("p"), percent_bp=100),
        lambda: PercentOff(promotion_id="p", name_en="x", name_zh="", skus=("A",), percent_bp=100),
        lambda: MultiBuy(**names("p"), skus=("A",), quantity=3, pay_for=3),
        lambda: MultiBuy(**names("p"), skus=("A",), quantity=3),
        lambda: MultiBuy(**names("p"), skus=("A",), quantity=1, pay_for=1),
        lambda: MultiBuy(**names("p"), skus=("A",), quantity=3, pay_for=2, stackable=True),
        lambda: FixedPrice(**names("p"), skus=("A",), price=m("-1")),
        lambda: BuyXGetY(**names("p"), skus=("A",), buy=0),
        lambda: SpendAndSave(**names("p"), tiers=()),
        lambda: SpendAndSave(**names("p"), tiers=(SpendTier(m("200"), m("20")), SpendTier(m("100"), m("30")))),
        lambda: SpendAndSave(**names("p"), tiers=(SpendTier(m("10"), m("20")),)),
        lambda: TimeWindow(weekdays=(0,)),
        lambda: TimeWindow(start_date=date(2026, 2, 1), end_date=date(2026, 1, 1)),
        lambda: TimeWindow(start_time=time(9, 0)),
    ],
)
def test_impossible_promotions_are_refused(build: object) -> None:
    with pytest.raises(InvalidPromotionError):
        build()  # type: ignore[operator]


def test_invalid_promotion_error_names_the_promotion() -> None:
    with pytest.raises(InvalidPromotionError, match="promotion summer"):
        PercentOff(**names("summer"), skus=("A",), percent_bp=0)


# -- serialisation ----------------------------------------------------------------------------

ALL_KINDS: list[Promotion] = [
    PercentOff(**names("a"), skus=("A",), categories=("dairy",), percent_bp=1500, stackable=True, priority=3),
    FixedPrice(**names("b"), skus=("W",), price=m("10.00"), window=TimeWindow(
        start_date=date(2026, 1, 1), end_date=date(2026, 1, 31), weekdays=(1, 2), start_time=time(8), end_time=time(12, 30))),
    MemberPrice(**names("c"), skus=("M",), price=m("8.80"), member_levels=("gold", "silver")),
    MultiBuy(**names("d"), skus=("A", "P"), quantity=3, price=m("7.00")),
    MultiBuy(**names("e"), categories=("fruit",), quantity=3, pay_for=2, coupon_code="FRUIT"),
    BuyXGetY(**names("f"), skus=("B",), buy=2, get=1, percent_bp=5000),
    BasketPercentOff(**names("g"), percent_bp=500, min_spend=m("50"), exclusive_group="weekly"),
    SpendAndSave(**names("h"), tiers=(SpendTier(m("100"), m("10")), SpendTier(m("200"), m("25")))),
]


def test_every_promotion_type_round_trips_through_json() -> None:
    text = promotions_to_json(ALL_KINDS)
    assert isinstance(json.loads(text), list)
    assert promotions_from_json(text) == ALL_KINDS


def test_dict_form_is_plain_json_data() -> None:
    d = promotion_to_dict(ALL_KINDS[1])
    assert d["type"] == "fixed_price"
    assert d["price"] == {"minor": 1000, "currency": "CNY"}
    assert d["window"]["start_time"] == "08:00:00"
    assert promotion_from_dict(d) == ALL_KINDS[1]


@pytest.mark.parametrize(
    "data",
    [
        {"type": "nonsense", "promotion_id": "x"},
        {**promotion_to_dict(ALL_KINDS[0]), "surprise": 1},
        {**promotion_to_dict(ALL_KINDS[3]), "price": 7.0},
        {**promotion_to_dict(ALL_KINDS[0]), "percent_bp": 0},
    ],
)
def test_bad_promotion_data_is_a_typed_error(data: dict[str, object]) -> None:
    with pytest.raises(InvalidPromotionError):
        promotion_from_dict(data)


def test_bad_json_is_a_typed_error() -> None:
    with pytest.raises(InvalidPromotionError):
        promotions_from_json("{not json")


def test_dropping_below_a_spend_threshold_makes_the_basket_dearer() -> None:
    # documented threshold behaviour (retail.pricing): 152.00 saves 20, 150.00 saves nothing
    promo = SpendAndSave(**names("mj"), tiers=(SpendTier(m("152"), m("20")),))
    full = basket(("BIG", 1), ("P", 1))
    assert price(full, promo).total == m("132.00")
    full.remove(full.active_lines[1].line_id)
    assert price(full, promo).total == m("150.00")
