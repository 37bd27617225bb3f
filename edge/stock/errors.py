"""Typed errors of the edge stock component: one root, each also the builtin it resembles."""

from __future__ import annotations

from edge.errors import EdgeError

__all__ = [
    "InvalidMoveError",
    "OrderStateError",
    "OverReceiptError",
    "StockClosedError",
    "StockError",
    "StocktakeStateError",
    "TransferConflictError",
    "UnknownOrderError",
    "UnknownRecordError",
    "UnknownStocktakeError",
    "UnknownSupplierError",
    "UnknownTransferError",
]


class StockError(EdgeError):
    """Root of every error raised by :mod:`edge.stock`."""


class StockClosedError(StockError, RuntimeError):
    """The stock service was used after ``close()``."""


class InvalidMoveError(StockError, ValueError):
    """A stock move, quantity or rule that is not valid."""


class UnknownRecordError(StockError, LookupError):
    """A supplier, order, stocktake, transfer or product that does not exist."""


class UnknownSupplierError(UnknownRecordError):
    """No supplier with that id."""


class UnknownOrderError(UnknownRecordError):
    """No purchase order with that id."""


class UnknownStocktakeError(UnknownRecordError):
    """No stocktake with that id."""


class UnknownTransferError(UnknownRecordError):
    """No transfer with that id."""


class OrderStateError(StockError, ValueError):
    """A purchase order cannot do that in its present status."""


class OverReceiptError(InvalidMoveError):
    """More was received than the purchase order has outstanding, or a line not on it."""


class StocktakeStateError(StockError, ValueError):
    """A stocktake cannot do that in its present status."""


class TransferConflictError(StockError, ValueError):
    """The same incoming transfer was announced twice with different lines."""
