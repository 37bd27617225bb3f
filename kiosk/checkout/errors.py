"""Typed errors of the checkout engine; one root below :class:`kiosk.errors.KioskError`."""

from __future__ import annotations

from kiosk.errors import KioskError

__all__ = [
    "CheckoutError",
    "CheckoutInputError",
    "DirectoryUnavailableError",
    "IllegalEventError",
    "SuspendTokenError",
    "UnknownLineError",
    "WeightLearnerError",
]


class CheckoutError(KioskError):
    """Root of every error raised by :mod:`kiosk.checkout`."""


class IllegalEventError(CheckoutError, RuntimeError):
    """An event the current state does not accept (and that is not a touch that may race)."""


class CheckoutInputError(CheckoutError, ValueError):
    """An event carries a value the engine cannot use (quantity 0, negative price, ...)."""


class UnknownLineError(CheckoutError, LookupError):
    """No active basket line with that id."""


class SuspendTokenError(CheckoutError, ValueError):
    """A suspended-basket token that is malformed, forged, expired or from another store."""


class DirectoryUnavailableError(CheckoutError, ConnectionError):
    """A member or staff directory cannot answer now (the edge is out of reach)."""


class WeightLearnerError(CheckoutError, ValueError):
    """A weight learner setting or observation that makes no sense."""
