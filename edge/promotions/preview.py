"""Preview: what a sample basket would cost under a promotion set. Pure (no I/O); the pricing
is :func:`retail.pricing.price_basket`, the same function the kiosks call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Sequence

from edge.promotions.errors import InvalidPromotionDefinitionError
from retail.basket import Basket
from retail.catalogue import CatalogueItem
from retail.errors import RetailError
from retail.money import Money
from retail.pricing import MemberContext, PricedBasket, price_basket
from retail.promotions import PromotionSet

__all__ = ["SampleLine", "build_basket", "preview", "priced_to_dict"]


@dataclass(frozen=True, slots=True)
class SampleLine:
    """One line of a sample basket: ``quantity`` pieces, or ``weight_g`` of a weighed item."""

    sku: str
    quantity: int | None = None
    weight_g: int | None = None


def build_basket(lines: Sequence[SampleLine], index: Mapping[str, CatalogueItem], currency: str) -> Basket:
    """A basket of ``lines`` priced from the catalogue ``index`` (SKU → item)."""
    basket = Basket(currency)
    try:
        for line in lines:
            item = index.get(line.sku)
            if item is None:
                raise InvalidPromotionDefinitionError(f"the sample basket names unknown SKU {line.sku!r}")
            if item.by_weight:
                if line.weight_g is None:
                    raise InvalidPromotionDefinitionError(f"{line.sku} is sold by weight; give weight_g")
                basket.add_weighed(item, line.weight_g)
            else:
                if line.weight_g is not None:
                    raise InvalidPromotionDefinitionError(f"{line.sku} is sold per piece; give quantity")
                basket.add_item(item, 1 if line.quantity is None else line.quantity)
    except RetailError as exc:
        raise InvalidPromotionDefinitionError(str(exc)) from None
    return basket


def preview(
    lines: Sequence[SampleLine],
    index: Mapping[str, CatalogueItem],
    promotions: PromotionSet,
    *,
    at: datetime,
    currency: str,
    member_level: str | None = None,
    coupon_codes: frozenset[str] = frozenset(),
) -> PricedBasket:
    """Price the sample basket at shop-local time ``at``; ``member_level`` makes a member of
    that level; ``coupon_codes`` are the promotions' codes the coupons resolved to."""
    basket = build_basket(lines, index, currency)
    member = MemberContext("preview", member_level) if member_level else None
    try:
        return price_basket(basket, promotions, at=at, member=member, coupons=coupon_codes)
    except RetailError as exc:
        raise InvalidPromotionDefinitionError(str(exc)) from None


def _m(value: Money) -> dict[str, Any]:
    return {"minor": value.minor, "currency": value.currency}


def priced_to_dict(priced: PricedBasket, names: Mapping[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """JSON-safe form of a priced basket: lines with their savings, savings by promotion
    (named in English and Chinese), tax per rate and the totals."""
    label: dict[str, tuple[str, str]] = dict(names or {})
    for line in priced.lines:
        label.update(line.promotion_names)
    return {
        "currency": priced.currency,
        "lines": [
            {
                "line_id": l.line_id, "sku": l.sku, "name_en": l.item.name_en, "name_zh": l.item.name_zh,
                "quantity": l.quantity if l.weight_g is None else None, "weight_g": l.weight_g,
                "gross": _m(l.gross), "savings": _m(l.savings), "net": _m(l.net), "tax": _m(l.tax),
                "payable": _m(l.payable), "tax_rate_bp": l.rate_bp,
                "promotions": [
                    {"promotion_id": s.promotion_id, "name_en": s.name_en, "name_zh": s.name_zh, "amount": _m(s.amount)}
                    for s in l.line_savings
                ],
            }
            for l in priced.lines
        ],
        "savings_by_promotion": [
            {"promotion_id": pid, "name_en": label.get(pid, (pid, pid))[0], "name_zh": label.get(pid, (pid, pid))[1],
             "amount": _m(amount)}
            for pid, amount in priced.savings_by_promotion.items()
        ],
        "tax": [{"rate_bp": r.rate_bp, "net": _m(r.net), "tax": _m(r.tax), "gross": _m(r.gross)}
                for r in priced.tax_summary],
        "subtotal": _m(priced.subtotal),
        "total_savings": _m(priced.total_savings),
        "total": _m(priced.total),
    }
