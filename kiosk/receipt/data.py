"""The receipt as a document: what the checkout fills from a priced basket and a finished sale.

Pure data, no I/O. Names arrive already in the receipt's language (the checkout chooses
``name_en`` or ``name_zh``); labels are translated by :mod:`kiosk.receipt.labels`.
``to_dict()`` / ``from_dict()`` give a plain JSON form, used by the receipt spool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from kiosk.receipt.errors import ReceiptError
from retail.money import Money

__all__ = [
    "Approval",
    "LANGUAGES",
    "MemberInfo",
    "Payment",
    "PaymentMethod",
    "ReceiptData",
    "ReceiptLine",
    "Saving",
    "ShopHeader",
    "TaxLine",
    "mask_member_id",
]

LANGUAGES = ("en", "zh")


class PaymentMethod(str, Enum):
    CASH = "cash"
    CARD = "card"
    MOBILE = "mobile"
    STORED_VALUE = "stored_value"
    VOUCHER = "voucher"


def mask_member_id(raw: str) -> str:
    """Mask a member number or phone for print: ``13812345678`` -> ``138****5678``.

    Keeps the first three and last four characters of 11 or more, fewer of shorter ids, and
    always hides at least half.
    """
    s = raw.strip()
    n = len(s)
    if n == 0:
        return ""
    if n >= 11:
        head, tail = 3, 4
    elif n >= 7:
        head, tail = 2, 2
    elif n >= 4:
        head, tail = 0, 2
    else:
        head, tail = 0, 0
    return s[:head] + "*" * (n - head - tail) + (s[n - tail :] if tail else "")


def _money(d: dict[str, Any]) -> Money:
    return Money(int(d["minor"]), str(d["currency"]))


def _m(m: Money) -> dict[str, Any]:
    return {"minor": m.minor, "currency": m.currency}


def _opt_money(d: dict[str, Any] | None) -> Money | None:
    return None if d is None else _money(d)


@dataclass(frozen=True, slots=True)
class ShopHeader:
    name_en: str
    name_zh: str
    address: str = ""
    phone: str = ""
    tax_id: str = ""


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One sold line. Counted goods give ``qty`` and ``unit_price``; weighed goods give
    ``weight_g`` and ``price_per_kg`` (printed ``0.456 kg × ¥12.80/kg``). ``amount`` is the line
    total before promotions."""

    name: str
    amount: Money
    qty: int = 1
    unit_price: Money | None = None
    weight_g: int | None = None
    price_per_kg: Money | None = None

    def __post_init__(self) -> None:
        if self.weight_g is not None:
            if self.weight_g <= 0:
                raise ReceiptError(f"line {self.name!r}: weight must be positive grams")
            if self.price_per_kg is None:
                raise ReceiptError(f"line {self.name!r}: a weighed line needs its price per kg")
        elif self.qty == 0:
            raise ReceiptError(f"line {self.name!r}: quantity zero")

    @property
    def weighed(self) -> bool:
        return self.weight_g is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "amount": _m(self.amount),
            "qty": self.qty,
            "unit_price": None if self.unit_price is None else _m(self.unit_price),
            "weight_g": self.weight_g,
            "price_per_kg": None if self.price_per_kg is None else _m(self.price_per_kg),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReceiptLine:
        return cls(
            name=d["name"],
            amount=_money(d["amount"]),
            qty=int(d.get("qty", 1)),
            unit_price=_opt_money(d.get("unit_price")),
            weight_g=d.get("weight_g"),
            price_per_kg=_opt_money(d.get("price_per_kg")),
        )


@dataclass(frozen=True, slots=True)
class Saving:
    """What one promotion took off, named in the receipt's language. ``amount`` is positive."""

    name: str
    amount: Money


@dataclass(frozen=True, slots=True)
class TaxLine:
    """Tax included at one rate (basis points, 1300 = 13 %)."""

    rate_bp: int
    net: Money
    tax: Money


@dataclass(frozen=True, slots=True)
class Payment:
    method: PaymentMethod
    amount: Money
    reference: str = ""  # last digits of a card, a wallet transaction id ...


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """The member on the sale, already masked for print (see :func:`mask_member_id`)."""

    masked_id: str
    points_earned: int = 0
    points_balance: int | None = None

    @classmethod
    def from_raw(cls, raw_id: str, points_earned: int = 0, points_balance: int | None = None) -> MemberInfo:
        return cls(mask_member_id(raw_id), points_earned, points_balance)


@dataclass(frozen=True, slots=True)
class Approval:
    """An attendant approval on the sale (age check, weight override, void...)."""

    reason: str
    attendant: str


