"""The cash drawer at pin level, the printer drawer-kick, the simulator, and their contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from escpos.constants import CD_KICK_2, CD_KICK_5
from escpos.printer import Dummy
from gpiozero.pins.mock import MockFactory, MockPin

from kiosk.devices.drawer import (
    CashDrawer,
    DrawerError,
    DrawerEvent,
    DrawerKickError,
    GpioCashDrawer,
    PrinterKickCashDrawer,
    SimulatedCashDrawer,
)
from kiosk.devices.health import DeviceStatus
from kiosk.errors import DeviceConfigError
from retail.clock import FakeClock

RELAY, SWITCH = 17, 27


class SleepRecorder:
    """An injected sleep: records each pause and moves the fake clock instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.clock.advance(seconds)


class DrawerSwitchPin(MockPin):
    """Test wiring (a physical model): the drawer switch closes to ground while the drawer is
    shut, holding the line low against the Pi's pull-up; opening the drawer lets it rise."""

    def __init__(self, factory: Any, info: Any, shut: bool = True) -> None:
        super().__init__(factory, info)
        self.shut = shut

    def _set_pull(self, value: str) -> None:
        shut = self.shut
        super()._set_pull(value)  # the pull-up drives the line high ...
        self.shut = shut
        if shut:
            MockPin.drive_low(self)  # ... unless the closed switch holds it low

    def drive_high(self) -> None:
        self.shut = False
        super().drive_high()

    def drive_low(self) -> None:
        self.shut = True
        super().drive_low()


def make_gpio(factory: MockFactory, clock: FakeClock, **kw: Any) -> tuple[GpioCashDrawer, SleepRecorder]:
    factory.pin(SWITCH, pin_class=DrawerSwitchPin)
    sleep = SleepRecorder(clock)
    drawer = GpioCashDrawer(RELAY, SWITCH, pin_factory=factory, clock=clock, sleep=sleep, **kw)
    return drawer, sleep


def test_open_pulses_the_relay_for_the_configured_time(factory: MockFactory, clock: FakeClock) -> None:
    drawer, sleep = make_gpio(factory, clock, pulse_s=0.25)
    relay = factory.pin(RELAY)
    relay.clear_states()
    drawer.open()
    relay.assert_states([False, True, False])
    assert len(relay.states) == 3
    assert sleep.pauses == [0.25]
    drawer.close()


def test_an_active_low_relay_idles_high_and_pulses_low(factory: MockFactory, clock: FakeClock) -> None:
    drawer, _ = make_gpio(factory, clock, relay_active_high=False)
    relay = factory.pin(RELAY)
    assert relay.state is True
    relay.clear_states()
    drawer.open()
    relay.assert_states([True, False, True])
    drawer.close()


def test_switch_opening_after_a_request_is_a_plain_opening(factory: MockFactory, clock: FakeClock) -> None:
    drawer, _ = make_gpio(factory, clock)
    switch = factory.pin(SWITCH)
    events: list[DrawerEvent] = []
    drawer.on_event(events.append)
    assert drawer.is_open is False  # pull-up, switch closed to ground: shut
    drawer.open()
    switch.drive_high()
    assert drawer.is_open is True
    switch.drive_low()
    assert events == [DrawerEvent.OPENED, DrawerEvent.CLOSED]
    drawer.close()


def test_opening_without_a_request_is_flagged(factory: MockFactory, clock: FakeClock) -> None:
    drawer, _ = make_gpio(factory, clock, request_window_s=2.0)
    switch = factory.pin(SWITCH)
    events: list[DrawerEvent] = []
    drawer.on_event(events.append)
    switch.drive_high()  # a key
    assert events == [DrawerEvent.OPENED, DrawerEvent.OPENED_WITHOUT_SALE]
    switch.drive_low()
    events.clear()
    drawer.open()
    clock.advance(2.5)  # the request has lapsed by the time it opens
    switch.drive_high()
    assert DrawerEvent.OPENED_WITHOUT_SALE in events
    drawer.close()


def test_left_open_is_raised_once_after_the_limit_and_clears_on_close(factory: MockFactory, clock: FakeClock) -> None:
    drawer, _ = make_gpio(factory, clock, left_open_after_s=30)
    switch = factory.pin(SWITCH)
    drawer.open()
    switch.drive_high()
    clock.advance(29.9)
    assert drawer.poll() == []
    clock.advance(0.2)
    assert drawer.poll() == [DrawerEvent.LEFT_OPEN]
    assert drawer.poll() == []
    assert (drawer.health().status, drawer.health().code) == (DeviceStatus.DEGRADED, "left_open")
    switch.drive_low()
    assert drawer.health().status is DeviceStatus.OK
    drawer.close()


