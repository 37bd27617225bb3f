"""Payments at the kiosk: the card terminal and mobile-QR gateway ports, their simulators and
the values the checkout engine exchanges with them."""

from kiosk.payments.errors import PaymentClosedError, PaymentError, PaymentRequestError, UnknownPaymentError
from kiosk.payments.model import PaymentOutcome, PaymentRequest, PaymentResult, QrPayment, Tender, new_payment_id
from kiosk.payments.ports import PaymentGateway, PaymentTerminal, ResultCallback
from kiosk.payments.simulated import SimulatedPaymentGateway, SimulatedPaymentTerminal

__all__ = [
    "PaymentClosedError",
    "PaymentError",
    "PaymentGateway",
    "PaymentOutcome",
    "PaymentRequest",
    "PaymentRequestError",
    "PaymentResult",
    "PaymentTerminal",
    "QrPayment",
    "ResultCallback",
    "SimulatedPaymentGateway",
    "SimulatedPaymentTerminal",
    "Tender",
    "new_payment_id",
]
