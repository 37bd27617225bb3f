"""Typed errors of the receipt document (below the kiosk root)."""

from __future__ import annotations

from kiosk.errors import KioskError


class ReceiptError(KioskError, ValueError):
    """A receipt document is not valid (unknown language, mixed currencies, bad width...)."""
