"""The cash drawer: the ``CashDrawer`` port, a GPIO relay adapter, a printer drawer-kick
adapter and a simulator.

A drawer is opened by a short pulse (a relay on a GPIO pin, or the receipt printer's
drawer-kick output). An optional switch tells whether the drawer is open. From the switch
and the requests the drawer raises events:

* ``opened`` / ``closed`` — the switch moved;
* ``opened_without_sale`` — the drawer opened when no :meth:`open` was asked for within
  ``request_window_s`` (a key, a knife);
* ``left_open`` — open for longer than ``left_open_after_s`` (once per opening);
* ``not_opened`` — an :meth:`open` was asked for but the switch never showed it open
  within ``request_window_s`` (jammed, locked, relay dead).

Time comes from the injected clock; call :meth:`poll` regularly (e.g. once a second) to
check the time-based events. Callbacks run on the thread that noticed the event (gpiozero's
event thread for switch changes).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from gpiozero import DigitalInputDevice, DigitalOutputDevice

from kiosk.devices.health import DeviceHealth, DeviceStatus
from kiosk.errors import DeviceConfigError, DeviceError
from retail.clock import Clock, SystemClock

__all__ = [
    "CashDrawer",
    "DrawerError",
    "DrawerEvent",
    "DrawerKickError",
    "DrawerMonitor",
    "GpioCashDrawer",
    "PrinterKickCashDrawer",
    "SimulatedCashDrawer",
]

log = logging.getLogger(__name__)


class DrawerError(DeviceError):
    """Root of the cash-drawer errors."""


class DrawerKickError(DrawerError, OSError):
    """The pulse that opens the drawer could not be sent."""


class DrawerEvent(str, Enum):
    OPENED = "opened"
    CLOSED = "closed"
    LEFT_OPEN = "left_open"
    OPENED_WITHOUT_SALE = "opened_without_sale"
    NOT_OPENED = "not_opened"


@runtime_checkable
class CashDrawer(Protocol):
    name: str

    @property
    def is_open(self) -> bool | None:
        """True/False from the switch; None when no switch is fitted."""
        ...

    def open(self) -> None:
        """Pulse the drawer open (for a sale, a refund, a float check)."""
        ...

    def on_event(self, callback: Callable[[DrawerEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for every drawer event; returns an unsubscribe function."""
        ...

    def poll(self) -> list[DrawerEvent]:
        """Check the time-based events now; returns (and dispatches) those raised."""
        ...

    def health(self) -> DeviceHealth: ...

    def self_test(self) -> DeviceHealth: ...

    def close(self) -> None: ...


class DrawerMonitor:
    """Pure state machine behind every drawer: feed it requests, switch changes and time;
    it answers with events."""

    def __init__(
        self, *, clock: Clock, has_switch: bool, left_open_after_s: float = 30.0, request_window_s: float = 3.0
    ) -> None:
        if left_open_after_s <= 0 or request_window_s <= 0:
            raise DeviceConfigError("drawer time limits must be positive")
        self._clock = clock
        self.has_switch = has_switch
        self.left_open_after_s = left_open_after_s
        self.request_window_s = request_window_s
        self.is_open: bool | None = False if has_switch else None
        self._opened_at: float | None = None
        self._requested_at: float | None = None
        self._left_open_raised = False

    def assume(self, is_open: bool) -> None:
        """Set the initial switch state without raising events (at start-up)."""
        self.is_open = is_open
        self._opened_at = self._clock.monotonic() if is_open else None

    def request_open(self) -> None:
        self._requested_at = self._clock.monotonic()

    def switch(self, is_open: bool) -> list[DrawerEvent]:
        if not self.has_switch or is_open == self.is_open:
            return []
        now = self._clock.monotonic()
        self.is_open = is_open
        if is_open:
            self._opened_at = now
            self._left_open_raised = False
            requested = self._requested_at is not None and now - self._requested_at <= self.request_window_s
            self._requested_at = None
            return [DrawerEvent.OPENED] if requested else [DrawerEvent.OPENED, DrawerEvent.OPENED_WITHOUT_SALE]
        self._opened_at = None
        return [DrawerEvent.CLOSED]

    def poll(self) -> list[DrawerEvent]:
        now = self._clock.monotonic()
        events: list[DrawerEvent] = []
        if (
            self.is_open
            and self._opened_at is not None
            and not self._left_open_raised
            and now - self._opened_at >= self.left_open_after_s
        ):
            self._left_open_raised = True
            events.append(DrawerEvent.LEFT_OPEN)
        if self._requested_at is not None and now - self._requested_at > self.request_window_s:
            self._requested_at = None
            if self.has_switch and not self.is_open:
                events.append(DrawerEvent.NOT_OPENED)
        return events

    @property
    def open_for_s(self) -> float | None:
        if not self.is_open or self._opened_at is None:
            return None
        return self._clock.monotonic() - self._opened_at