def test_a_drawer_that_does_not_open_when_kicked_is_reported(factory: MockFactory, clock: FakeClock) -> None:
    drawer, _ = make_gpio(factory, clock, request_window_s=2.0)
    drawer.open()
    clock.advance(2.5)
    assert drawer.poll() == [DrawerEvent.NOT_OPENED]
    assert drawer.health().code == "did_not_open"
    drawer.open()
    factory.pin(SWITCH).drive_high()
    assert drawer.health().status is DeviceStatus.OK
    drawer.close()


def test_an_inverted_switch_reads_open_when_low(factory: MockFactory, clock: FakeClock) -> None:
    factory.pin(SWITCH, pin_class=DrawerSwitchPin, shut=False)
    drawer, _ = make_gpio(factory, clock, open_when_high=False)
    # a switch that closes when the drawer opens: high (pulled up) means shut
    assert drawer.is_open is False
    factory.pin(SWITCH).drive_low()
    assert drawer.is_open is True
    drawer.close()


def test_a_drawer_already_open_at_start_raises_no_events(factory: MockFactory, clock: FakeClock) -> None:
    factory.pin(SWITCH, pin_class=DrawerSwitchPin, shut=False)
    drawer, _ = make_gpio(factory, clock)
    assert drawer.is_open is True
    assert drawer.events == []
    drawer.close()


def test_without_a_switch_the_state_is_unknown(factory: MockFactory, clock: FakeClock) -> None:
    drawer = GpioCashDrawer(RELAY, pin_factory=factory, clock=clock, sleep=lambda s: None)
    drawer.open()
    clock.advance(60)
    assert drawer.is_open is None
    assert drawer.poll() == []
    drawer.close()


def test_close_releases_the_pins(factory: MockFactory, clock: FakeClock) -> None:
    drawer, _ = make_gpio(factory, clock)
    drawer.close()
    drawer.close()
    with pytest.raises(DrawerError):
        drawer.open()
    again, _ = make_gpio(factory, clock)  # the pins are free again
    again.close()


def test_pulse_length_is_bounded() -> None:
    with pytest.raises(DeviceConfigError):
        GpioCashDrawer(RELAY, pin_factory=MockFactory(), pulse_s=5)


# -- printer drawer-kick ---------------------------------------------------------------------


@pytest.mark.parametrize(("pin", "command"), [(2, CD_KICK_2), (5, CD_KICK_5)])
def test_printer_kick_sends_the_escpos_drawer_pulse(clock: FakeClock, pin: int, command: bytes) -> None:
    printer = Dummy()
    drawer = PrinterKickCashDrawer(printer, kick_pin=pin, clock=clock)
    drawer.open()
    assert printer.output == command
    assert drawer.is_open is None


class BrokenPrinter:
    def cashdraw(self, pin: int) -> None:
        raise OSError("USB device gone")


def test_a_failing_printer_kick_is_a_typed_error_and_a_fault(clock: FakeClock) -> None:
    drawer = PrinterKickCashDrawer(BrokenPrinter(), clock=clock)
    with pytest.raises(DrawerKickError) as caught:
        drawer.open()
    assert isinstance(caught.value, OSError)
    assert (drawer.health().status, drawer.health().code) == (DeviceStatus.FAULT, "kick_failed")


def test_printer_kick_needs_a_printer_and_a_valid_pin(clock: FakeClock) -> None:
    with pytest.raises(DeviceConfigError):
        PrinterKickCashDrawer(object(), clock=clock)  # type: ignore[arg-type]
    with pytest.raises(DeviceConfigError):
        PrinterKickCashDrawer(Dummy(), kick_pin=3, clock=clock)


# -- contract ----------------------------------------------------------------------------------


class DrawerRelayPin(MockPin):
    """Test wiring (a physical model): a relay pulse springs the drawer, which opens its switch."""

    def __init__(self, factory: Any, info: Any, switch: MockPin | None = None) -> None:
        super().__init__(factory, info)
        self.switch = switch
        self.jammed = False

    def _set_state(self, value: Any) -> None:
        super()._set_state(value)
        if value and self.switch is not None and not self.jammed:
            self.switch.drive_high()


