"""Driver for the HX711 24-bit load-cell converter, bit-banged through gpiozero.

The chip has two lines: DOUT (data, an input here) and PD_SCK (clock, an output here).

* DOUT low means a conversion is ready. Each rising edge on PD_SCK shifts out one bit,
  most significant first; 24 pulses give a 24-bit two's-complement value.
* 1, 2 or 3 further pulses choose the channel and gain of the *next* conversion:
  25 pulses in all = channel A, gain 128; 26 = channel B, gain 32; 27 = channel A, gain 64.
* PD_SCK held high for more than 60 µs powers the chip down; bringing it low powers it up
  again, reset to channel A, gain 128.

Readings can be taken synchronously (:meth:`Hx711.read_raw`) or by a background thread
into a bounded buffer (:meth:`Hx711.start`). The pin factory is injected
(``pin_factory=``), as with every gpiozero device; tests pass a ``MockFactory`` with a
:class:`~kiosk.devices.scale.simulated_hx711.SimulatedHx711` attached to the pins.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from gpiozero import InputDevice, OutputDevice

from kiosk.devices.scale.errors import Hx711NotReadyError
from kiosk.errors import DeviceConfigError
from retail.clock import Clock, SystemClock

__all__ = [
    "GAIN_PULSES",
    "Hx711",
    "RAW_MAX",
    "RAW_MIN",
    "channel_for_gain",
    "from_twos_complement",
]

log = logging.getLogger(__name__)

#: Total clock pulses per read for each gain (24 data bits + the gain/channel pulses).
GAIN_PULSES: dict[int, int] = {128: 25, 32: 26, 64: 27}
#: The converter saturates at these values (datasheet: 7FFFFFh and 800000h).
RAW_MAX = 0x7FFFFF
RAW_MIN = -0x800000
_POWER_DOWN_MIN_S = 60e-6


def channel_for_gain(gain: int) -> str:
    """``"A"`` for gains 128 and 64, ``"B"`` for 32."""
    if gain not in GAIN_PULSES:
        raise DeviceConfigError(f"HX711 gain must be one of 128, 64, 32, not {gain!r}")
    return "B" if gain == 32 else "A"


def from_twos_complement(word: int) -> int:
    """A 24-bit two's-complement word as a signed int (0x800000 → -8388608, 0xFFFFFF → -1)."""
    if not 0 <= word <= 0xFFFFFF:
        raise ValueError(f"not a 24-bit word: {word!r}")
    return word - 0x1000000 if word & 0x800000 else word


