"""Typed errors of the receipt printer, below :class:`kiosk.errors.DeviceError`."""

from __future__ import annotations

from kiosk.errors import DeviceConfigError, DeviceError


class PrinterError(DeviceError):
    """The receipt printer failed."""


class PrinterOfflineError(PrinterError, ConnectionError):
    """The printer is unplugged, switched off or does not answer."""


class PrinterNotReadyError(PrinterError, RuntimeError):
    """The printer is there but cannot print now (paper out, cover open)."""


class PaperOutError(PrinterNotReadyError):
    """The paper roll is empty."""


class CoverOpenError(PrinterNotReadyError):
    """The paper cover is open."""


class PrinterConfigError(DeviceConfigError):
    """A printer setting is not valid, or its connection library is not installed."""


class SpoolError(PrinterError, OSError):
    """The receipt spool could not be read or written."""


class ReceiptNotFoundError(PrinterError, KeyError):
    """No receipt with that sale id is in the spool."""
