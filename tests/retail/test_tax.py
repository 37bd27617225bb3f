"""Tax: inclusive and exclusive, several rates, per-rate rounding, exact allocation to lines."""

from __future__ import annotations

from datetime import datetime

import pytest

from retail.basket import Basket
from retail.catalogue import CatalogueItem, TaxClass
from retail.money import Money
from retail.pricing import price_basket
from retail.promotions import BasketPercentOff, PromotionSet
from retail.tax import TaxError, TaxMode, compute_tax, tax_on_amount

CNY = "CNY"
AT = datetime(2026, 1, 5, 10, 0)
STD = TaxClass("standard", 1300)
FOOD = TaxClass("food", 900)
ZERO = TaxClass("zero", 0)


def item(sku: str, price: str, tax: TaxClass) -> CatalogueItem:
    return CatalogueItem(sku, f"Item {sku}", f"商品{sku}", Money.of(price, CNY), tax_class=tax)


def test_inclusive_tax_is_extracted_from_gross() -> None:
    # 113.00 at 13 % inclusive: tax 13.00, net 100.00
    assert tax_on_amount(11300, 1300, TaxMode.INCLUSIVE) == 1300


def test_exclusive_tax_is_added_on_net() -> None:
    assert tax_on_amount(10000, 1300, TaxMode.EXCLUSIVE) == 1300


def test_tax_rounds_half_up() -> None:
    # 0.50 x 9 % = 0.045 -> 0.05 ; 0.05 x 10 % = 0.005 -> 0.01
    assert tax_on_amount(50, 900, TaxMode.EXCLUSIVE) == 5
    assert tax_on_amount(5, 1000, TaxMode.EXCLUSIVE) == 1


def test_tax_is_computed_per_rate_not_per_line() -> None:
    # ten lines of 0.05 at 13 %: per line 0.0058 -> 0.01 each (0.10), per rate 0.50 -> 0.0575 -> 0.06
    result = compute_tax([(1300, 5)] * 10, CNY, TaxMode.INCLUSIVE)
    assert result.rates[0].tax == Money.of("0.06", CNY)
    assert sum(result.line_tax_minor) == 6


def test_line_taxes_add_up_to_rate_tax_exactly() -> None:
    amounts = [(1300, 333), (1300, 667), (900, 1001), (1300, 1), (900, 0)]
    result = compute_tax(amounts, CNY, TaxMode.INCLUSIVE)
    for summary in result.rates:
        lines = [t for (rate, _), t in zip(amounts, result.line_tax_minor) if rate == summary.rate_bp]
        assert sum(lines) == summary.tax.minor
        assert summary.net + summary.tax == summary.gross


def test_summary_is_sorted_by_rate_and_covers_every_rate() -> None:
    result = compute_tax([(1300, 100), (0, 100), (900, 100)], CNY)
    assert [r.rate_bp for r in result.rates] == [0, 900, 1300]
    assert result.rates[0].tax == Money.zero(CNY)


def test_negative_amount_is_refused() -> None:
    with pytest.raises(TaxError):
        compute_tax([(1300, -1)], CNY)


def test_rate_percent_reads_well() -> None:
    result = compute_tax([(1300, 100), (550, 100), (1025, 100)], CNY)
    assert [r.rate_percent for r in result.rates] == ["5.5%", "10.25%", "13%"]


def test_priced_basket_tax_summary_gross_adds_up_to_total_inclusive() -> None:
    b = Basket(CNY)
    b.add_item(item("A", "9.99", STD), 3)
    b.add_item(item("B", "4.55", FOOD), 2)
    b.add_item(item("C", "1.00", ZERO))
    priced = price_basket(b, at=AT)
    assert priced.total == Money.of("40.07", CNY)
    assert sum(r.gross.minor for r in priced.tax_summary) == priced.total.minor
    assert sum(line.tax_minor for line in priced.lines) == priced.total_tax.minor
    by_rate = {r.rate_bp: r for r in priced.tax_summary}
    assert by_rate[1300].tax == Money.of("3.45", CNY)  # 29.97 x 13/113 = 3.4479
    assert by_rate[900].tax == Money.of("0.75", CNY)  # 9.10 x 9/109 = 0.7514
    assert by_rate[0].tax == Money.zero(CNY)


def test_exclusive_mode_adds_tax_to_the_total() -> None:
    b = Basket("USD")
    b.add_item(CatalogueItem("A", "A", "甲", Money.of("10.00", "USD"), tax_class=TaxClass("s", 825)), 1)
    priced = price_basket(b, at=AT, tax_mode=TaxMode.EXCLUSIVE)
    assert priced.total == Money.of("10.83", "USD")  # 10.00 + 0.825 -> 0.83
    line = priced.lines[0]
    assert line.net == Money.of("10.00", "USD")
    assert line.payable == Money.of("10.83", "USD")
    assert priced.tax_summary[0].gross == priced.total


def test_tax_is_computed_after_savings() -> None:
    a = item("A", "113.00", STD)
    promos = PromotionSet.compile(
        [BasketPercentOff(promotion_id="half", name_en="Half off", name_zh="半价", percent_bp=5000)], {"A": a}
    )
    b = Basket(CNY)
    b.add_item(a)
    priced = price_basket(b, promos, at=AT)
    assert priced.total == Money.of("56.50", CNY)
    assert priced.tax_summary[0].tax == Money.of("6.50", CNY)
