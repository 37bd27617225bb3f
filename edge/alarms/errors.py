"""Typed errors of the alarm engine. All derive from :class:`AlarmError`, itself an
:class:`edge.errors.EdgeError`; each also inherits the builtin it resembles."""

from __future__ import annotations

from edge.errors import EdgeError

__all__ = [
    "AlarmConfigError",
    "AlarmError",
    "AlarmNotFoundError",
    "AlarmRequestError",
    "AlarmStateError",
    "AlarmStoreClosedError",
    "AlarmStoreError",
    "AlarmStoreSchemaError",
    "NotifyError",
]


class AlarmError(EdgeError):
    """Root of every error raised by :mod:`edge.alarms`."""


class AlarmConfigError(AlarmError, ValueError):
    """An alarm rule or setting is not valid."""


class AlarmNotFoundError(AlarmError, KeyError):
    """No open alarm (or silence, or maintenance window) has that id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class AlarmRequestError(AlarmError, ValueError):
    """A request to the engine is malformed (no name of who acknowledges, an end in the past)."""


class AlarmStateError(AlarmError, RuntimeError):
    """The alarm is not in a state that allows what was asked (e.g. acknowledging a pending one)."""


class AlarmStoreError(AlarmError, RuntimeError):
    """The alarm store could not do what was asked."""


class AlarmStoreClosedError(AlarmStoreError):
    """The alarm store was used after ``close()``."""


class AlarmStoreSchemaError(AlarmStoreError):
    """The alarm store file was written by a newer version of the software."""


class NotifyError(AlarmError, OSError):
    """A notification could not be delivered."""
