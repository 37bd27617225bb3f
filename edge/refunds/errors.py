"""Typed errors of the edge refunds component: one root, each also the builtin it resembles."""

from __future__ import annotations

from edge.errors import EdgeError

__all__ = [
    "InvalidRefundError",
    "OverRefundError",
    "RefundConflictError",
    "RefundError",
    "RefundPermissionError",
    "RefundsClosedError",
    "SaleNotFoundError",
    "UnknownRefundError",
]


class RefundError(EdgeError):
    """Root of every error raised by :mod:`edge.refunds`."""


class RefundsClosedError(RefundError, RuntimeError):
    """The refund service was used after ``close()``."""


class SaleNotFoundError(RefundError, LookupError):
    """No sale matches the receipt code (or more than one does)."""


class UnknownRefundError(RefundError, LookupError):
    """No refund has this id."""


class InvalidRefundError(RefundError, ValueError):
    """The refund request breaks a rule (unknown line, bad quantity, no member, ...)."""


class OverRefundError(InvalidRefundError):
    """The refund would return more than was sold, or more than a payment method took."""


class RefundConflictError(RefundError, ValueError):
    """A refund id was reused with another request; the first refund stands."""


class RefundPermissionError(RefundError, PermissionError):
    """The staff member's role may not refund (``refunds.create``)."""
