"""Basket lines: unit, weighed, label lines; add, change quantity, void, remove; typed errors."""

from __future__ import annotations

from datetime import datetime

import pytest

from retail.basket import (
    MAX_QUANTITY,
    Basket,
    BasketCurrencyError,
    InvalidQuantityError,
    InvalidWeightError,
    LineKind,
    UnknownLineError,
    VoidedLineError,
    WrongSaleUnitError,
)
from retail.catalogue import CatalogueItem, SoldBy
from retail.errors import BasketError, CurrencyMismatchError, RetailError, UnknownCurrencyError
from retail.money import Money
from retail.pricing import price_basket

CNY = "CNY"
AT = datetime(2026, 1, 5, 10, 0)


def unit(sku: str = "A", price: str = "3.50", category: str = "general") -> CatalogueItem:
    return CatalogueItem(sku, f"Item {sku}", f"商品{sku}", Money.of(price, CNY), category=category)


def by_weight(sku: str = "W", per_kg: str = "12.00") -> CatalogueItem:
    return CatalogueItem(sku, f"Loose {sku}", f"散装{sku}", Money.of(per_kg, CNY), sold_by=SoldBy.WEIGHT)


def test_unit_line_price_is_unit_price_times_quantity() -> None:
    b = Basket(CNY)
    line_id = b.add_item(unit(price="3.50"), 3)
    assert b.line(line_id).gross == Money.of("10.50", CNY)
    assert b.subtotal == Money.of("10.50", CNY)


def test_scanning_same_item_again_increments_its_line() -> None:
    b = Basket(CNY)
    first = b.add_item(unit())
    second = b.add_item(unit())
    assert first == second
    assert len(b.active_lines) == 1
    assert b.line(first).quantity == 2


def test_price_does_not_depend_on_scans_quantity_or_quantity_change() -> None:
    item = unit(price="0.05")
    scanned = Basket(CNY)
    for _ in range(3):
        scanned.add_item(item)
    at_once = Basket(CNY)
    at_once.add_item(item, 3)
    changed = Basket(CNY)
    changed.set_quantity(changed.add_item(item), 3)
    totals = {price_basket(b, at=AT).total for b in (scanned, at_once, changed)}
    assert totals == {Money.of("0.15", CNY)}


def test_weighed_line_rounds_half_up_once_per_line() -> None:
    b = Basket(CNY)
    # 12.34 / kg x 125 g = 1.5425 -> 1.54 ; 10.00 / kg x 5 g = 0.05 ; 0.10 / kg x 50 g = 0.005 -> 0.01
    l1 = b.add_weighed(by_weight("W1", "12.34"), 125)
    l2 = b.add_weighed(by_weight("W2", "10.00"), 5)
    l3 = b.add_weighed(by_weight("W3", "0.10"), 50)
    assert [b.line(x).gross_minor for x in (l1, l2, l3)] == [154, 5, 1]


def test_weighed_items_are_never_merged() -> None:
    b = Basket(CNY)
    item = by_weight()
    assert b.add_weighed(item, 300) != b.add_weighed(item, 300)
    assert len(b.active_lines) == 2


def test_label_price_line_takes_price_from_label() -> None:
    b = Basket(CNY)
    line_id = b.add_label_price(by_weight(), Money.of("7.77", CNY), weight_g=500)
    line = b.line(line_id)
    assert line.kind is LineKind.LABEL_PRICE
    assert line.gross == Money.of("7.77", CNY)


def test_label_weight_line_is_priced_at_price_per_kg() -> None:
    b = Basket(CNY)
    line = b.line(b.add_label_weight(by_weight(per_kg="20.00"), 250))
    assert line.kind is LineKind.LABEL_WEIGHT
    assert line.gross == Money.of("5.00", CNY)


def test_line_ids_are_stable_and_never_reused() -> None:
    b = Basket(CNY)
    a = b.add_item(unit("A"))
    c = b.add_item(unit("C"))
    b.remove(a)
    d = b.add_item(unit("D"))
    assert len({a, c, d}) == 3
    assert b.line(c).sku == "C"


