"""Typed errors of the store bus tooling: one root, each also the builtin it resembles."""

from __future__ import annotations

__all__ = [
    "BrokerError",
    "BrokerConfigError",
    "BrokerStartError",
    "BrokerNotRunningError",
    "CredentialsError",
    "UnknownDeviceError",
    "CertificateError",
]


class BrokerError(Exception):
    """Root of every error raised by :mod:`broker` tooling."""


class BrokerConfigError(BrokerError, ValueError):
    """A broker setting is not valid (bad store id, port, limit, path ...)."""


class BrokerStartError(BrokerError, RuntimeError):
    """Mosquitto did not start, or did not accept connections in time.

    ``log_tail`` holds the last lines Mosquitto wrote (log file and stderr).
    """

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(f"{message}\n--- mosquitto log tail ---\n{log_tail}" if log_tail else message)
        self.log_tail = log_tail


class BrokerNotRunningError(BrokerError, RuntimeError):
    """An operation needs a running broker and there is none."""


class CredentialsError(BrokerError, ValueError):
    """A device credential is not valid (bad kiosk id, corrupt registry ...)."""


class UnknownDeviceError(CredentialsError, KeyError):
    """No device with that name is enrolled."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class CertificateError(BrokerError, ValueError):
    """A certificate or key of the store CA is missing or not valid."""
