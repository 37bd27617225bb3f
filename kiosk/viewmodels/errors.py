"""Typed errors of the kiosk's view-models (below :class:`kiosk.errors.KioskError`)."""

from __future__ import annotations

from kiosk.errors import KioskError

__all__ = ["UnknownLanguageError", "UnknownMessageError", "ViewModelError"]


class ViewModelError(KioskError):
    """Root of the errors raised by :mod:`kiosk.viewmodels`."""


class UnknownLanguageError(ViewModelError, ValueError):
    """A language code the message catalogue does not have."""


class UnknownMessageError(ViewModelError, KeyError):
    """A message key that the catalogue does not define."""


class InvalidLineError(ViewModelError, ValueError):
    """A basket line pushed into the scan view-model is not valid."""
