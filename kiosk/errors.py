"""The kiosk's typed errors: one root, device errors below it."""

from __future__ import annotations


class KioskError(Exception):
    """Root of every error raised by :mod:`kiosk`."""


class DeviceError(KioskError):
    """A device failed or answered something it should not."""


class DeviceTimeoutError(DeviceError, TimeoutError):
    """A device did not answer in time."""


class DeviceConfigError(KioskError, ValueError):
    """A device setting or profile entry is not valid."""