@dataclass(frozen=True, slots=True)
class ReceiptData:
    """Everything a printed receipt shows. ``timestamp`` is printed as given (pass shop-local
    time). All money is in one currency."""

    shop: ShopHeader
    kiosk_id: str
    lane: str
    sale_id: str
    seq: int
    timestamp: datetime
    language: str
    lines: tuple[ReceiptLine, ...]
    subtotal: Money
    total: Money
    savings: tuple[Saving, ...] = ()
    total_savings: Money | None = None
    taxes: tuple[TaxLine, ...] = ()
    payments: tuple[Payment, ...] = ()
    change: Money | None = None
    member: MemberInfo | None = None
    approvals: tuple[Approval, ...] = ()
    footer: str = ""
    e_receipt_url: str = ""
    locale: str = field(default="")

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ReceiptError(f"receipt language must be one of {LANGUAGES}, not {self.language!r}")
        if not self.sale_id:
            raise ReceiptError("a receipt needs a sale id")
        for name in ("lines", "savings", "taxes", "payments", "approvals"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        cur = self.total.currency
        amounts = [self.subtotal, *(line.amount for line in self.lines), *(s.amount for s in self.savings),
                   *(p.amount for p in self.payments), *(t.tax for t in self.taxes)]
        if self.change is not None:
            amounts.append(self.change)
        if self.total_savings is not None:
            amounts.append(self.total_savings)
        if any(m.currency != cur for m in amounts):
            raise ReceiptError(f"sale {self.sale_id}: every amount on a receipt is in {cur}")
        if not self.locale:
            object.__setattr__(self, "locale", "zh_CN" if self.language == "zh" else "en")

    @property
    def currency(self) -> str:
        return self.total.currency

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-able form (for the spool)."""
        return {
            "shop": {
                "name_en": self.shop.name_en,
                "name_zh": self.shop.name_zh,
                "address": self.shop.address,
                "phone": self.shop.phone,
                "tax_id": self.shop.tax_id,
            },
            "kiosk_id": self.kiosk_id,
            "lane": self.lane,
            "sale_id": self.sale_id,
            "seq": self.seq,
            "timestamp": self.timestamp.isoformat(),
            "language": self.language,
            "lines": [line.to_dict() for line in self.lines],
            "subtotal": _m(self.subtotal),
            "total": _m(self.total),
            "savings": [{"name": s.name, "amount": _m(s.amount)} for s in self.savings],
            "total_savings": None if self.total_savings is None else _m(self.total_savings),
            "taxes": [{"rate_bp": t.rate_bp, "net": _m(t.net), "tax": _m(t.tax)} for t in self.taxes],
            "payments": [
                {"method": p.method.value, "amount": _m(p.amount), "reference": p.reference}
                for p in self.payments
            ],
            "change": None if self.change is None else _m(self.change),
            "member": None
            if self.member is None
            else {
                "masked_id": self.member.masked_id,
                "points_earned": self.member.points_earned,
                "points_balance": self.member.points_balance,
            },
            "approvals": [{"reason": a.reason, "attendant": a.attendant} for a in self.approvals],
            "footer": self.footer,
            "e_receipt_url": self.e_receipt_url,
            "locale": self.locale,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReceiptData:
        try:
            member = d.get("member")
            return cls(
                shop=ShopHeader(**d["shop"]),
                kiosk_id=d["kiosk_id"],
                lane=d["lane"],
                sale_id=d["sale_id"],
                seq=int(d["seq"]),
                timestamp=datetime.fromisoformat(d["timestamp"]),
                language=d["language"],
                lines=tuple(ReceiptLine.from_dict(x) for x in d["lines"]),
                subtotal=_money(d["subtotal"]),
                total=_money(d["total"]),
                savings=tuple(Saving(s["name"], _money(s["amount"])) for s in d.get("savings", ())),
                total_savings=_opt_money(d.get("total_savings")),
                taxes=tuple(
                    TaxLine(int(t["rate_bp"]), _money(t["net"]), _money(t["tax"])) for t in d.get("taxes", ())
                ),
                payments=tuple(
                    Payment(PaymentMethod(p["method"]), _money(p["amount"]), p.get("reference", ""))
                    for p in d.get("payments", ())
                ),
                change=_opt_money(d.get("change")),
                member=None if member is None else MemberInfo(**member),
                approvals=tuple(Approval(a["reason"], a["attendant"]) for a in d.get("approvals", ())),
                footer=d.get("footer", ""),
                e_receipt_url=d.get("e_receipt_url", ""),
                locale=d.get("locale", ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ReceiptError):
                raise
            raise ReceiptError(f"not a receipt document: {exc}") from exc
