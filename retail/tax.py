"""Tax on a priced basket: inclusive (shelf prices include tax) or exclusive, several rates.

Rule (never loses a cent):

1. The lines' amounts after savings are added up **per rate** (basis points).
2. The tax of each rate is computed once on that rate's total, rounded half up:
   inclusive ``tax = gross × r / (1 + r)``, exclusive ``tax = net × r``.
3. That tax is allocated back to the rate's lines with :meth:`retail.money.Money.allocate`
   (largest remainder, proportional to the line amounts), so the lines add up to the rate's
   tax exactly, and the rates add up to the basket total exactly.

In inclusive mode a rate's gross is its lines' total and net = gross − tax; in exclusive mode
the lines' total is the net and gross = net + tax. Either way the summary's gross adds up to
what the shopper pays.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Sequence

from retail.errors import BasketError
from retail.money import Money

__all__ = ["TaxError", "TaxMode", "TaxRateSummary", "TaxResult", "compute_tax", "tax_on_amount"]


class TaxError(BasketError):
    """Tax cannot be computed for these amounts (negative amount, bad rate)."""


class TaxMode(str, Enum):
    INCLUSIVE = "inclusive"  # shelf prices include tax (China, EU)
    EXCLUSIVE = "exclusive"  # tax is added on top (US)


@dataclass(frozen=True, slots=True)
class TaxRateSummary:
    """One rate's share of the basket: net + tax == gross."""

    rate_bp: int
    net: Money
    tax: Money
    gross: Money

    @property
    def rate_percent(self) -> str:
        whole, frac = divmod(self.rate_bp, 100)
        return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"


@dataclass(frozen=True, slots=True)
class TaxResult:
    """Per-rate summaries (ascending rate) and each line's tax, in the order given."""

    mode: TaxMode
    rates: tuple[TaxRateSummary, ...]
    line_tax_minor: tuple[int, ...]


def tax_on_amount(amount_minor: int, rate_bp: int, mode: TaxMode = TaxMode.INCLUSIVE) -> int:
    """Tax in minor units on one amount, rounded half up (amount ≥ 0)."""
    if amount_minor < 0:
        raise TaxError(f"tax is computed on non-negative amounts, not {amount_minor}")
    if not 0 <= rate_bp <= 10000:
        raise TaxError(f"tax rate must be 0..10000 basis points, not {rate_bp}")
    if mode is TaxMode.INCLUSIVE:
        num, den = amount_minor * rate_bp, 10000 + rate_bp
    else:
        num, den = amount_minor * rate_bp, 10000
    return (2 * num + den) // (2 * den)


def compute_tax(
    lines: Sequence[tuple[int, int]], currency: str, mode: TaxMode = TaxMode.INCLUSIVE
) -> TaxResult:
    """Tax for ``lines`` given as ``(rate_bp, amount_minor)`` pairs, amounts after savings.

    Returns per-rate summaries whose gross adds up to the total payable, and each line's share
    of its rate's tax (in the order of ``lines``) adding up to that rate's tax.
    """
    by_rate: dict[int, list[int]] = {}
    for index, (rate_bp, amount) in enumerate(lines):
        if amount < 0:
            raise TaxError(f"line {index}: amount after savings is negative ({amount})")
        by_rate.setdefault(rate_bp, []).append(index)
    line_tax = [0] * len(lines)
    summaries: list[TaxRateSummary] = []
    for rate_bp in sorted(by_rate):
        indices = by_rate[rate_bp]
        amounts = [lines[i][1] for i in indices]
        base = sum(amounts)
        tax = tax_on_amount(base, rate_bp, mode)
        if tax and base:
            for i, share in zip(indices, Money(tax, currency).allocate(amounts)):
                line_tax[i] = share.minor
        if mode is TaxMode.INCLUSIVE:
            gross, net = base, base - tax
        else:
            gross, net = base + tax, base
        summaries.append(
            TaxRateSummary(rate_bp, Money(net, currency), Money(tax, currency), Money(gross, currency))
        )
    return TaxResult(mode, tuple(summaries), tuple(line_tax))