class GpioRig:
    def __init__(self, clock: FakeClock) -> None:
        factory = MockFactory()
        self.switch = factory.pin(SWITCH, pin_class=DrawerSwitchPin)
        self.relay = factory.pin(RELAY, pin_class=DrawerRelayPin, switch=self.switch)
        self.drawer = GpioCashDrawer(
            RELAY, SWITCH, pin_factory=factory, clock=clock, sleep=clock.advance, left_open_after_s=30
        )

    def push_closed(self) -> None:
        self.switch.drive_low()

    def force_open(self) -> None:
        self.switch.drive_high()

    def jam(self) -> None:
        self.relay.jammed = True


class PrinterRig(GpioRig):
    def __init__(self, clock: FakeClock) -> None:
        factory = MockFactory()
        self.switch = factory.pin(SWITCH, pin_class=DrawerSwitchPin)

        class SpringPrinter(Dummy):
            jammed = False

            def cashdraw(inner, pin: Any) -> None:  # noqa: N805
                super().cashdraw(pin)
                if not inner.jammed:
                    self.switch.drive_high()

        self.printer = SpringPrinter()
        self.drawer = PrinterKickCashDrawer(
            self.printer, switch_pin=SWITCH, pin_factory=factory, clock=clock, left_open_after_s=30
        )

    def jam(self) -> None:
        self.printer.jammed = True


class SimRig:
    def __init__(self, clock: FakeClock) -> None:
        self.drawer = SimulatedCashDrawer(clock=clock, left_open_after_s=30)

    def push_closed(self) -> None:
        self.drawer.push_closed()

    def force_open(self) -> None:
        self.drawer.force_open()

    def jam(self) -> None:
        self.drawer.jam()


@pytest.fixture(params=["gpio", "printer", "simulated"])
def drawer_rig(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Any]:
    rig = {"gpio": GpioRig, "printer": PrinterRig, "simulated": SimRig}[request.param](clock)
    yield rig
    rig.drawer.close()


def test_contract_is_a_cash_drawer_and_healthy(drawer_rig: Any) -> None:
    assert isinstance(drawer_rig.drawer, CashDrawer)
    assert drawer_rig.drawer.health().status is DeviceStatus.OK
    assert drawer_rig.drawer.self_test().status is DeviceStatus.OK


def test_contract_open_then_push_closed(drawer_rig: Any) -> None:
    events: list[DrawerEvent] = []
    drawer_rig.drawer.on_event(events.append)
    drawer_rig.drawer.open()
    assert drawer_rig.drawer.is_open is True
    drawer_rig.push_closed()
    assert drawer_rig.drawer.is_open is False
    assert events == [DrawerEvent.OPENED, DrawerEvent.CLOSED]


def test_contract_forced_open_is_without_a_sale(drawer_rig: Any) -> None:
    events: list[DrawerEvent] = []
    drawer_rig.drawer.on_event(events.append)
    drawer_rig.force_open()
    assert events == [DrawerEvent.OPENED, DrawerEvent.OPENED_WITHOUT_SALE]


def test_contract_left_open(drawer_rig: Any, clock: FakeClock) -> None:
    drawer_rig.drawer.open()
    clock.advance(31)
    assert drawer_rig.drawer.poll() == [DrawerEvent.LEFT_OPEN]


def test_contract_jammed_drawer_does_not_open(drawer_rig: Any, clock: FakeClock) -> None:
    drawer_rig.jam()
    drawer_rig.drawer.open()
    assert drawer_rig.drawer.is_open is False
    clock.advance(5)
    assert drawer_rig.drawer.poll() == [DrawerEvent.NOT_OPENED]
    assert drawer_rig.drawer.health().status is DeviceStatus.DEGRADED


def test_contract_unsubscribed_listener_hears_nothing(drawer_rig: Any) -> None:
    events: list[DrawerEvent] = []
    unsubscribe = drawer_rig.drawer.on_event(events.append)
    unsubscribe()
    drawer_rig.force_open()
    assert events == []
    assert drawer_rig.drawer.events == [DrawerEvent.OPENED, DrawerEvent.OPENED_WITHOUT_SALE]


def test_contract_closed_drawer_refuses_to_open(drawer_rig: Any) -> None:
    drawer_rig.drawer.close()
    drawer_rig.drawer.close()
    with pytest.raises(DrawerError):
        drawer_rig.drawer.open()
