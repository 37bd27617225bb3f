"""Typed errors of the kiosk's Kivy UI (below :class:`kiosk.errors.KioskError`)."""

from __future__ import annotations

from kiosk.errors import KioskError

__all__ = ["FontError", "UiError", "UiSettingsError"]


class UiError(KioskError):
    """Root of the errors raised by :mod:`kiosk.ui`."""


class FontError(UiError, OSError):
    """A font the screens need is missing or unreadable."""


class UiSettingsError(UiError, ValueError):
    """A display setting is not valid, or came too late (after Kivy was imported)."""
