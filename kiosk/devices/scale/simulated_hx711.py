"""A simulated HX711 (simulator, not hardware): a chip model wired to gpiozero mock pins.

The model watches the clock pin and drives the data pin as the real chip does, so the
:class:`~kiosk.devices.scale.hx711.Hx711` driver's bit-banging runs unmodified against it:

* DOUT goes low when a conversion is ready;
* each rising edge on PD_SCK shifts out the next bit, MSB first; the 25th pulse pulls DOUT
  high again;
* the number of pulses in a read (25/26/27) sets gain and channel of the next conversion;
* PD_SCK high for longer than ``power_down_after`` (60 µs) powers the chip down, and the
  next falling edge powers it up reset to channel A, gain 128.

The value converted comes from a load you set (``place(grams)``, ``remove(grams)``,
``clear()``) through ``offset`` and ``counts_per_gram`` (at gain 128), with seeded Gaussian
noise, a drift added on every conversion, saturation at the 24-bit limits, and faults:
``disconnect()`` (DOUT left to the pull-up: never ready) and stuck output bits.

Time is read from an injected clock. Give the driver and the simulator the same
:class:`~retail.clock.FakeClock` (and the driver ``sleep=clock.advance``) for deterministic
tests; against a real clock, raise ``power_down_after`` so that a thread switch in the
middle of a clock pulse is not taken for a power-down.

The model evaluates itself lazily, on clock edges and whenever the data pin is read.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin

from kiosk.devices.scale.hx711 import GAIN_PULSES, RAW_MAX, RAW_MIN
from kiosk.errors import DeviceConfigError
from retail.clock import Clock, SystemClock

__all__ = ["Hx711ClockPin", "Hx711DataPin", "SimulatedHx711"]

log = logging.getLogger(__name__)

_GAIN_BY_PULSES = {pulses: gain for gain, pulses in GAIN_PULSES.items()}


class Hx711ClockPin(MockPin):
    """Mock PD_SCK pin (simulator part): every state change is handed to the chip model."""

    def __init__(self, factory: Any, info: Any, chip: SimulatedHx711 | None = None) -> None:
        super().__init__(factory, info)
        self.chip = chip

    def _set_state(self, value: Any) -> None:
        super()._set_state(value)
        chip = self.chip
        if chip is not None:
            chip._on_clock(bool(value))


class Hx711DataPin(MockPin):
    """Mock DOUT pin (simulator part): reading it asks the chip model what it drives."""

    def __init__(self, factory: Any, info: Any, chip: SimulatedHx711 | None = None) -> None:
        super().__init__(factory, info)
        self.chip = chip

    def _get_state(self) -> Any:
        chip = self.chip
        if chip is not None and self._function == "input":
            level = chip._dout_level()
            if level is None:  # chip not driving: the pull resistor decides
                level = {"up": True, "down": False}.get(self._pull, self._state)
            if level != self._state:
                if level:
                    self.drive_high()
                else:
                    self.drive_low()
        return self._state


class SimulatedHx711:
    """Simulator of one HX711 and its load cell, attached to two pins of a ``MockFactory``.

    Create it *before* the driver, on the same factory and pin numbers::

        factory = MockFactory()
        chip = SimulatedHx711(5, 6, factory=factory, clock=clock, counts_per_gram=400)
        hx = Hx711(5, 6, pin_factory=factory, clock=clock, sleep=clock.advance)
        chip.place(250)
        hx.read_raw()   # ≈ chip.offset + 250 * 400
    """

    def __init__(
        self,
        data_pin: Any,
        clock_pin: Any,
        *,
        factory: MockFactory | None = None,
        clock: Clock | None = None,
        offset: int = 0,
        counts_per_gram: float = 400.0,
        noise_counts: float = 0.0,
        seed: int = 0,
        drift_per_reading: float = 0.0,
        conversion_time: float = 0.0,
        settle_time: float | None = None,
        power_down_after: float = 60e-6,
        channel_b_counts: int = 0,
    ) -> None:
        if conversion_time < 0 or (settle_time is not None and settle_time < 0):
            raise DeviceConfigError("conversion and settle times cannot be negative")
        if power_down_after <= 0:
            raise DeviceConfigError("power_down_after must be positive")
        self.factory = factory if factory is not None else MockFactory()
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.RLock()
        self.offset = offset
        self.counts_per_gram = counts_per_gram
        self.noise_counts = noise_counts
        self.drift_per_reading = drift_per_reading
        self.conversion_time = conversion_time
        self.settle_time = conversion_time if settle_time is None else settle_time
        self.power_down_after = power_down_after
        self.channel_b_counts = channel_b_counts
        self._rng = random.Random(seed)
        self._load_g = 0.0
        self._raw_override: int | None = None
        self._drift = 0.0
        self._stuck: dict[int, int] = {}
        self._connected = True
        # chip state
        self._powered = True
        self._gain = 128  # gain of the conversion in progress / ready
        self._phase = "converting"  # converting | ready | shifting | trailing
        self._ready_at = self._clock.monotonic() + self.settle_time
        self._word = 0
        self._pulses = 0
        self._sck = False
        self._rise_t = 0.0
        self._fall_t = self._clock.monotonic()
        self.conversions = 0
        self.pulses_per_read: list[int] = []
        self.values_sent: list[int] = []
        self.clock_pin = self._make_pin(clock_pin, Hx711ClockPin)
        self.data_pin = self._make_pin(data_pin, Hx711DataPin)

    def _make_pin(self, name: Any, cls: type[MockPin]) -> Any:
        pin = self.factory.pin(name, pin_class=cls, chip=self)
        if not isinstance(pin, cls):
            raise DeviceConfigError(
                f"pin {name!r} already exists on this factory as {type(pin).__name__}; "
                "create the SimulatedHx711 before the driver"
            )
        pin.chip = self
        return pin

    # -- the load and the analogue side ------------------------------------------------

    def place(self, grams: float) -> None:
        """Put ``grams`` more on the load cell."""
        with self._lock:
            self._load_g += grams

    def remove(self, grams: float) -> None:
        """Take ``grams`` off the load cell."""
        with self._lock:
            self._load_g -= grams

    def clear(self) -> None:
        """Empty the platter."""
        with self._lock:
            self._load_g = 0.0

    @property
    def load_g(self) -> float:
        return self._load_g

    def set_raw(self, counts: int | None) -> None:
        """Make every following conversion exactly ``counts`` (None: back to the load model)."""
        if counts is not None and not RAW_MIN <= counts <= RAW_MAX:
            raise DeviceConfigError(f"an HX711 cannot output {counts}")
        with self._lock:
            self._raw_override = counts

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng.seed(seed)

    def expected_counts(self, grams: float | None = None) -> int:
        """Noise-free channel-A gain-128 counts for ``grams`` (default: the current load)."""
        g = self._load_g if grams is None else grams
        return round(self.offset + g * self.counts_per_gram)

    # -- faults ------------------------------------------------------------------------

    def disconnect(self) -> None:
        """Unplug the chip: DOUT floats to the pull-up, so it never reads ready."""
        with self._lock:
            self._connected = False

    def reconnect(self) -> None:
        """Plug the chip back in: it powers up and starts a fresh conversion."""
        with self._lock:
            if not self._connected:
                self._connected = True
                self._power_up(self._clock.monotonic())

    def stick_bit(self, bit: int, level: int) -> None:
        """Force output bit ``bit`` (0 = LSB, 23 = MSB/sign) to ``level`` on every read."""
        if not 0 <= bit <= 23 or level not in (0, 1):
            raise DeviceConfigError("bit must be 0..23 and level 0 or 1")
        with self._lock:
            self._stuck[bit] = level

    def unstick_bits(self) -> None:
        with self._lock:
            self._stuck.clear()

    # -- what a test can observe -------------------------------------------------------

    @property
    def powered(self) -> bool:
        with self._lock:
            self._advance(self._clock.monotonic(), finish_read=False)
            return self._powered

    @property
    def gain(self) -> int:
        """Gain of the conversion the chip is doing (or holding ready)."""
        return self._gain

    @property
    def channel(self) -> str:
        return "B" if self._gain == 32 else "A"

    @property
    def connected(self) -> bool:
        return self._connected

    def close(self) -> None:
        """Detach the model from the pins (they become plain mock pins)."""
        for pin in (self.clock_pin, self.data_pin):
            if getattr(pin, "chip", None) is self:
                pin.chip = None

    def __enter__(self) -> SimulatedHx711:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- chip model --------------------------------------------------------------------

    def _convert(self, gain: int) -> int:
        self.conversions += 1
        if self._raw_override is not None:
            return self._raw_override
        self._drift += self.drift_per_reading
        if gain == 32:
            value = float(self.channel_b_counts)
        else:
            value = (self.offset + self._load_g * self.counts_per_gram) * gain / 128
        value += self._drift
        if self.noise_counts:
            value += self._rng.gauss(0.0, self.noise_counts)
        return max(RAW_MIN, min(RAW_MAX, round(value)))

    def _power_up(self, now: float) -> None:
        self._powered = True
        self._gain = 128
        self._pulses = 0
        self._phase = "converting"
        self._ready_at = now + self.settle_time
        self._fall_t = now

    def _advance(self, now: float, *, finish_read: bool) -> None:
        """Bring the model up to ``now``."""
        if not self._connected:
            return
        if self._powered and self._sck and now - self._rise_t > self.power_down_after:
            self._powered = False
            log.debug("simulated HX711 powered down")
        if not self._powered:
            return
        if self._phase == "trailing" and finish_read and not self._sck:
            pulses = self._pulses
            self.pulses_per_read.append(pulses)
            self._gain = _GAIN_BY_PULSES.get(pulses, 64 if pulses > 27 else 128)
            self._pulses = 0
            self._phase = "converting"
            self._ready_at = self._fall_t + self.conversion_time
        if self._phase == "converting" and now >= self._ready_at:
            value = self._convert(self._gain)
            word = value & 0xFFFFFF
            for bit, level in self._stuck.items():
                word = (word | (1 << bit)) if level else (word & ~(1 << bit))
            self._word = word
            self.values_sent.append(value)
            self._phase = "ready"

    def _dout_level(self) -> bool | None:
        """What the chip drives on DOUT now (None: not driving, the pull decides)."""
        with self._lock:
            if not self._connected:
                return None
            self._advance(self._clock.monotonic(), finish_read=True)
            if not self._powered:
                return True
            if self._phase == "ready":
                return False
            if self._phase == "shifting":
                return bool((self._word >> (24 - self._pulses)) & 1)
            return True

    def _on_clock(self, level: bool) -> None:
        with self._lock:
            now = self._clock.monotonic()
            if level == self._sck:
                return
            if not self._connected:
                self._sck = level
                return
            if level:  # rising edge
                self._advance(now, finish_read=False)
                self._sck = True
                self._rise_t = now
                if not self._powered:
                    return
                if self._phase == "ready":
                    self._phase = "shifting"
                    self._pulses = 1
                elif self._phase == "shifting":
                    self._pulses += 1
                    if self._pulses > 24:
                        self._phase = "trailing"
                elif self._phase == "trailing":
                    self._pulses += 1
                # pulses while converting are ignored
            else:  # falling edge
                self._advance(now, finish_read=False)
                self._sck = False
                if not self._powered:
                    self._power_up(now)
                    log.debug("simulated HX711 powered up (gain 128, channel A)")
                    return
                self._fall_t = now
