"""Typed errors of the edge promotions component: one root, each also the builtin it resembles."""

from __future__ import annotations

from edge.errors import EdgeError

__all__ = [
    "CouponError",
    "CouponRejectedError",
    "InvalidPromotionDefinitionError",
    "PromotionsClosedError",
    "PromotionsError",
    "UnknownCouponError",
    "UnknownPromotionError",
]


class PromotionsError(EdgeError):
    """Root of every error raised by :mod:`edge.promotions`."""


class PromotionsClosedError(PromotionsError, RuntimeError):
    """The promotion store was used after ``close()``."""


class InvalidPromotionDefinitionError(PromotionsError, ValueError):
    """A promotion (or a set of them) does not validate, e.g. it names an unknown SKU or
    category of the catalogue; the message says which."""


class UnknownPromotionError(PromotionsError, LookupError):
    """No promotion has this id."""


class CouponError(PromotionsError, ValueError):
    """A coupon definition breaks a rule."""


class UnknownCouponError(CouponError, LookupError):
    """No coupon has this code."""


class CouponRejectedError(CouponError):
    """A coupon cannot be used now (expired, used up, inactive); ``reason`` says which."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"coupon {code}: {reason}")
        self.code = code
        self.reason = reason
