"""Texts for basket lines: quantities, weights and unit prices, from exact values.

>>> from retail.money import Money
>>> weight_text(456, Money.of("12.80", "CNY"))
'0.456 kg × ¥12.80/kg'
>>> quantity_text(2, Money.of("3.50", "CNY"))
'2 × ¥3.50'
"""

from __future__ import annotations

from decimal import Decimal

from retail.money import Money

__all__ = ["quantity_text", "weight_text"]

TIMES = "\u00d7"  # ×


def quantity_text(quantity: int, unit_price: Money, *, locale: str = "en") -> str:
    """``"2 × ¥3.50"`` for pieces; a single piece shows just its price."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise TypeError(f"a quantity is a whole number of pieces, not {quantity!r}")
    return f"{quantity} {TIMES} {unit_price.format(locale)}"


def weight_text(grams: int, price_per_kg: Money, *, locale: str = "en") -> str:
    """``"0.456 kg × ¥12.80/kg"``: the weight to the gram and the price per kilogram."""
    if isinstance(grams, bool) or not isinstance(grams, int):
        raise TypeError(f"a weight is whole grams, not {grams!r}")
    kilograms = (Decimal(grams) / Decimal(1000)).quantize(Decimal("0.001"))
    return f"{kilograms} kg {TIMES} {price_per_kg.format(locale)}/kg"
