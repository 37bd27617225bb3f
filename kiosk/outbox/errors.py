"""Errors of the sale journal, under the kiosk's root error."""

from __future__ import annotations

from kiosk.errors import KioskError

__all__ = ["OutboxClosedError", "OutboxError", "OutboxIdentityError", "OutboxSchemaError"]


class OutboxError(KioskError):
    """The sale journal could not do what was asked."""


class OutboxClosedError(OutboxError, RuntimeError):
    """The journal was used after :meth:`SaleOutbox.close`."""


class OutboxIdentityError(OutboxError, ValueError):
    """The journal belongs to another kiosk or store, or a sale names another kiosk."""


class OutboxSchemaError(OutboxError, RuntimeError):
    """The journal file was written by a newer version of the software."""
