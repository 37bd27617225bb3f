"""Errors raised by the scales and their HX711 converter (all below :class:`kiosk.errors.DeviceError`)."""

from __future__ import annotations

from kiosk.errors import DeviceConfigError, DeviceError, DeviceTimeoutError

__all__ = [
    "Hx711Error",
    "Hx711NotReadyError",
    "ScaleCalibrationError",
    "ScaleError",
    "ScaleNotReadyError",
    "ScaleUnstableError",
    "ScaleZeroRangeError",
]


class ScaleError(DeviceError):
    """Root of the scale errors."""


class Hx711Error(ScaleError):
    """The HX711 converter misbehaved."""


class Hx711NotReadyError(Hx711Error, DeviceTimeoutError):
    """DOUT did not go low (conversion ready) within the ready timeout: chip absent,
    unpowered, powered down or its data line broken."""


class ScaleNotReadyError(ScaleError, RuntimeError):
    """The scale has no reading yet (or its converter stopped answering)."""


class ScaleUnstableError(ScaleError, RuntimeError):
    """An operation that needs a settled weight (tare, zero, calibration) was asked for
    while the weight was still moving."""


class ScaleZeroRangeError(ScaleError, ValueError):
    """Zeroing was asked for with more on the platter than the zero range allows."""


class ScaleCalibrationError(ScaleError, DeviceConfigError):
    """A calibration is not usable (zero span, non-finite factor, known mass not positive)."""
