"""The ``Scale`` port, its HX711 adapter and its simulator.

A scale turns raw converter counts into grams (zero offset and span from its
:class:`~kiosk.devices.scale.calibration.ScaleCalibration`, minus zero adjustment and tare),
rounds to its resolution (1, 2, 5 g ...), says whether the weight has settled (enough
readings within a band over a window on the injected clock) and classifies it:

* ``overload``  — gross above capacity + 9 divisions, or the converter saturated high;
* ``underload`` — gross below ``-underload_g`` (platter lifted or knocked), or saturated low;
* ``negative``  — net below zero (a tared container taken away);
* ``not_ready`` — no fresh reading (converter not answering);
* ``ok``        — otherwise.

The kiosk has two scales, the produce scale and the bagging-area security scale: two
instances of the same classes, configured separately (pins, capacity, resolution).

Callbacks registered with ``on_change`` run on the thread that produced the reading (the
HX711 reader thread when started); a UI hands them over to its own thread.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from kiosk.devices.health import DeviceHealth, DeviceStatus
from kiosk.devices.scale.calibration import ScaleCalibration
from kiosk.devices.scale.errors import (
    Hx711NotReadyError,
    ScaleNotReadyError,
    ScaleUnstableError,
    ScaleZeroRangeError,
)
from kiosk.devices.scale.hx711 import RAW_MAX, RAW_MIN
from kiosk.errors import DeviceConfigError, DeviceError
from retail.clock import Clock, SystemClock

__all__ = [
    "Hx711Scale",
    "RawSource",
    "Scale",
    "ScaleState",
    "SimulatedScale",
    "StabilityDetector",
    "WeightReading",
    "classify_weight",
    "round_to_resolution",
]

log = logging.getLogger(__name__)


class ScaleState(str, Enum):
    OK = "ok"
    OVERLOAD = "overload"
    UNDERLOAD = "underload"
    NEGATIVE = "negative"
    NOT_READY = "not_ready"


@dataclass(frozen=True, slots=True)
class WeightReading:
    """Net weight in grams (rounded to the scale's resolution), whether it has settled, and
    the scale's state. Only an ``ok`` and ``stable`` reading may be sold by weight."""

    grams: int
    stable: bool
    state: ScaleState

    @property
    def usable(self) -> bool:
        return self.stable and self.state is ScaleState.OK


NOT_READY = WeightReading(0, False, ScaleState.NOT_READY)


# -- pure logic ----------------------------------------------------------------------------


def round_to_resolution(grams: float, resolution_g: int) -> int:
    """Nearest multiple of ``resolution_g`` (halves go up): 122 → 120, 123 → 125 at 5 g."""
    if resolution_g < 1:
        raise DeviceConfigError("resolution must be at least 1 g")
    return int(math.floor(grams / resolution_g + 0.5)) * resolution_g


def classify_weight(
    gross_g: float,
    net_g: float,
    *,
    capacity_g: int,
    resolution_g: int,
    underload_g: float,
    saturated: int = 0,
) -> ScaleState:
    """The state of a weight; ``saturated`` is +1/-1 when the converter hit its limit."""
    if saturated > 0 or gross_g > capacity_g + 9 * resolution_g:
        return ScaleState.OVERLOAD
    if saturated < 0 or gross_g < -underload_g:
        return ScaleState.UNDERLOAD
    if round_to_resolution(net_g, resolution_g) < 0:
        return ScaleState.NEGATIVE
    return ScaleState.OK


class StabilityDetector:
    """Stable when at least ``min_readings`` readings in the last ``window_s`` seconds all lie
    within ``band_g`` of each other."""

    def __init__(self, *, window_s: float, min_readings: int, band_g: float) -> None:
        if window_s <= 0 or min_readings < 2 or band_g < 0:
            raise DeviceConfigError("stability needs a positive window, two readings or more, a band >= 0")
        self.window_s = window_s
        self.min_readings = min_readings
        self.band_g = band_g

    def window(self, samples: deque[tuple[float, float]], now: float) -> list[float]:
        return [g for t, g in samples if now - t <= self.window_s]

    def is_stable(self, samples: deque[tuple[float, float]], now: float) -> bool:
        values = self.window(samples, now)
        return len(values) >= self.min_readings and max(values) - min(values) <= self.band_g


# -- the port ------------------------------------------------------------------------------


@runtime_checkable
class Scale(Protocol):
    """A weighing scale as the checkout sees it."""

    name: str

    @property
    def capacity_g(self) -> int: ...

    @property
    def resolution_g(self) -> int: ...

    def weight(self) -> WeightReading:
        """The current reading (no I/O: what the last readings say)."""
        ...

    def update(self) -> WeightReading:
        """Take a reading now, fire ``on_change`` callbacks if it changed, return it."""
        ...

    def tare(self) -> None:
        """Subtract what is on the platter now (a container). Needs a settled weight."""
        ...

    def zero(self) -> None:
        """Set the empty-platter point to now (and clear the tare), within the zero range."""
        ...

    def on_change(self, callback: Callable[[WeightReading], None]) -> Callable[[], None]:
        """Call ``callback(reading)`` whenever grams, stability or state change; returns
        an unsubscribe function."""
        ...

    def health(self) -> DeviceHealth: ...

    def self_test(self) -> DeviceHealth: ...

    def close(self) -> None: ...


class RawSource(Protocol):
    """What :class:`Hx711Scale` needs from its converter (an :class:`~kiosk.devices.scale.hx711.Hx711`)."""

    def read_raw(self) -> int: ...

    def on_reading(self, callback: Callable[[int], None]) -> Callable[[], None]: ...

    def on_error(self, callback: Callable[[Exception], None]) -> Callable[[], None]: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


# -- shared behaviour of both implementations ----------------------------------------------


class _ScaleBase:
    """Tare, zero, states, callbacks and health, over samples of gross grams."""

    def __init__(
        self,
        *,
        name: str,
        capacity_g: int,
        resolution_g: int,
        clock: Clock | None,
        calibration: ScaleCalibration,
        stable_window_s: float,
        stable_readings: int,
        stable_band_g: float | None,
        zero_range_g: float | None,
        underload_g: float | None,
    ) -> None:
        if not isinstance(capacity_g, int) or capacity_g <= 0:
            raise DeviceConfigError(f"capacity must be a positive number of grams, not {capacity_g!r}")
        if not isinstance(resolution_g, int) or resolution_g < 1 or resolution_g > capacity_g:
            raise DeviceConfigError(f"resolution must be a whole number of grams >= 1, not {resolution_g!r}")
        self.name = name
        self._capacity_g = capacity_g
        self._resolution_g = resolution_g
        self._clock: Clock = clock or SystemClock()
        self._calibration = calibration
        self._stability = StabilityDetector(
            window_s=stable_window_s,
            min_readings=stable_readings,
            band_g=resolution_g if stable_band_g is None else stable_band_g,
        )
        self.zero_range_g = 0.04 * capacity_g if zero_range_g is None else zero_range_g
        self.underload_g = 20 * resolution_g if underload_g is None else underload_g
        self._lock = threading.RLock()
        self._zero_adjust_g = 0.0
        self._tare_g = 0.0
        self._listeners: list[Callable[[WeightReading], None]] = []
        self._last_emitted: WeightReading | None = None
        self._health = DeviceHealth(name, DeviceStatus.OK, self._clock.now())
        self._closed = False

    # properties ---------------------------------------------------------------------------

    @property
    def capacity_g(self) -> int:
        return self._capacity_g

    @property
    def resolution_g(self) -> int:
        return self._resolution_g

    @property
    def calibration(self) -> ScaleCalibration:
        return self._calibration

    def set_calibration(self, calibration: ScaleCalibration) -> None:
        with self._lock:
            self._calibration = calibration
            self._zero_adjust_g = 0.0
            self._tare_g = 0.0
        self._emit_if_changed()

    @property
    def tare_g(self) -> float:
        return self._tare_g

    # hooks for the implementations --------------------------------------------------------

    def _current_gross(self) -> tuple[float, bool, int] | None:
        """(gross grams, stable, saturated) or None when there is no fresh reading."""
        raise NotImplementedError

    # the port -----------------------------------------------------------------------------

    def weight(self) -> WeightReading:
        with self._lock:
            current = self._current_gross()
            if current is None:
                return NOT_READY
            gross, stable, saturated = current
            net = gross - self._tare_g
            state = classify_weight(
                gross,
                net,
                capacity_g=self._capacity_g,
                resolution_g=self._resolution_g,
                underload_g=self.underload_g,
                saturated=saturated,
            )
            return WeightReading(round_to_resolution(net, self._resolution_g), stable, state)

    def _settled_gross(self) -> float:
        current = self._current_gross()
        if current is None:
            raise ScaleNotReadyError(f"scale {self.name} has no reading")
        gross, stable, saturated = current
        if not stable or saturated:
            raise ScaleUnstableError(f"scale {self.name} has not settled")
        return gross

    def tare(self) -> None:
        with self._lock:
            gross = self._settled_gross()
            if gross > self._capacity_g:
                raise ScaleUnstableError(f"scale {self.name} is overloaded; cannot tare")
            self._tare_g = gross
            log.info("scale %s tared at %.1f g", self.name, gross)
        self._emit_if_changed()

    def clear_tare(self) -> None:
        with self._lock:
            self._tare_g = 0.0
        self._emit_if_changed()

    def zero(self) -> None:
        with self._lock:
            gross = self._settled_gross()
            total = gross + self._zero_adjust_g  # relative to the calibrated zero
            if abs(total) > self.zero_range_g:
                raise ScaleZeroRangeError(
                    f"scale {self.name}: {total:.0f} g is outside the zero range of ±{self.zero_range_g:.0f} g"
                )
            self._zero_adjust_g = total
            self._tare_g = 0.0
            log.info("scale %s zeroed (%.1f g from calibrated zero)", self.name, total)
        self._emit_if_changed()

    def on_change(self, callback: Callable[[WeightReading], None]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def _emit_if_changed(self) -> WeightReading:
        with self._lock:
            reading = self.weight()
            changed = reading != self._last_emitted
            self._last_emitted = reading
            listeners = list(self._listeners) if changed else []
        self._track_health(reading)
        for cb in listeners:
            try:
                cb(reading)
            except Exception:  # a listener's bug must not stop the scale
                log.exception("scale %s listener failed", self.name)
        return reading

    # health -------------------------------------------------------------------------------

    def _set_health(self, status: DeviceStatus, code: str = "", detail: str = "") -> DeviceHealth:
        with self._lock:
            old = self._health
            if old.status is status and old.code == code:
                return old
            self._health = DeviceHealth(self.name, status, self._clock.now(), code, detail)
        if status is DeviceStatus.OK:
            log.info("scale %s is ok again", self.name)
        else:
            log.warning("scale %s is %s: %s", self.name, status.value, detail or code)
        return self._health

    def _track_health(self, reading: WeightReading) -> None:
        if reading.state is ScaleState.NOT_READY:
            self._set_health(DeviceStatus.FAULT, "not_ready", "the scale's converter is not answering")
        elif reading.state in (ScaleState.OVERLOAD, ScaleState.UNDERLOAD):
            self._set_health(DeviceStatus.DEGRADED, reading.state.value, f"the scale reads {reading.state.value}")
        else:
            self._set_health(DeviceStatus.OK)

    def health(self) -> DeviceHealth:
        with self._lock:
            return self._health

    # lifetime -----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # type: ignore[attr-defined]


# -- the HX711 adapter ---------------------------------------------------------------------


class Hx711Scale(_ScaleBase):
    """A load cell on an HX711.

    Readings come either from :meth:`update` (one synchronous read, for polling loops and
    tests) or from the converter's background thread after :meth:`start`. The reported
    weight is the mean of the last ``average_readings`` readings; a reading older than
    ``stale_after_s`` on the injected clock counts as no reading.
    """

    def __init__(
        self,
        hx711: RawSource,
        calibration: ScaleCalibration,
        *,
        name: str = "scale",
        capacity_g: int,
        resolution_g: int = 1,
        clock: Clock | None = None,
        stable_window_s: float = 0.5,
        stable_readings: int = 4,
        stable_band_g: float | None = None,
        average_readings: int = 4,
        zero_range_g: float | None = None,
        underload_g: float | None = None,
        stale_after_s: float = 2.0,
        history: int = 64,
    ) -> None:
        super().__init__(
            name=name,
            capacity_g=capacity_g,
            resolution_g=resolution_g,
            clock=clock,
            calibration=calibration,
            stable_window_s=stable_window_s,
            stable_readings=stable_readings,
            stable_band_g=stable_band_g,
            zero_range_g=zero_range_g,
            underload_g=underload_g,
        )
        if average_readings < 1 or stale_after_s <= 0 or history < max(average_readings, stable_readings):
            raise DeviceConfigError("average_readings >= 1, stale_after_s > 0, history long enough")
        self._hx = hx711
        self.average_readings = average_readings
        self.stale_after_s = stale_after_s
        self._raw: deque[tuple[float, int]] = deque(maxlen=history)
        self._unsubscribe: list[Callable[[], None]] = []
        self._failing = False

    # readings -----------------------------------------------------------------------------

    def ingest_raw(self, raw: int) -> WeightReading:
        """Add one raw reading (timestamped now) and fire callbacks if the weight changed."""
        with self._lock:
            self._raw.append((self._clock.monotonic(), raw))
            self._failing = False
        return self._emit_if_changed()

    def _read_failed(self, exc: Exception) -> None:
        with self._lock:
            self._failing = True
            self._raw.clear()
        self._emit_if_changed()

    def update(self) -> WeightReading:
        try:
            raw = self._hx.read_raw()
        except Hx711NotReadyError as exc:
            self._read_failed(exc)
            return NOT_READY
        return self.ingest_raw(raw)

    def start(self) -> None:
        """Read continuously on the converter's background thread."""
        if not self._unsubscribe:
            self._unsubscribe = [self._hx.on_reading(self.ingest_raw), self._hx.on_error(self._read_failed)]
        self._hx.start()

    def stop(self) -> None:
        self._hx.stop()
        for unsub in self._unsubscribe:
            unsub()
        self._unsubscribe = []

    def _fresh(self, now: float) -> list[tuple[float, int]]:
        return [(t, r) for t, r in self._raw if now - t <= self.stale_after_s]

    def _current_gross(self) -> tuple[float, bool, int] | None:
        now = self._clock.monotonic()
        fresh = self._fresh(now)
        if self._failing or not fresh:
            return None
        cal = self._calibration
        recent = [r for _, r in fresh[-self.average_readings :]]
        gross = cal.grams(sum(recent) / len(recent)) - self._zero_adjust_g
        latest = recent[-1]
        saturated = 1 if latest >= RAW_MAX else -1 if latest <= RAW_MIN else 0
        if cal.counts_per_gram < 0:
            saturated = -saturated
        samples: deque[tuple[float, float]] = deque((t, cal.grams(r)) for t, r in fresh)
        stable = self._stability.is_stable(samples, now)
        return gross, stable, saturated

    def raw_average(self) -> float:
        """Mean raw count over the stable window (for calibration)."""
        with self._lock:
            now = self._clock.monotonic()
            current = self._current_gross()
            if current is None:
                raise ScaleNotReadyError(f"scale {self.name} has no reading")
            if not current[1]:
                raise ScaleUnstableError(f"scale {self.name} has not settled")
            window = [r for t, r in self._fresh(now) if now - t <= self._stability.window_s]
            return sum(window) / len(window)

    # health -------------------------------------------------------------------------------

    def health(self) -> DeviceHealth:
        with self._lock:
            if not self._failing and self._raw and not self._fresh(self._clock.monotonic()):
                self._set_health(DeviceStatus.FAULT, "no_readings", "no reading from the scale lately")
            return self._health

    def self_test(self, readings: int = 3) -> DeviceHealth:
        """Read the converter a few times: fault if it does not answer or saturates,
        degraded if it reads outside its range; ok otherwise."""
        values: list[int] = []
        try:
            for _ in range(readings):
                values.append(self._hx.read_raw())
        except Hx711NotReadyError as exc:
            return self._set_health(DeviceStatus.FAULT, "not_ready", f"self-test: {exc}")
        except DeviceError as exc:
            return self._set_health(DeviceStatus.FAULT, "error", f"self-test: {exc}")
        for value in values:
            self.ingest_raw(value)
        if any(v >= RAW_MAX or v <= RAW_MIN for v in values):
            return self._set_health(DeviceStatus.FAULT, "saturated", "the converter reads its limit: load cell wiring?")
        gross = self._calibration.grams(sum(values) / len(values)) - self._zero_adjust_g
        if gross > self._capacity_g + 9 * self._resolution_g or gross < -self.underload_g:
            return self._set_health(
                DeviceStatus.DEGRADED, "out_of_range", f"self-test read {gross:.0f} g: calibration or load cell?"
            )
        return self._set_health(DeviceStatus.OK)

    def close(self) -> None:
        """Stop reading and close the converter. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self.stop()
        finally:
            self._hx.close()


# -- the simulator -------------------------------------------------------------------------


class SimulatedScale(_ScaleBase):
    """Simulator of a scale for the UI, the demo and tests, with a person's verbs:
    ``place(grams)``, ``remove(grams)``, ``clear()``, ``make_unstable()``, ``settle()``,
    ``disconnect()``.

    The weight settles ``settle_s`` seconds (injected clock) after the last change. Behind
    it is a simulated converter (``true_offset`` + grams × ``true_counts_per_gram`` counts)
    read through the scale's calibration, so calibration works as on the real scale.
    """

    def __init__(
        self,
        *,
        name: str = "scale",
        capacity_g: int = 15000,
        resolution_g: int = 1,
        clock: Clock | None = None,
        settle_s: float = 0.3,
        true_offset: int = 8000,
        true_counts_per_gram: float = 420.0,
        calibration: ScaleCalibration | None = None,
        zero_range_g: float | None = None,
        underload_g: float | None = None,
    ) -> None:
        cal = calibration or ScaleCalibration(true_offset, true_counts_per_gram)
        super().__init__(
            name=name,
            capacity_g=capacity_g,
            resolution_g=resolution_g,
            clock=clock,
            calibration=cal,
            stable_window_s=max(settle_s, 0.01),
            stable_readings=2,
            stable_band_g=None,
            zero_range_g=zero_range_g,
            underload_g=underload_g,
        )
        self.settle_s = settle_s
        self.true_offset = true_offset
        self.true_counts_per_gram = true_counts_per_gram
        self._load_g = 0.0
        self._changed_at = self._clock.monotonic() - settle_s
        self._unstable_until: float | None = None
        self._connected = True

    # a person's verbs ---------------------------------------------------------------------

    def _moved(self) -> None:
        self._changed_at = self._clock.monotonic()

    def place(self, grams: float) -> WeightReading:
        """Put ``grams`` on the platter."""
        with self._lock:
            self._load_g += grams
            self._moved()
        return self._emit_if_changed()

    def remove(self, grams: float) -> WeightReading:
        """Take ``grams`` off (more than is there lifts the platter: underload)."""
        with self._lock:
            self._load_g -= grams
            self._moved()
        return self._emit_if_changed()

    def clear(self) -> WeightReading:
        """Take everything off."""
        with self._lock:
            self._load_g = 0.0
            self._moved()
        return self._emit_if_changed()

    def make_unstable(self, seconds: float | None = None) -> WeightReading:
        """Someone leans on the platter: unstable for ``seconds`` or until :meth:`settle`."""
        with self._lock:
            now = self._clock.monotonic()
            self._unstable_until = math.inf if seconds is None else now + seconds
        return self._emit_if_changed()

    def settle(self) -> WeightReading:
        """Stop leaning; the weight is settled at once."""
        with self._lock:
            self._unstable_until = None
            self._changed_at = self._clock.monotonic() - self.settle_s
        return self._emit_if_changed()

    def disconnect(self) -> WeightReading:
        with self._lock:
            self._connected = False
        return self._emit_if_changed()

    def reconnect(self) -> WeightReading:
        with self._lock:
            self._connected = True
            self._moved()
        return self._emit_if_changed()

    @property
    def load_g(self) -> float:
        return self._load_g

    # the model ----------------------------------------------------------------------------

    def _raw_now(self) -> int:
        raw = round(self.true_offset + self._load_g * self.true_counts_per_gram)
        return max(RAW_MIN, min(RAW_MAX, raw))

    def _is_stable(self, now: float) -> bool:
        if self._unstable_until is not None:
            if now < self._unstable_until:
                return False
            self._unstable_until = None
        return now - self._changed_at >= self.settle_s

    def _current_gross(self) -> tuple[float, bool, int] | None:
        if not self._connected:
            return None
        raw = self._raw_now()
        gross = self._calibration.grams(raw) - self._zero_adjust_g
        saturated = 1 if raw >= RAW_MAX else -1 if raw <= RAW_MIN else 0
        return gross, self._is_stable(self._clock.monotonic()), saturated

    def raw_average(self) -> float:
        with self._lock:
            if not self._connected:
                raise ScaleNotReadyError(f"scale {self.name} has no reading")
            if not self._is_stable(self._clock.monotonic()):
                raise ScaleUnstableError(f"scale {self.name} has not settled")
            return float(self._raw_now())

    def update(self) -> WeightReading:
        if self._closed:
            return NOT_READY
        return self._emit_if_changed()

    def self_test(self) -> DeviceHealth:
        if not self._connected:
            return self._set_health(DeviceStatus.FAULT, "not_ready", "self-test: the simulated scale is disconnected")
        self._track_health(self.weight())
        return self.health()

    def close(self) -> None:
        self._closed = True
        self._listeners.clear()
