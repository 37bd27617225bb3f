"""Pure stock rules: FEFO, markdowns near expiry, reorder quantities."""

from __future__ import annotations

from datetime import date

import pytest

from edge.stock.errors import InvalidMoveError
from edge.stock.rules import (
    Allocation,
    Lot,
    MarkdownRule,
    fefo_allocate,
    markdown_price,
    remaining_by_lot,
    reorder_quantity,
    suggest_markdown,
)
from retail.money import Money

LOTS = [
    Lot(1, date(2026, 1, 20), 10),
    Lot(2, date(2026, 1, 10), 5),
    Lot(3, None, 8),
    Lot(4, date(2026, 1, 10), 4, received_on=date(2026, 1, 1)),
]


def test_fefo_takes_the_earliest_expiry_first_and_non_expiring_last() -> None:
    allocations, short = fefo_allocate(LOTS, 12)
    assert allocations == [Allocation(2, 5), Allocation(4, 4), Allocation(1, 3)]
    assert short == 0


def test_fefo_reports_a_shortfall() -> None:
    assert fefo_allocate(LOTS, 30) == ([Allocation(2, 5), Allocation(4, 4), Allocation(1, 10), Allocation(3, 8)], 3)
    with pytest.raises(InvalidMoveError):
        fefo_allocate(LOTS, -1)


def test_remaining_stock_sits_in_the_latest_expiring_lots() -> None:
    assert remaining_by_lot(LOTS, 12) == {3: 8, 1: 4, 4: 0, 2: 0}
    assert remaining_by_lot(LOTS, 0) == {3: 0, 1: 0, 4: 0, 2: 0}


def test_markdown_is_30_percent_at_three_days_and_50_at_one() -> None:
    assert [suggest_markdown(d) for d in (5, 4, 3, 2, 1, 0, -1)] == [None, None, 30, 30, 50, 50, None]
    rules = (MarkdownRule(7, 10), MarkdownRule(2, 40))
    assert suggest_markdown(5, rules) == 10 and suggest_markdown(2, rules) == 40
    assert markdown_price(Money(1299, "CNY"), 30) == Money(909, "CNY")  # 909.3 rounds down
    with pytest.raises(InvalidMoveError):
        MarkdownRule(3, 100)


def test_reorder_covers_lead_time_and_cover_days_from_28_day_velocity() -> None:
    # 56 sold in 28 days = 2 a day; lead 5 days: order when position < 10; up to 2 x (5 + 14) = 38
    assert reorder_quantity(on_hand=6, on_order=0, sold_last_28_days=56, lead_time_days=5) == 32
    assert reorder_quantity(on_hand=6, on_order=3, sold_last_28_days=56, lead_time_days=5) == 29
    assert reorder_quantity(on_hand=6, on_order=4, sold_last_28_days=56, lead_time_days=5) == 0
    assert reorder_quantity(on_hand=11, on_order=0, sold_last_28_days=56, lead_time_days=5) == 0
    assert reorder_quantity(on_hand=6, on_order=0, sold_last_28_days=56, lead_time_days=5, pack_size=12) == 36


def test_reorder_point_triggers_an_order_without_sales() -> None:
    assert reorder_quantity(on_hand=3, on_order=0, sold_last_28_days=0, lead_time_days=3, reorder_point=5) == 7
    assert reorder_quantity(on_hand=3, on_order=0, sold_last_28_days=0, lead_time_days=3, reorder_point=5, order_up_to=20) == 17
    assert reorder_quantity(on_hand=6, on_order=0, sold_last_28_days=0, lead_time_days=3, reorder_point=5) == 0
    assert reorder_quantity(on_hand=0, on_order=0, sold_last_28_days=0, lead_time_days=3) == 0
