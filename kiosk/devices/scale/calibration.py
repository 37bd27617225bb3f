"""Scale calibration: the zero offset and the span (counts per gram), and the two procedures
that measure them. Pure apart from the scale it is handed."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from kiosk.devices.scale.errors import ScaleCalibrationError

__all__ = [
    "CalibratableScale",
    "CalibrationStore",
    "ScaleCalibration",
    "calibrate_span",
    "calibrate_zero",
]

log = logging.getLogger(__name__)

#: A span measured from fewer counts than this is noise, not a load.
MIN_SPAN_COUNTS = 100


@dataclass(frozen=True, slots=True)
class ScaleCalibration:
    """``grams = (raw - zero_offset) / counts_per_gram``.

    ``zero_offset`` is the converter's raw count with the platter empty; ``counts_per_gram``
    may be negative (a load cell wired the other way round) but never zero.
    """

    zero_offset: int = 0
    counts_per_gram: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.zero_offset, bool) or not isinstance(self.zero_offset, int):
            raise ScaleCalibrationError(f"zero_offset must be an integer count, not {self.zero_offset!r}")
        if isinstance(self.counts_per_gram, bool) or not isinstance(self.counts_per_gram, (int, float)):
            raise ScaleCalibrationError(f"counts_per_gram must be a number, not {self.counts_per_gram!r}")
        if not math.isfinite(self.counts_per_gram) or self.counts_per_gram == 0:
            raise ScaleCalibrationError(f"counts_per_gram must be finite and non-zero, not {self.counts_per_gram!r}")
        if not -0x800000 <= self.zero_offset <= 0x7FFFFF:
            raise ScaleCalibrationError(f"zero_offset {self.zero_offset} is outside the 24-bit range")

    def grams(self, raw: float) -> float:
        return (raw - self.zero_offset) / self.counts_per_gram

    def counts(self, grams: float) -> float:
        return self.zero_offset + grams * self.counts_per_gram

    def to_dict(self) -> dict[str, Any]:
        return {"zero_offset": self.zero_offset, "counts_per_gram": float(self.counts_per_gram)}

    @classmethod
    def from_dict(cls, data: Any) -> ScaleCalibration:
        if not isinstance(data, dict):
            raise ScaleCalibrationError(f"a scale calibration must be a mapping, not {data!r}")
        try:
            return cls(zero_offset=data["zero_offset"], counts_per_gram=data["counts_per_gram"])
        except KeyError as exc:
            raise ScaleCalibrationError(f"scale calibration lacks {exc.args[0]!r}") from None


@runtime_checkable
class CalibratableScale(Protocol):
    """What the calibration procedures need from a scale."""

    name: str

    @property
    def calibration(self) -> ScaleCalibration: ...

    def set_calibration(self, calibration: ScaleCalibration) -> None: ...

    def raw_average(self) -> float:
        """Mean raw count over the stable window; raises ScaleUnstableError if still moving."""
        ...


class CalibrationStore(Protocol):
    """Where calibrations are kept (the device profile)."""

    def set_scale_calibration(self, name: str, calibration: ScaleCalibration) -> None: ...


def calibrate_zero(scale: CalibratableScale, *, store: CalibrationStore | None = None) -> ScaleCalibration:
    """Take the empty platter's settled raw count as the zero offset (span kept).

    Applies the result to ``scale`` and, if given, saves it in ``store`` under the scale's
    name. Raises :class:`~kiosk.devices.scale.errors.ScaleUnstableError` if the weight moves.
    """
    raw = scale.raw_average()
    cal = ScaleCalibration(zero_offset=round(raw), counts_per_gram=scale.calibration.counts_per_gram)
    scale.set_calibration(cal)
    if store is not None:
        store.set_scale_calibration(scale.name, cal)
    log.info("scale %s zero calibrated: offset %d", scale.name, cal.zero_offset)
    return cal


def calibrate_span(
    scale: CalibratableScale, known_grams: float, *, store: CalibrationStore | None = None
) -> ScaleCalibration:
    """With ``known_grams`` on the (zero-calibrated) platter, set counts per gram from the
    settled raw count. Applies to ``scale`` and saves to ``store`` like :func:`calibrate_zero`."""
    if isinstance(known_grams, bool) or not isinstance(known_grams, (int, float)) or not known_grams > 0:
        raise ScaleCalibrationError(f"the known mass must be a positive number of grams, not {known_grams!r}")
    zero = scale.calibration.zero_offset
    raw = scale.raw_average()
    span = raw - zero
    if abs(span) < MIN_SPAN_COUNTS:
        raise ScaleCalibrationError(
            f"{known_grams} g moved the reading by only {span:.0f} counts: is the mass on the platter?"
        )
    cal = ScaleCalibration(zero_offset=zero, counts_per_gram=span / known_grams)
    scale.set_calibration(cal)
    if store is not None:
        store.set_scale_calibration(scale.name, cal)
    log.info("scale %s span calibrated: %.4f counts/g", scale.name, cal.counts_per_gram)
    return cal
