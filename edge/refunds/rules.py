"""Refund rules: pure arithmetic, no I/O.

* **Line amounts.** A unit line returned in parts gives back its net amount (promotion
  savings are already spread into ``net``) by cumulative shares: after returning ``k`` of
  ``n`` pieces the shopper has had ``floor(net * k / n)`` back, so returning every piece in
  any number of refunds gives back exactly ``net`` and never a cent more. Tax follows the
  same rule. A weighed line is returned whole.
* **Payment methods.** A refund to the original methods is split in proportion to what each
  method paid (cash counts net of change), again cumulatively, so the parts of a sale
  refunded in several goes add up to what each method took; no method ever gets back more
  than it paid less what it already got back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Mapping, Sequence

from edge.refunds.errors import InvalidRefundError, OverRefundError

__all__ = [
    "METHOD_ORDER",
    "LineAmount",
    "ReturnLine",
    "SoldLine",
    "line_refund",
    "paid_by_method",
    "request_hash",
    "split_by_method",
]

#: Order in which methods take a leftover cent (deterministic).
METHOD_ORDER: tuple[str, ...] = ("cash", "card", "mobile", "stored_value", "points")


@dataclass(frozen=True, slots=True)
class SoldLine:
    """A line as the sale recorded it."""

    line_no: int
    sku: str
    name: str
    quantity: int | None
    weight_g: int | None
    net_minor: int
    tax_rate_bp: int
    tax_minor: int


@dataclass(frozen=True, slots=True)
class ReturnLine:
    """What the shopper brings back of one line: ``quantity`` pieces (``None`` = all that is
    left; weighed lines are always returned whole)."""

    line_no: int
    quantity: int | None = None


@dataclass(frozen=True, slots=True)
class LineAmount:
    line_no: int
    sku: str
    name: str
    quantity: int | None
    weight_g: int | None
    net_minor: int
    tax_rate_bp: int
    tax_minor: int


def _share(total: int, done: int, now: int, of: int) -> int:
    return total * (done + now) // of - total * done // of


def line_refund(line: SoldLine, returned_before: int, wanted: ReturnLine) -> LineAmount:
    """The amount of returning ``wanted`` of ``line`` after ``returned_before`` (pieces, or
    grams for a weighed line)."""
    if line.quantity is not None:
        left = line.quantity - returned_before
        qty = left if wanted.quantity is None else wanted.quantity
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
            raise InvalidRefundError(f"line {line.line_no}: return at least one piece, not {qty!r}")
        if qty > left:
            raise OverRefundError(
                f"line {line.line_no} ({line.sku}): {qty} to return but only {left} of {line.quantity} left"
            )
        net = _share(line.net_minor, returned_before, qty, line.quantity)
        tax = _share(line.tax_minor, returned_before, qty, line.quantity)
        return LineAmount(line.line_no, line.sku, line.name, qty, None, net, line.tax_rate_bp, tax)
    grams = line.weight_g or 0
    if returned_before:
        raise OverRefundError(f"line {line.line_no} ({line.sku}) was already returned")
    if wanted.quantity not in (None, 1):
        raise InvalidRefundError(f"line {line.line_no} ({line.sku}) is weighed; it is returned whole")
    return LineAmount(line.line_no, line.sku, line.name, None, grams, line.net_minor, line.tax_rate_bp, line.tax_minor)


def paid_by_method(payments: Sequence[tuple[str, int]], change_minor: int) -> dict[str, int]:
    """What each method paid for good: cash net of the change given."""
    paid: dict[str, int] = {}
    for method, amount in payments:
        paid[method] = paid.get(method, 0) + amount
    if change_minor:
        paid["cash"] = paid.get("cash", 0) - change_minor
    return {m: a for m, a in paid.items() if a > 0}


def _order(methods: Sequence[str]) -> list[str]:
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    return sorted(methods, key=lambda m: (rank.get(m, len(rank)), m))


def _allocate(amount: int, weights: list[int]) -> list[int]:
    total = sum(weights)
    if total <= 0:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    left = amount - sum(shares)
    if left:
        remainders = [amount * w % total for w in weights]
        for k in sorted(range(len(weights)), key=remainders.__getitem__, reverse=True)[:left]:
            shares[k] += 1
    return shares


def split_by_method(amount: int, paid: Mapping[str, int], refunded: Mapping[str, int]) -> dict[str, int]:
    """Split a refund of ``amount`` over the methods that paid (see the module docstring).

    Raises :class:`OverRefundError` when the methods have less than ``amount`` left.
    """
    if amount <= 0:
        raise InvalidRefundError("a refund is a positive amount")
    methods = _order(list(paid))
    room = {m: paid[m] - refunded.get(m, 0) for m in methods}
    if amount > sum(max(r, 0) for r in room.values()):
        raise OverRefundError(
            f"refund of {amount} exceeds what is left to refund ({sum(max(r, 0) for r in room.values())})"
        )
    before = sum(refunded.get(m, 0) for m in methods)
    ideal = _allocate(before + amount, [paid[m] for m in methods])
    share = {m: min(max(i - refunded.get(m, 0), 0), room[m]) for m, i in zip(methods, ideal)}
    diff = amount - sum(share.values())
    for m in methods:  # earlier rounding or capped methods: settle the difference in order
        if diff > 0:
            take = min(diff, room[m] - share[m])
            share[m] += take
            diff -= take
        elif diff < 0:
            give = min(-diff, share[m])
            share[m] -= give
            diff += give
    if diff:
        raise OverRefundError(f"cannot split a refund of {amount} over {dict(paid)}")
    return {m: a for m, a in share.items() if a > 0}


def request_hash(kiosk_id: str, sale_id: str, lines: Sequence[ReturnLine], mode: str) -> str:
    """A fingerprint of a refund request, to tell a retry from a reused refund id."""
    data = {
        "kiosk_id": kiosk_id,
        "sale_id": sale_id,
        "mode": mode,
        "lines": sorted([line.line_no, line.quantity] for line in lines),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
