"""Typed errors of the retail domain; one root, each also the builtin it resembles."""

from __future__ import annotations


class RetailError(Exception):
    """Root of every error raised by :mod:`retail`."""


class MoneyError(RetailError, ValueError):
    """A monetary amount or operation is not valid."""


class CurrencyMismatchError(MoneyError, TypeError):
    """Two amounts in different currencies were combined."""


class UnknownCurrencyError(MoneyError):
    """A currency code that the domain does not know."""


class InsufficientTenderError(MoneyError):
    """The amount tendered does not cover the amount due."""


class BarcodeError(RetailError, ValueError):
    """A barcode or GS1 element string is malformed."""


class InvalidCheckDigitError(BarcodeError):
    """The check digit of a GTIN does not match its body."""


class UnknownPrefixLayoutError(BarcodeError):
    """A variable-measure code whose prefix has no configured layout."""


class CatalogueError(RetailError, ValueError):
    """A catalogue item is not valid."""


class BasketError(RetailError, ValueError):
    """A basket operation is not valid (negative quantity, unknown line, ...)."""


class PromotionError(RetailError, ValueError):
    """A promotion is not valid (references an unknown item, impossible rule, ...)."""


class LoyaltyError(RetailError, ValueError):
    """A loyalty operation is not valid (not enough points, balance too low, ...)."""
