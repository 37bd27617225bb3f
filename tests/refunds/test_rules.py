"""Pure refund arithmetic: line shares and the split over payment methods."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.refunds.errors import InvalidRefundError, OverRefundError
from edge.refunds.rules import ReturnLine, SoldLine, line_refund, paid_by_method, split_by_method


def sold(qty: int | None = 3, net: int = 1000, tax: int = 115, grams: int | None = None) -> SoldLine:
    return SoldLine(1, "tea-500", "Green tea", qty, grams, net, 1300, tax)


def test_returning_every_piece_in_parts_gives_back_exactly_the_net_amount() -> None:
    line = sold(qty=3, net=1000, tax=115)
    first = line_refund(line, 0, ReturnLine(1, 1))
    second = line_refund(line, 1, ReturnLine(1, 1))
    third = line_refund(line, 2, ReturnLine(1, 1))
    assert [first.net_minor, second.net_minor, third.net_minor] == [333, 333, 334]
    assert first.tax_minor + second.tax_minor + third.tax_minor == 115


def test_more_pieces_than_are_left_is_an_over_refund() -> None:
    with pytest.raises(OverRefundError):
        line_refund(sold(qty=3), 2, ReturnLine(1, 2))


def test_a_weighed_line_is_returned_whole_and_only_once() -> None:
    line = sold(qty=None, grams=750, net=960)
    whole = line_refund(line, 0, ReturnLine(1))
    assert (whole.weight_g, whole.net_minor) == (750, 960)
    with pytest.raises(OverRefundError):
        line_refund(line, 750, ReturnLine(1))
    with pytest.raises(InvalidRefundError):
        line_refund(line, 0, ReturnLine(1, 2))


def test_cash_counts_net_of_change() -> None:
    assert paid_by_method([("cash", 10_000), ("card", 500)], 1_250) == {"cash": 8_750, "card": 500}


def test_split_is_proportional_to_what_each_method_paid() -> None:
    assert split_by_method(500, {"card": 3_000, "stored_value": 1_000}, {}) == {"card": 375, "stored_value": 125}


def test_split_refuses_more_than_is_left() -> None:
    with pytest.raises(OverRefundError):
        split_by_method(101, {"card": 1_000}, {"card": 900})


@settings(max_examples=150, deadline=None)
@given(
    paid=st.dictionaries(st.sampled_from(["cash", "card", "mobile", "stored_value", "points"]),
                         st.integers(1, 50_000), min_size=1, max_size=4),
    cuts=st.lists(st.integers(1, 10_000), min_size=1, max_size=6),
)
def test_refunds_in_parts_never_exceed_a_method_and_add_up_to_what_was_paid(paid: dict[str, int], cuts: list[int]) -> None:
    total = sum(paid.values())
    refunded: dict[str, int] = {}
    left = total
    for cut in cuts:
        amount = min(cut, left)
        if amount <= 0:
            break
        share = split_by_method(amount, paid, refunded)
        assert sum(share.values()) == amount
        for method, value in share.items():
            refunded[method] = refunded.get(method, 0) + value
            assert refunded[method] <= paid[method]
        left -= amount
    if left:
        share = split_by_method(left, paid, refunded)
        for method, value in share.items():
            refunded[method] = refunded.get(method, 0) + value
    assert refunded == paid
