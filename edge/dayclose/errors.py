"""Typed errors of the edge day close: one root, each also the builtin it resembles."""

from __future__ import annotations

from edge.errors import EdgeError

__all__ = ["DayCloseClosedError", "DayCloseError", "InvalidDayError"]


class DayCloseError(EdgeError):
    """Root of every error raised by :mod:`edge.dayclose`."""


class DayCloseClosedError(DayCloseError, RuntimeError):
    """The day-close service was used after ``close()``."""


class InvalidDayError(DayCloseError, ValueError):
    """A business date that cannot be closed (in the future, malformed)."""
