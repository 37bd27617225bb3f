"""Typed errors of the edge node: one root, each also the builtin it resembles."""

from __future__ import annotations

__all__ = ["EdgeConfigError", "EdgeError", "LedgerClosedError", "LedgerError", "LedgerSchemaError"]


class EdgeError(Exception):
    """Root of every error raised by :mod:`edge`."""


class EdgeConfigError(EdgeError, ValueError):
    """An edge setting is not valid."""


class LedgerError(EdgeError, RuntimeError):
    """The store ledger could not do what was asked."""


class LedgerClosedError(LedgerError):
    """The ledger was used after ``close()``."""


class LedgerSchemaError(LedgerError):
    """The ledger file was written by a newer version of the software."""
