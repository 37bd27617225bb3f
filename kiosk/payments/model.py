"""Payment values shared by the ports, the simulators and the checkout engine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum

from kiosk.payments.errors import PaymentRequestError
from retail.money import Money

__all__ = [
    "PaymentOutcome",
    "PaymentRequest",
    "PaymentResult",
    "QrPayment",
    "Tender",
    "new_payment_id",
]


class Tender(str, Enum):
    """How a part of a sale is paid."""

    CARD = "card"
    MOBILE_QR = "mobile_qr"  # WeChat Pay / Alipay style: the shopper scans a QR with a phone
    STORED_VALUE = "stored_value"
    POINTS = "points"
    CASH = "cash"


class PaymentOutcome(str, Enum):
    APPROVED = "approved"
    DECLINED = "declined"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"

    @property
    def final_success(self) -> bool:
        return self is PaymentOutcome.APPROVED


def new_payment_id() -> str:
    """A fresh payment id (UUID4 text)."""
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """Ask a terminal or gateway to take ``amount`` for ``sale_id``; ``payment_id`` is the
    idempotency key: a provider reports each payment id's result once, and the engine ignores
    repeats."""

    payment_id: str
    sale_id: str
    amount: Money
    provider: str = ""  # "wechat", "alipay", ... for a gateway; empty for a card terminal

    def __post_init__(self) -> None:
        if not self.payment_id:
            raise PaymentRequestError("a payment request needs a payment_id")
        if not isinstance(self.amount, Money) or self.amount.minor <= 0:
            raise PaymentRequestError(f"a payment amount is positive Money, not {self.amount!r}")


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What a provider reports for one payment id."""

    payment_id: str
    outcome: PaymentOutcome
    amount: Money
    reference: str = ""  # the provider's authorisation / transaction reference
    detail: str = ""


@dataclass(frozen=True, slots=True)
class QrPayment:
    """A mobile payment waiting for the shopper: show ``payload`` as a QR code."""

    payment_id: str
    provider: str
    payload: str
