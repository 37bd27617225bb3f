"""Typed errors of the edge expenses component: one root, each also the builtin it resembles."""

from __future__ import annotations

from edge.errors import EdgeError

__all__ = ["ExpensesClosedError", "ExpensesError", "InvalidExpenseError", "UnknownExpenseError"]


class ExpensesError(EdgeError):
    """Root of every error raised by :mod:`edge.expenses`."""


class ExpensesClosedError(ExpensesError, RuntimeError):
    """The expense store was used after ``close()``."""


class InvalidExpenseError(ExpensesError, ValueError):
    """An expense breaks a rule (unknown category, amount not positive, other currency...)."""


class UnknownExpenseError(ExpensesError, LookupError):
    """No expense has this id."""
