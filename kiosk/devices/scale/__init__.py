"""Weighing: the HX711 converter driver and its simulator, the ``Scale`` port with its HX711
adapter and simulator, and calibration. See :mod:`kiosk.devices.scale.scale`."""

from kiosk.devices.scale.calibration import ScaleCalibration, calibrate_span, calibrate_zero
from kiosk.devices.scale.errors import (
    Hx711Error,
    Hx711NotReadyError,
    ScaleCalibrationError,
    ScaleError,
    ScaleNotReadyError,
    ScaleUnstableError,
    ScaleZeroRangeError,
)
from kiosk.devices.scale.hx711 import Hx711
from kiosk.devices.scale.scale import Hx711Scale, Scale, ScaleState, SimulatedScale, WeightReading

__all__ = [
    "Hx711",
    "Hx711Error",
    "Hx711NotReadyError",
    "Hx711Scale",
    "Scale",
    "ScaleCalibration",
    "ScaleCalibrationError",
    "ScaleError",
    "ScaleNotReadyError",
    "ScaleState",
    "ScaleUnstableError",
    "ScaleZeroRangeError",
    "SimulatedScale",
    "WeightReading",
    "calibrate_span",
    "calibrate_zero",
]
