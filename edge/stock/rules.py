"""Pure stock rules: first-expiry-first-out, markdowns near expiry, reorder quantities.

Amounts are whole numbers in the product's measure: pieces, or grams for weighed items.
No I/O; nothing runs at import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Sequence

from edge.stock.errors import InvalidMoveError
from retail.money import Money

__all__ = [
    "DEFAULT_MARKDOWN",
    "Allocation",
    "Lot",
    "MarkdownRule",
    "fefo_allocate",
    "fefo_order",
    "markdown_price",
    "remaining_by_lot",
    "reorder_quantity",
    "suggest_markdown",
]


@dataclass(frozen=True, slots=True)
class Lot:
    """A batch of one SKU: ``amount`` pieces (or grams), expiring on ``expires_on`` (None =
    does not expire)."""

    batch_id: int
    expires_on: date | None
    amount: int
    received_on: date | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    batch_id: int
    amount: int


def fefo_order(lots: Sequence[Lot]) -> list[Lot]:
    """Lots in the order they should leave the shelf: earliest expiry first, lots that do not
    expire last; ties by receipt date, then batch id."""
    return sorted(
        lots,
        key=lambda lot: (
            lot.expires_on is None,
            lot.expires_on or date.max,
            lot.received_on or date.min,
            lot.batch_id,
        ),
    )


def fefo_allocate(lots: Sequence[Lot], demand: int) -> tuple[list[Allocation], int]:
    """Take ``demand`` from ``lots`` first-expiry-first-out: ``(allocations, shortfall)``."""
    if demand < 0:
        raise InvalidMoveError("demand cannot be negative")
    out: list[Allocation] = []
    left = demand
    for lot in fefo_order(lots):
        if left == 0:
            break
        take = min(left, max(lot.amount, 0))
        if take:
            out.append(Allocation(lot.batch_id, take))
            left -= take
    return out, left


def remaining_by_lot(lots: Sequence[Lot], on_hand: int) -> dict[int, int]:
    """What is left of each lot when ``on_hand`` is all that remains and everything that left
    went first-expiry-first-out: the stock still there sits in the latest-expiring lots."""
    left = max(on_hand, 0)
    out: dict[int, int] = {}
    for lot in reversed(fefo_order(lots)):
        keep = min(left, max(lot.amount, 0))
        out[lot.batch_id] = keep
        left -= keep
    return out


@dataclass(frozen=True, slots=True)
class MarkdownRule:
    """Suggest ``percent`` off when at most ``days_left`` days remain before expiry."""

    days_left: int
    percent: int

    def __post_init__(self) -> None:
        if self.days_left < 0 or not 0 < self.percent < 100:
            raise InvalidMoveError(f"a markdown rule is days_left >= 0 and 0 < percent < 100, not {self}")


DEFAULT_MARKDOWN: tuple[MarkdownRule, ...] = (MarkdownRule(3, 30), MarkdownRule(1, 50))


def suggest_markdown(days_left: int, rules: Sequence[MarkdownRule] = DEFAULT_MARKDOWN) -> int | None:
    """The markdown percent for an item ``days_left`` days from expiry (the deepest rule that
    applies), or None. Expired items (days_left < 0) get None: they come off the shelf."""
    if days_left < 0:
        return None
    applicable = [r.percent for r in rules if days_left <= r.days_left]
    return max(applicable) if applicable else None


def markdown_price(price: Money, percent: int) -> Money:
    """``price`` less ``percent`` %, rounded half up to the minor unit."""
    return price.multiply(Fraction(100 - percent, 100))


def reorder_quantity(
    *,
    on_hand: int,
    on_order: int,
    sold_last_28_days: int,
    lead_time_days: int,
    cover_days: int = 14,
    reorder_point: int = 0,
    order_up_to: int | None = None,
    pack_size: int = 1,
) -> int:
    """How much to order now (a multiple of ``pack_size``; 0 = nothing).

    Daily velocity is the last 28 days' sales / 28. Order when stock on hand plus on order is
    at or below the reorder point, or below what will sell during the lead time; then order
    up to the larger of the sales expected over lead time plus ``cover_days`` and
    ``order_up_to`` (default twice the reorder point).
    """
    if lead_time_days < 0 or cover_days < 0 or pack_size < 1 or sold_last_28_days < 0 or reorder_point < 0:
        raise InvalidMoveError("lead time, cover, sales and reorder point cannot be negative; pack size is at least 1")
    velocity = Fraction(sold_last_28_days, 28)
    position = on_hand + on_order
    if position > reorder_point and position >= velocity * lead_time_days:
        return 0
    ceiling = 2 * reorder_point if order_up_to is None else order_up_to
    target = max(velocity * (lead_time_days + cover_days), Fraction(ceiling))
    need = math.ceil(target - position)
    if need <= 0:
        return 0
    return -(-need // pack_size) * pack_size