class _DrawerBase:
    """Events, health and the optional GPIO switch shared by the adapters."""

    def __init__(
        self,
        *,
        name: str,
        clock: Clock | None,
        has_switch: bool,
        left_open_after_s: float,
        request_window_s: float,
    ) -> None:
        self.name = name
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._monitor = DrawerMonitor(
            clock=self._clock,
            has_switch=has_switch,
            left_open_after_s=left_open_after_s,
            request_window_s=request_window_s,
        )
        self._listeners: list[Callable[[DrawerEvent], None]] = []
        self._health = DeviceHealth(name, DeviceStatus.OK, self._clock.now())
        self._closed = False
        self.events: list[DrawerEvent] = []  # everything raised, for diagnostics

    @property
    def is_open(self) -> bool | None:
        return self._monitor.is_open

    @property
    def open_for_s(self) -> float | None:
        return self._monitor.open_for_s

    def on_event(self, callback: Callable[[DrawerEvent], None]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def _dispatch(self, events: list[DrawerEvent]) -> list[DrawerEvent]:
        for event in events:
            self.events.append(event)
            if event is DrawerEvent.OPENED_WITHOUT_SALE:
                log.warning("drawer %s opened without a sale", self.name)
            elif event is DrawerEvent.LEFT_OPEN:
                self._set_health(DeviceStatus.DEGRADED, "left_open", "the drawer has been left open")
            elif event is DrawerEvent.NOT_OPENED:
                self._set_health(DeviceStatus.DEGRADED, "did_not_open", "the drawer did not open when asked")
            elif event is DrawerEvent.CLOSED and self._health.code == "left_open":
                self._set_health(DeviceStatus.OK)
            elif event is DrawerEvent.OPENED and self._health.code == "did_not_open":
                self._set_health(DeviceStatus.OK)
            else:
                log.debug("drawer %s: %s", self.name, event.value)
            with self._lock:
                listeners = list(self._listeners)
            for cb in listeners:
                try:
                    cb(event)
                except Exception:  # a listener's bug must not stop the drawer
                    log.exception("drawer %s listener failed", self.name)
        return events

    def _switch_changed(self, is_open: bool) -> None:
        with self._lock:
            events = self._monitor.switch(is_open)
        self._dispatch(events)

    def poll(self) -> list[DrawerEvent]:
        with self._lock:
            events = self._monitor.poll()
        return self._dispatch(events)

    def _kick(self) -> None:
        raise NotImplementedError

    def open(self) -> None:
        if self._closed:
            raise DrawerError(f"drawer {self.name} is closed")
        with self._lock:
            self._monitor.request_open()
        try:
            self._kick()
        except DrawerError as exc:
            self._set_health(DeviceStatus.FAULT, "kick_failed", str(exc))
            raise
        except Exception as exc:
            self._set_health(DeviceStatus.FAULT, "kick_failed", str(exc))
            raise DrawerKickError(f"drawer {self.name} could not be opened: {exc}") from exc
        if self._health.code == "kick_failed":
            self._set_health(DeviceStatus.OK)
        log.info("drawer %s kicked open", self.name)

    def _set_health(self, status: DeviceStatus, code: str = "", detail: str = "") -> DeviceHealth:
        with self._lock:
            if self._health.status is status and self._health.code == code:
                return self._health
            self._health = DeviceHealth(self.name, status, self._clock.now(), code, detail)
        if status is DeviceStatus.OK:
            log.info("drawer %s is ok again", self.name)
        else:
            log.warning("drawer %s is %s: %s", self.name, status.value, detail or code)
        return self._health

    def health(self) -> DeviceHealth:
        return self._health

    def self_test(self) -> DeviceHealth:
        """Checks what can be checked without opening the till: the devices are open."""
        if self._closed:
            return self._set_health(DeviceStatus.FAULT, "closed", "the drawer driver is closed")
        return self._health

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _GpioSwitch:
    """The drawer-open switch on a GPIO input with the pull-up on. ``open_when_high``: the
    usual drawer switch closes (pulls the pin low) when the drawer is shut."""

    def __init__(
        self,
        pin: Any,
        on_change: Callable[[bool], None],
        *,
        open_when_high: bool,
        bounce_time: float | None,
        pin_factory: Any,
    ) -> None:
        self._open_when_high = open_when_high
        self.device = DigitalInputDevice(pin, pull_up=True, bounce_time=bounce_time, pin_factory=pin_factory)
        # pull_up=True: "active" means the pin is low.
        self.device.when_activated = lambda: on_change(self._open_from_active(True))
        self.device.when_deactivated = lambda: on_change(self._open_from_active(False))

    def _open_from_active(self, active: bool) -> bool:
        pin_high = not active
        return pin_high if self._open_when_high else not pin_high

    def is_open(self) -> bool:
        return self._open_from_active(self.device.is_active)

    def close(self) -> None:
        self.device.close()


class GpioCashDrawer(_DrawerBase):
    """A drawer opened by a relay on a GPIO pin (``pulse_s`` high), with an optional
    switch on another pin.

    :meth:`open` blocks for the pulse (100 ms by default) through the injected ``sleep``;
    call it off the UI thread.
    """

    def __init__(
        self,
        relay_pin: Any,
        switch_pin: Any = None,
        *,
        name: str = "cash_drawer",
        pulse_s: float = 0.1,
        relay_active_high: bool = True,
        open_when_high: bool = True,
        bounce_time: float | None = 0.02,
        left_open_after_s: float = 30.0,
        request_window_s: float = 3.0,
        pin_factory: Any = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not 0.01 <= pulse_s <= 1.0:
            raise DeviceConfigError(f"drawer pulse must be 10 ms to 1 s, not {pulse_s!r}")
        super().__init__(
            name=name,
            clock=clock,
            has_switch=switch_pin is not None,
            left_open_after_s=left_open_after_s,
            request_window_s=request_window_s,
        )
        self.pulse_s = pulse_s
        self._sleep = sleep or time.sleep
        self._relay = DigitalOutputDevice(
            relay_pin, active_high=relay_active_high, initial_value=False, pin_factory=pin_factory
        )
        self._switch: _GpioSwitch | None = None
        if switch_pin is not None:
            try:
                self._switch = _GpioSwitch(
                    switch_pin,
                    self._switch_changed,
                    open_when_high=open_when_high,
                    bounce_time=bounce_time,
                    pin_factory=pin_factory,
                )
            except Exception:
                self._relay.close()
                raise
            self._monitor.assume(self._switch.is_open())
        self._kick_lock = threading.Lock()

    def _kick(self) -> None:
        with self._kick_lock:
            self._relay.on()
            try:
                self._sleep(self.pulse_s)
            finally:
                self._relay.off()

    def close(self) -> None:
        if self._closed:
            return
        super().close()
        self._relay.close()
        if self._switch is not None:
            self._switch.close()


class _DrawerKicker(Protocol):
    def cashdraw(self, pin: Any) -> None: ...


class PrinterKickCashDrawer(_DrawerBase):
    """A drawer on the receipt printer's drawer-kick port: ``printer`` is anything with
    ``cashdraw(pin)`` (python-escpos printers; pin 2 or 5). A GPIO switch is optional."""

    def __init__(
        self,
        printer: _DrawerKicker,
        *,
        name: str = "cash_drawer",
        kick_pin: int = 2,
        switch_pin: Any = None,
        open_when_high: bool = True,
        bounce_time: float | None = 0.02,
        left_open_after_s: float = 30.0,
        request_window_s: float = 3.0,
        pin_factory: Any = None,
        clock: Clock | None = None,
    ) -> None:
        if kick_pin not in (2, 5):
            raise DeviceConfigError(f"the drawer-kick pin is 2 or 5, not {kick_pin!r}")
        if not callable(getattr(printer, "cashdraw", None)):
            raise DeviceConfigError("the printer has no cashdraw(pin)")
        super().__init__(
            name=name,
            clock=clock,
            has_switch=switch_pin is not None,
            left_open_after_s=left_open_after_s,
            request_window_s=request_window_s,
        )
        self._printer = printer
        self.kick_pin = kick_pin
        self._switch: _GpioSwitch | None = None
        if switch_pin is not None:
            self._switch = _GpioSwitch(
                switch_pin,
                self._switch_changed,
                open_when_high=open_when_high,
                bounce_time=bounce_time,
                pin_factory=pin_factory,
            )
            self._monitor.assume(self._switch.is_open())

    def _kick(self) -> None:
        self._printer.cashdraw(self.kick_pin)

    def close(self) -> None:
        if self._closed:
            return
        super().close()
        if self._switch is not None:
            self._switch.close()


class SimulatedCashDrawer(_DrawerBase):
    """Simulator of a drawer with a switch, with a person's verbs: ``push_closed()``,
    ``force_open()`` (a key: opened without a sale), ``jam()`` / ``unjam()``."""

    def __init__(
        self,
        *,
        name: str = "cash_drawer",
        clock: Clock | None = None,
        left_open_after_s: float = 30.0,
        request_window_s: float = 3.0,
    ) -> None:
        super().__init__(
            name=name,
            clock=clock,
            has_switch=True,
            left_open_after_s=left_open_after_s,
            request_window_s=request_window_s,
        )
        self.kicks = 0
        self._jammed = False

    def _kick(self) -> None:
        self.kicks += 1
        if not self._jammed:
            self._switch_changed(True)

    def push_closed(self) -> None:
        """Someone pushes the drawer shut."""
        self._switch_changed(False)

    def force_open(self) -> None:
        """The drawer is opened with its key (or forced)."""
        self._switch_changed(True)

    def jam(self) -> None:
        """The drawer sticks: kicks no longer open it."""
        self._jammed = True

    def unjam(self) -> None:
        self._jammed = False
