"""The finished sale: a plain frozen value the lead maps onto the bus contract and the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.checkout.model import ApprovalMethod, AttendantReason
from kiosk.checkout.staff import Role
from kiosk.payments.model import Tender
from retail.money import Money

__all__ = ["Approval", "FinishedSale", "SaleLine", "SalePayment", "TaxLine", "money_dict"]


def money_dict(m: Money | None) -> dict[str, Any] | None:
    return None if m is None else {"minor": m.minor, "currency": m.currency}


@dataclass(frozen=True, slots=True)
class Approval:
    """One attendant decision: who (staff id, role), what (action, line, SKU), why (reason and
    the attendant's note), when, how (PIN, badge, remote), and whether it was approved."""

    request_id: str
    reason: AttendantReason
    staff_id: str
    role: Role
    method: ApprovalMethod
    approved: bool
    at: datetime
    action: str
    line_id: str | None = None
    sku: str | None = None
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "reason": self.reason.value,
            "staff_id": self.staff_id,
            "role": self.role.label,
            "method": self.method.value,
            "approved": self.approved,
            "at": self.at.isoformat(),
            "action": self.action,
            "line_id": self.line_id,
            "sku": self.sku,
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class SaleLine:
    line_id: str
    sku: str
    gtin: str | None
    name_en: str
    name_zh: str
    kind: str  # retail.basket.LineKind value
    quantity: int
    weight_g: int | None
    unit_price: Money  # per piece, or per kg for weighed lines
    gross: Money
    savings: tuple[tuple[str, Money], ...]  # (promotion_id, amount)
    net: Money
    tax_rate_bp: int
    tax: Money
    payable: Money
    price_override: bool = False
    bagging: str = "bagged"  # bagged, skipped, not_checked

    @property
    def total_savings(self) -> Money:
        return Money(sum(m.minor for _, m in self.savings), self.gross.currency)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id,
            "sku": self.sku,
            "gtin": self.gtin,
            "name_en": self.name_en,
            "name_zh": self.name_zh,
            "kind": self.kind,
            "quantity": self.quantity,
            "weight_g": self.weight_g,
            "unit_price": money_dict(self.unit_price),
            "gross": money_dict(self.gross),
            "savings": [{"promotion_id": pid, "amount": money_dict(m)} for pid, m in self.savings],
            "net": money_dict(self.net),
            "tax_rate_bp": self.tax_rate_bp,
            "tax": money_dict(self.tax),
            "payable": money_dict(self.payable),
            "price_override": self.price_override,
            "bagging": self.bagging,
        }


@dataclass(frozen=True, slots=True)
class SalePayment:
    """One approved tender. ``amount`` is what it paid towards the sale; for cash ``tendered``
    is what was handed over and ``change`` what went back; ``points`` for a points payment."""

    payment_id: str
    tender: Tender
    amount: Money
    at: datetime
    provider: str = ""
    reference: str = ""
    tendered: Money | None = None
    change: Money | None = None
    points: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "payment_id": self.payment_id,
            "tender": self.tender.value,
            "amount": money_dict(self.amount),
            "at": self.at.isoformat(),
            "provider": self.provider,
            "reference": self.reference,
            "tendered": money_dict(self.tendered),
            "change": money_dict(self.change),
            "points": self.points,
        }


@dataclass(frozen=True, slots=True)
class TaxLine:
    rate_bp: int
    net: Money
    tax: Money
    gross: Money

    def to_dict(self) -> dict[str, Any]:
        return {"rate_bp": self.rate_bp, "net": money_dict(self.net), "tax": money_dict(self.tax), "gross": money_dict(self.gross)}


@dataclass(frozen=True, slots=True)
class FinishedSale:
    """A completed sale. ``sale_id`` is a UUID4 made when the basket was finalised for payment.

    Invariants: the payments' amounts add up to ``total``; ``change`` is the cash handed back;
    ``cash_rounding`` is what cash rounding added to (or took off) the cash payable.
    """

    sale_id: str
    store_id: str
    lane_id: str
    currency: str
    lines: tuple[SaleLine, ...]
    voided: tuple[tuple[str, str], ...]  # (line_id, sku) voided during the sale, for the audit
    subtotal: Money
    total_savings: Money
    total: Money
    tax: tuple[TaxLine, ...]
    payments: tuple[SalePayment, ...]
    change: Money
    cash_rounding: Money
    member_id: str | None
    coupons: tuple[str, ...]
    approvals: tuple[Approval, ...]
    catalogue_version: str
    language: str
    started_at: datetime
    finalised_at: datetime
    finished_at: datetime
    edge_online: bool = True

    @property
    def paid(self) -> Money:
        return Money(sum(p.amount.minor for p in self.payments), self.currency)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sale_id": self.sale_id,
            "store_id": self.store_id,
            "lane_id": self.lane_id,
            "currency": self.currency,
            "lines": [line.to_dict() for line in self.lines],
            "voided": [{"line_id": lid, "sku": sku} for lid, sku in self.voided],
            "subtotal": money_dict(self.subtotal),
            "total_savings": money_dict(self.total_savings),
            "total": money_dict(self.total),
            "tax": [t.to_dict() for t in self.tax],
            "payments": [p.to_dict() for p in self.payments],
            "change": money_dict(self.change),
            "cash_rounding": money_dict(self.cash_rounding),
            "member_id": self.member_id,
            "coupons": list(self.coupons),
            "approvals": [a.to_dict() for a in self.approvals],
            "catalogue_version": self.catalogue_version,
            "language": self.language,
            "started_at": self.started_at.isoformat(),
            "finalised_at": self.finalised_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "edge_online": self.edge_online,
        }
