"""The kiosk's status light and buzzer: the ``StatusLight`` port, a three-lamp tower light,
an RGB LED light and a simulator.

States (what staff see from across the shop):

=============  =====================================  =====================
state          tower (green / amber / red + buzzer)   RGB LED
=============  =====================================  =====================
idle           green steady                           green steady
assistance     amber blinking                         amber blinking
alarm          red blinking, buzzer pulsing           red blinking (+buzzer)
offline        red steady                             blue steady
=============  =====================================  =====================

``flash_scan()`` gives scan feedback (a short green blink and a short beep) on top of the
state; ``beep()`` sounds the buzzer. Patterns are data (:data:`TOWER_PATTERNS`,
:data:`RGB_PATTERNS`) played by a small engine on the injected clock: :meth:`tick` sets the
outputs for "now". :meth:`start` runs a background ticker; tests advance a fake clock and
call :meth:`tick` instead, and assert the pin states.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from gpiozero import LED, RGBLED, Buzzer

from kiosk.devices.health import DeviceHealth, DeviceStatus
from kiosk.errors import DeviceConfigError, DeviceError
from retail.clock import Clock, SystemClock

__all__ = [
    "LightState",
    "Pattern",
    "RGB_PATTERNS",
    "RgbStatusLight",
    "SimulatedStatusLight",
    "StatusLight",
    "StatusLightError",
    "TOWER_PATTERNS",
    "TowerLight",
]

log = logging.getLogger(__name__)


class StatusLightError(DeviceError):
    """Root of the status light errors (e.g. using a closed light)."""


class LightState(str, Enum):
    IDLE = "idle"
    ASSISTANCE = "assistance"
    ALARM = "alarm"
    OFFLINE = "offline"


@runtime_checkable
class StatusLight(Protocol):
    name: str

    @property
    def state(self) -> LightState: ...

    def show(self, state: LightState) -> None:
        """Switch to the pattern of ``state``."""
        ...

    def flash_scan(self) -> None:
        """Scan feedback: a short green blink and a short beep, then back to the state."""
        ...

    def beep(self, duration_s: float = 0.1, count: int = 1, gap_s: float = 0.1) -> None: ...

    def health(self) -> DeviceHealth: ...

    def self_test(self) -> DeviceHealth: ...

    def close(self) -> None: ...


# -- patterns (pure) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pattern:
    """A sequence of (value, seconds) steps, repeated or played once."""

    steps: tuple[tuple[Any, float], ...]
    repeat: bool = True

    def __post_init__(self) -> None:
        if not self.steps or any(d <= 0 for _, d in self.steps):
            raise DeviceConfigError("a pattern needs steps of positive length")

    @classmethod
    def steady(cls, value: Any) -> Pattern:
        return cls(((value, math.inf),), repeat=False)

    @classmethod
    def blink(cls, on: Any, off: Any, on_s: float, off_s: float) -> Pattern:
        return cls(((on, on_s), (off, off_s)))

    @classmethod
    def once(cls, *steps: tuple[Any, float]) -> Pattern:
        return cls(tuple(steps), repeat=False)

    @property
    def length(self) -> float:
        return sum(d for _, d in self.steps)

    def value_at(self, elapsed: float) -> tuple[Any, bool]:
        """The value ``elapsed`` seconds in, and whether a one-shot pattern has finished."""
        total = self.length
        if self.repeat:
            elapsed = elapsed % total
        elif elapsed >= total:
            return self.steps[-1][0], True
        for value, duration in self.steps:
            if elapsed < duration:
                return value, False
            elapsed -= duration
        return self.steps[-1][0], not self.repeat


OFF = False
ON = True
BLINK_S = 0.5

#: Tower light: channel → pattern for each state; channels not named are off.
TOWER_PATTERNS: Mapping[LightState, Mapping[str, Pattern]] = {
    LightState.IDLE: {"green": Pattern.steady(ON)},
    LightState.ASSISTANCE: {"amber": Pattern.blink(ON, OFF, BLINK_S, BLINK_S)},
    LightState.ALARM: {"red": Pattern.blink(ON, OFF, 0.25, 0.25), "buzzer": Pattern.blink(ON, OFF, 0.2, 0.8)},
    LightState.OFFLINE: {"red": Pattern.steady(ON)},
}

GREEN = (0.0, 1.0, 0.0)
AMBER = (1.0, 0.5, 0.0)
RED = (1.0, 0.0, 0.0)
BLUE = (0.0, 0.0, 1.0)
BLACK = (0.0, 0.0, 0.0)

RGB_PATTERNS: Mapping[LightState, Mapping[str, Pattern]] = {
    LightState.IDLE: {"rgb": Pattern.steady(GREEN)},
    LightState.ASSISTANCE: {"rgb": Pattern.blink(AMBER, BLACK, BLINK_S, BLINK_S)},
    LightState.ALARM: {"rgb": Pattern.blink(RED, BLACK, 0.25, 0.25), "buzzer": Pattern.blink(ON, OFF, 0.2, 0.8)},
    LightState.OFFLINE: {"rgb": Pattern.steady(BLUE)},
}

SCAN_FLASH_S = 0.08
SCAN_BEEP_S = 0.05
LAMP_TEST_S = 1.0


class _Channel:
    """One output: a base pattern for the state and an optional one-shot overlay."""

    def __init__(self, device: Any, off: Any) -> None:
        self.device = device
        self.off = off
        self.base = Pattern.steady(off)
        self.base_start = 0.0
        self.overlay: Pattern | None = None
        self.overlay_start = 0.0
        self.written: Any = None

    def value(self, now: float) -> Any:
        if self.overlay is not None:
            value, finished = self.overlay.value_at(now - self.overlay_start)
            if not finished:
                return value
            self.overlay = None
        value, _ = self.base.value_at(now - self.base_start)
        return value


class _PatternLight:
    """Plays patterns on a set of gpiozero outputs."""

    def __init__(
        self, *, name: str, patterns: Mapping[LightState, Mapping[str, Pattern]], clock: Clock | None
    ) -> None:
        self.name = name
        self._patterns = patterns
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._channels: dict[str, _Channel] = {}
        self._state = LightState.IDLE
        self._health = DeviceHealth(name, DeviceStatus.OK, self._clock.now())
        self._closed = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def _add_channel(self, key: str, device: Any, off: Any) -> None:
        self._channels[key] = _Channel(device, off)

    @property
    def state(self) -> LightState:
        return self._state

    def _check_open(self) -> None:
        if self._closed:
            raise StatusLightError(f"status light {self.name} is closed")

    def show(self, state: LightState) -> None:
        self._check_open()
        state = LightState(state)
        with self._lock:
            now = self._clock.monotonic()
            wanted = self._patterns[state]
            for key, channel in self._channels.items():
                channel.base = wanted.get(key, Pattern.steady(channel.off))
                channel.base_start = now
            if state is not self._state:
                log.info("status light %s: %s", self.name, state.value)
            self._state = state
        self.tick()

    def _overlay(self, key: str, pattern: Pattern) -> None:
        channel = self._channels.get(key)
        if channel is None:
            return
        channel.overlay = pattern
        channel.overlay_start = self._clock.monotonic()

    def _scan_flash(self, now: float) -> dict[str, Pattern]:
        raise NotImplementedError

    def flash_scan(self) -> None:
        self._check_open()
        with self._lock:
            now = self._clock.monotonic()
            for key, pattern in self._scan_flash(now).items():
                self._overlay(key, pattern)
            self._overlay("buzzer", Pattern.once((ON, SCAN_BEEP_S)))
        self.tick()

    def beep(self, duration_s: float = 0.1, count: int = 1, gap_s: float = 0.1) -> None:
        self._check_open()
        if duration_s <= 0 or count < 1 or gap_s <= 0:
            raise DeviceConfigError("a beep needs a positive length, count and gap")
        if "buzzer" not in self._channels:
            log.debug("status light %s has no buzzer; beep ignored", self.name)
            return
        steps: list[tuple[Any, float]] = []
        for i in range(count):
            steps.append((ON, duration_s))
            if i < count - 1:
                steps.append((OFF, gap_s))
        with self._lock:
            self._overlay("buzzer", Pattern.once(*steps))
        self.tick()

    def tick(self) -> None:
        """Set every output to what its pattern says now."""
        if self._closed:
            return
        with self._lock:
            now = self._clock.monotonic()
            try:
                for channel in self._channels.values():
                    value = channel.value(now)
                    if value != channel.written:
                        self._write(channel.device, value)
                        channel.written = value
            except Exception as exc:
                self._set_health(DeviceStatus.FAULT, "gpio_error", str(exc))
                raise StatusLightError(f"status light {self.name}: {exc}") from exc

    @staticmethod
    def _write(device: Any, value: Any) -> None:
        if isinstance(value, tuple):
            device.value = value
        elif value:
            device.on()
        else:
            device.off()

    def _set_health(self, status: DeviceStatus, code: str = "", detail: str = "") -> DeviceHealth:
        if self._health.status is not status or self._health.code != code:
            self._health = DeviceHealth(self.name, status, self._clock.now(), code, detail)
            log.log(logging.INFO if status is DeviceStatus.OK else logging.WARNING,
                    "status light %s is %s %s", self.name, status.value, detail)
        return self._health

    def health(self) -> DeviceHealth:
        return self._health

    def self_test(self) -> DeviceHealth:
        """Lamp test: every lamp on for a second (and a beep), then back to the state."""
        self._check_open()
        with self._lock:
            for key, channel in self._channels.items():
                on = (1.0, 1.0, 1.0) if isinstance(channel.off, tuple) else ON
                duration = SCAN_BEEP_S * 2 if key == "buzzer" else LAMP_TEST_S
                self._overlay(key, Pattern.once((on, duration)))
        self.tick()
        return self._set_health(DeviceStatus.OK) if self._health.code != "gpio_error" else self._health

    # background ticker ---------------------------------------------------------------------

    def start(self, interval_s: float = 0.01) -> None:
        """Tick on a background thread every ``interval_s`` (idempotent)."""
        self._check_open()
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), name=f"light-{self.name}", daemon=True)
        self._thread.start()

    def _run(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.tick()
            except StatusLightError:
                log.exception("status light %s ticker", self.name)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        self._thread = None

    def close(self) -> None:
        """Stop, switch everything off and release the pins. Safe to call twice."""
        if self._closed:
            return
        self.stop()
        with self._lock:
            for channel in self._channels.values():
                try:
                    self._write(channel.device, channel.off)
                except Exception:  # closing must go on
                    log.debug("could not switch off %r", channel.device)
                channel.device.close()
            self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TowerLight(_PatternLight):
    """A three-lamp tower light (green, amber, red gpiozero ``LED``s) with an optional
    ``Buzzer``."""

    def __init__(
        self,
        green: Any,
        amber: Any,
        red: Any,
        buzzer: Any = None,
        *,
        name: str = "status_light",
        active_high: bool = True,
        patterns: Mapping[LightState, Mapping[str, Pattern]] = TOWER_PATTERNS,
        pin_factory: Any = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(name=name, patterns=patterns, clock=clock)
        made: list[Any] = []
        try:
            for key, pin in (("green", green), ("amber", amber), ("red", red)):
                made.append(LED(pin, active_high=active_high, initial_value=False, pin_factory=pin_factory))
                self._add_channel(key, made[-1], OFF)
            if buzzer is not None:
                made.append(Buzzer(buzzer, active_high=True, initial_value=False, pin_factory=pin_factory))
                self._add_channel("buzzer", made[-1], OFF)
        except Exception:
            for dev in made:
                dev.close()
            raise
        self.show(LightState.IDLE)

    def _scan_flash(self, now: float) -> dict[str, Pattern]:
        lit = bool(self._channels["green"].value(now))
        # green on: a short dark blink; green off: a short lit blink
        return {"green": Pattern.once((not lit, SCAN_FLASH_S))}


class RgbStatusLight(_PatternLight):
    """One RGB LED (gpiozero ``RGBLED``, PWM) with an optional ``Buzzer``."""

    def __init__(
        self,
        red: Any,
        green: Any,
        blue: Any,
        buzzer: Any = None,
        *,
        name: str = "status_light",
        active_high: bool = True,
        pwm: bool = True,
        patterns: Mapping[LightState, Mapping[str, Pattern]] = RGB_PATTERNS,
        pin_factory: Any = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(name=name, patterns=patterns, clock=clock)
        led = RGBLED(red, green, blue, active_high=active_high, pwm=pwm, pin_factory=pin_factory)
        self._add_channel("rgb", led, BLACK)
        if buzzer is not None:
            try:
                self._add_channel("buzzer", Buzzer(buzzer, initial_value=False, pin_factory=pin_factory), OFF)
            except Exception:
                led.close()
                raise
        self.show(LightState.IDLE)

    def _scan_flash(self, now: float) -> dict[str, Pattern]:
        current = self._channels["rgb"].value(now)
        return {"rgb": Pattern.once((BLACK if current == GREEN else GREEN, SCAN_FLASH_S))}


class SimulatedStatusLight:
    """Simulator of a status light: records what it would show (``history``, ``flashes``,
    ``beeps``) for the UI, the demo and tests."""

    def __init__(self, *, name: str = "status_light", clock: Clock | None = None) -> None:
        self.name = name
        self._clock: Clock = clock or SystemClock()
        self._state = LightState.IDLE
        self.history: list[LightState] = [LightState.IDLE]
        self.flashes = 0
        self.beeps: list[tuple[float, int, float]] = []
        self._health = DeviceHealth(name, DeviceStatus.OK, self._clock.now())
        self._closed = False
        self._listeners: list[Callable[[LightState], None]] = []

    @property
    def state(self) -> LightState:
        return self._state

    def _check_open(self) -> None:
        if self._closed:
            raise StatusLightError(f"status light {self.name} is closed")

    def on_show(self, callback: Callable[[LightState], None]) -> None:
        """Tell ``callback`` about every state shown (for an on-screen light in the demo)."""
        self._listeners.append(callback)

    def show(self, state: LightState) -> None:
        self._check_open()
        state = LightState(state)
        if state is not self._state:
            self.history.append(state)
        self._state = state
        for cb in list(self._listeners):
            cb(state)

    def flash_scan(self) -> None:
        self._check_open()
        self.flashes += 1

    def beep(self, duration_s: float = 0.1, count: int = 1, gap_s: float = 0.1) -> None:
        self._check_open()
        if duration_s <= 0 or count < 1 or gap_s <= 0:
            raise DeviceConfigError("a beep needs a positive length, count and gap")
        self.beeps.append((duration_s, count, gap_s))

    def tick(self) -> None:
        pass

    def health(self) -> DeviceHealth:
        return self._health

    def self_test(self) -> DeviceHealth:
        self._check_open()
        return self._health

    def close(self) -> None:
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> SimulatedStatusLight:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
