"""The scanner's typed errors, below :class:`kiosk.errors.DeviceError`."""

from __future__ import annotations

from kiosk.errors import DeviceConfigError, DeviceError

__all__ = ["FrameSourceUnavailableError", "ScannerConfigError", "ScannerError"]


class ScannerError(DeviceError):
    """Root of the barcode scanner's errors."""


class FrameSourceUnavailableError(ScannerError, OSError):
    """A camera, video file or image folder cannot be opened or read."""


class ScannerConfigError(DeviceConfigError, ScannerError):
    """A scanner setting is not valid (agreement count, frame rate, folder, ...)."""
