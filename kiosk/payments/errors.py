"""Typed errors of the payment ports; one root below :class:`kiosk.errors.KioskError`."""

from __future__ import annotations

from kiosk.errors import KioskError

__all__ = ["PaymentClosedError", "PaymentError", "PaymentRequestError", "UnknownPaymentError"]


class PaymentError(KioskError):
    """Root of every error raised by :mod:`kiosk.payments`."""


class PaymentRequestError(PaymentError, ValueError):
    """A payment request that cannot be started (non-positive amount, id already used)."""


class UnknownPaymentError(PaymentError, LookupError):
    """No pending payment with that id."""


class PaymentClosedError(PaymentError, RuntimeError):
    """The terminal or gateway was closed."""
