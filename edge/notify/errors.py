"""Typed errors of member notifications: one root, each also the builtin it resembles."""

from __future__ import annotations

from edge.errors import EdgeError

__all__ = ["DeliveryError", "NotifyError", "PermanentDeliveryError", "TemporaryDeliveryError", "TemplateError"]


class NotifyError(EdgeError):
    """Root of every error raised by :mod:`edge.notify`."""


class TemplateError(NotifyError, ValueError):
    """A message kind or language that has no template, or missing template values."""


class DeliveryError(NotifyError, ConnectionError):
    """A message could not be handed to the mail server."""


class TemporaryDeliveryError(DeliveryError):
    """Worth retrying later: server away, 4xx answer, timeout."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: 5xx answer, address refused."""