def test_voided_line_stays_for_audit_and_is_excluded_from_totals() -> None:
    b = Basket(CNY)
    keep = b.add_item(unit("A", "2.00"))
    gone = b.add_item(unit("B", "5.00"))
    b.void(gone)
    assert b.line(gone).voided
    assert gone in [line.line_id for line in b.lines]
    assert [line.line_id for line in b.active_lines] == [keep]
    assert b.subtotal == Money.of("2.00", CNY)
    assert price_basket(b, at=AT).total == Money.of("2.00", CNY)


def test_voiding_twice_is_a_no_op() -> None:
    b = Basket(CNY)
    line_id = b.add_item(unit())
    b.void(line_id)
    b.void(line_id)
    assert b.line(line_id).voided


def test_scan_after_void_opens_a_new_line() -> None:
    b = Basket(CNY)
    old = b.add_item(unit())
    b.void(old)
    new = b.add_item(unit())
    assert new != old
    assert b.line(new).quantity == 1


def test_voided_line_cannot_change_quantity() -> None:
    b = Basket(CNY)
    line_id = b.add_item(unit())
    b.void(line_id)
    with pytest.raises(VoidedLineError, match=line_id):
        b.set_quantity(line_id, 2)


def test_remove_deletes_the_line() -> None:
    b = Basket(CNY)
    line_id = b.add_item(unit())
    b.remove(line_id)
    assert line_id not in b
    assert b.subtotal == Money.zero(CNY)


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, 1.5, True, "2"])
def test_bad_quantity_is_refused_with_typed_error(quantity: object) -> None:
    b = Basket(CNY)
    with pytest.raises(InvalidQuantityError, match="quantity"):
        b.add_item(unit(), quantity)  # type: ignore[arg-type]


def test_bad_quantity_change_is_refused_and_line_unchanged() -> None:
    b = Basket(CNY)
    line_id = b.add_item(unit(), 2)
    with pytest.raises(InvalidQuantityError):
        b.set_quantity(line_id, 0)
    assert b.line(line_id).quantity == 2


@pytest.mark.parametrize("grams", [0, -5, 2.5])
def test_bad_weight_is_refused_with_typed_error(grams: object) -> None:
    with pytest.raises(InvalidWeightError, match="weight"):
        Basket(CNY).add_weighed(by_weight(), grams)  # type: ignore[arg-type]


def test_unknown_line_id_is_a_typed_lookup_error() -> None:
    b = Basket(CNY)
    for op in (lambda: b.void("L99"), lambda: b.remove("L99"), lambda: b.set_quantity("L99", 2)):
        with pytest.raises(UnknownLineError, match="L99") as info:
            op()
        assert isinstance(info.value, LookupError) and isinstance(info.value, BasketError)


def test_item_in_another_currency_is_refused() -> None:
    eur = CatalogueItem("E", "Euro thing", "欧元商品", Money.of("1.00", "EUR"))
    with pytest.raises(BasketCurrencyError, match="EUR") as info:
        Basket(CNY).add_item(eur)
    assert isinstance(info.value, CurrencyMismatchError)
    assert isinstance(info.value, RetailError)


def test_label_price_in_another_currency_is_refused() -> None:
    with pytest.raises(BasketCurrencyError):
        Basket(CNY).add_label_price(unit(), Money.of("1.00", "EUR"))


def test_unknown_basket_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrencyError):
        Basket("XXX")


def test_weighed_item_cannot_be_a_unit_line_and_vice_versa() -> None:
    b = Basket(CNY)
    with pytest.raises(WrongSaleUnitError, match="weight"):
        b.add_item(by_weight())
    with pytest.raises(WrongSaleUnitError, match="per piece"):
        b.add_weighed(unit(), 100)
    weighed = b.add_weighed(by_weight(), 100)
    with pytest.raises(WrongSaleUnitError):
        b.set_quantity(weighed, 2)


def test_copy_is_independent() -> None:
    b = Basket(CNY)
    line_id = b.add_item(unit())
    c = b.copy()
    c.add_item(unit())
    c.void(line_id)
    assert b.line(line_id).quantity == 1 and not b.line(line_id).voided