class Hx711:
    """One HX711 on two GPIO pins.

    ``ready_timeout`` bounds the wait for DOUT to go low (raising
    :class:`Hx711NotReadyError`); the wait is measured on the injected ``clock`` and paced
    by the injected ``sleep`` (``time.sleep`` by default; tests pass a fake clock's
    ``advance``). ``power_down_hold`` is how long :meth:`power_down` holds the clock high
    (above the chip's 60 µs).

    The data line has the Pi's pull-up enabled, so a disconnected chip reads "never ready"
    rather than a stream of zeros.
    """

    def __init__(
        self,
        data_pin: Any,
        clock_pin: Any,
        *,
        gain: int = 128,
        pin_factory: Any = None,
        clock: Clock | None = None,
        ready_timeout: float = 0.5,
        sleep: Callable[[float], None] | None = None,
        poll_interval: float = 0.001,
        power_down_hold: float = 100e-6,
        buffer_size: int = 64,
    ) -> None:
        channel_for_gain(gain)
        if ready_timeout <= 0:
            raise DeviceConfigError("ready_timeout must be positive")
        if poll_interval <= 0:
            raise DeviceConfigError("poll_interval must be positive")
        if power_down_hold <= _POWER_DOWN_MIN_S:
            raise DeviceConfigError("power_down_hold must exceed the chip's 60 µs")
        if buffer_size < 1:
            raise DeviceConfigError("buffer_size must be at least 1")
        self._gain = gain
        self._clock: Clock = clock or SystemClock()
        self._sleep = sleep or time.sleep
        self.ready_timeout = ready_timeout
        self.poll_interval = poll_interval
        self.power_down_hold = power_down_hold
        self._bus = threading.RLock()
        self._data: InputDevice | None = None
        self._sck: OutputDevice | None = None
        self._data = InputDevice(data_pin, pull_up=True, pin_factory=pin_factory)
        try:
            self._sck = OutputDevice(clock_pin, initial_value=False, pin_factory=pin_factory)
        except Exception:
            self._data.close()
            raise
        # Gain of the conversion the chip is doing now; unknown until we have set it.
        self._pending_gain: int | None = None
        self._powered = True
        self._buffer: deque[int] = deque(maxlen=buffer_size)
        self._cond = threading.Condition()
        self._listeners: list[Callable[[int], None]] = []
        self._error_listeners: list[Callable[[Exception], None]] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._closed = False
        self.reads = 0
        self.failures = 0
        self.last_error: Exception | None = None

    # -- configuration -----------------------------------------------------------------

    @property
    def gain(self) -> int:
        return self._gain

    @gain.setter
    def gain(self, value: int) -> None:
        channel_for_gain(value)
        with self._bus:
            self._gain = value

    @property
    def channel(self) -> str:
        return channel_for_gain(self._gain)

    @property
    def powered(self) -> bool:
        return self._powered

    # -- bus level ---------------------------------------------------------------------

    def _dout_high(self) -> bool:
        # pull_up=True makes gpiozero report "active" when the line is low.
        return not self._data_dev().is_active

    def _data_dev(self) -> InputDevice:
        if self._data is None:
            raise Hx711NotReadyError("HX711 is closed")
        return self._data

    def _sck_dev(self) -> OutputDevice:
        if self._sck is None:
            raise Hx711NotReadyError("HX711 is closed")
        return self._sck

    def is_ready(self) -> bool:
        """True when DOUT is low: a conversion is waiting to be read."""
        with self._bus:
            return self._powered and not self._dout_high()

    def _wait_ready(self) -> None:
        start = self._clock.monotonic()
        while self._dout_high():
            if self._stop.is_set() and threading.current_thread() is self._thread:
                raise Hx711NotReadyError("HX711 reader stopping")
            if self._clock.monotonic() - start >= self.ready_timeout:
                raise Hx711NotReadyError(
                    f"HX711 DOUT stayed high for {self.ready_timeout:g} s (chip absent or powered down?)"
                )
            self._sleep(self.poll_interval)

    def _shift_in(self, next_gain: int) -> int:
        sck = self._sck_dev()
        data = self._data_dev()
        word = 0
        # Keep the high phase short: the chip powers down after 60 µs of clock high.
        for _ in range(24):
            sck.on()
            bit = 0 if data.is_active else 1
            sck.off()
            word = (word << 1) | bit
        for _ in range(GAIN_PULSES[next_gain] - 24):
            sck.on()
            sck.off()
        return word

    def read_raw(self) -> int:
        """Wait for a conversion and read it as a signed count.

        If the chip's pending conversion was made at another gain or channel (after
        power-up, a gain change, or at start when its state is unknown), that conversion is
        read and dropped, so the value returned is always at :attr:`gain`.
        """
        with self._bus:
            if self._closed:
                raise Hx711NotReadyError("HX711 is closed")
            if not self._powered:
                raise Hx711NotReadyError("HX711 is powered down")
            while True:
                self._wait_ready()
                was = self._pending_gain
                want = self._gain
                word = self._shift_in(want)
                self._pending_gain = want
                if was == want:
                    value = from_twos_complement(word)
                    self.reads += 1
                    return value
                log.debug("dropped an HX711 conversion made at gain %s (want %s)", was, want)

    def power_down(self) -> None:
        """Hold the clock high past 60 µs: the chip stops converting and draws < 1 µA."""
        with self._bus:
            if not self._powered or self._closed:
                return
            self._sck_dev().on()
            self._sleep(self.power_down_hold)
            self._powered = False
            log.info("HX711 powered down")

    def power_up(self) -> None:
        """Bring the clock low: the chip wakes, reset to channel A, gain 128."""
        with self._bus:
            if self._powered or self._closed:
                return
            self._sck_dev().off()
            self._powered = True
            self._pending_gain = 128
            log.info("HX711 powered up")

    # -- background reading ------------------------------------------------------------

    def on_reading(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call ``callback(raw)`` from the reader thread for each reading; returns an
        unsubscribe function."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def on_error(self, callback: Callable[[Exception], None]) -> Callable[[], None]:
        """Call ``callback(error)`` from the reader thread when a read fails."""
        self._error_listeners.append(callback)
        return lambda: self._error_listeners.remove(callback) if callback in self._error_listeners else None

    def start(self) -> None:
        """Start reading on a background thread into the bounded buffer (idempotent)."""
        if self._closed:
            raise Hx711NotReadyError("HX711 is closed")
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hx711-reader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the background reader and wait for it (idempotent)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                value = self.read_raw()
            except Hx711NotReadyError as exc:
                if self._stop.is_set():
                    break
                self.failures += 1
                self.last_error = exc
                if not failing:
                    log.warning("HX711 not answering: %s", exc)
                    failing = True
                for cb in list(self._error_listeners):
                    self._safe(cb, exc)
                time.sleep(self.poll_interval)
                continue
            if failing:
                log.info("HX711 answering again")
                failing = False
            with self._cond:
                self._buffer.append(value)
                self._cond.notify_all()
            for cb in list(self._listeners):
                self._safe(cb, value)
            # Give other threads the bus between conversions.
            time.sleep(0)

    @staticmethod
    def _safe(cb: Callable[[Any], None], arg: Any) -> None:
        try:
            cb(arg)
        except Exception:  # a listener's bug must not stop the reader
            log.exception("HX711 listener failed")

    def readings(self) -> list[int]:
        """A copy of the buffered readings, oldest first."""
        with self._cond:
            return list(self._buffer)

    def drain(self) -> list[int]:
        """Take and clear the buffered readings."""
        with self._cond:
            out = list(self._buffer)
            self._buffer.clear()
            return out

    def latest(self) -> int | None:
        with self._cond:
            return self._buffer[-1] if self._buffer else None

    def wait_for_readings(self, count: int, timeout: float) -> bool:
        """Block until the buffer holds at least ``count`` readings (or ``timeout`` real
        seconds pass); True if it does."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._buffer) >= count, timeout)

    # -- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Stop the reader and release both pins. Safe to call twice."""
        if self._closed:
            return
        self.stop()
        with self._bus:
            self._closed = True
            for dev in (self._sck, self._data):
                if dev is not None:
                    dev.close()
            self._sck = None
            self._data = None

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Hx711:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Hx711 gain={self._gain} channel={self.channel} powered={self._powered}>"
