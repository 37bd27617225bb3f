"""The status light and buzzer at pin level (tower and RGB), the simulator, and their contract."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from kiosk.devices.health import DeviceStatus, HealthReporting
from kiosk.devices.light import (
    TOWER_PATTERNS,
    LightState,
    Pattern,
    RgbStatusLight,
    SimulatedStatusLight,
    StatusLight,
    StatusLightError,
    TowerLight,
)
from kiosk.errors import DeviceConfigError
from retail.clock import FakeClock

GREEN, AMBER, RED, BUZZER = 22, 23, 24, 25
R, G, B = 12, 13, 19


@pytest.fixture
def tower(factory: MockFactory, clock: FakeClock) -> Iterator[TowerLight]:
    light = TowerLight(GREEN, AMBER, RED, BUZZER, pin_factory=factory, clock=clock)
    yield light
    light.close()


def levels(factory: MockFactory, *pins: int) -> tuple[bool, ...]:
    return tuple(bool(factory.pin(p).state) for p in pins)


def at(clock: FakeClock, light: Any, seconds: float) -> None:
    clock.advance(seconds)
    light.tick()


# -- patterns ------------------------------------------------------------------------------------


def test_a_blink_pattern_repeats_and_a_one_shot_finishes() -> None:
    blink = Pattern.blink(1, 0, 0.5, 0.25)
    assert [blink.value_at(t)[0] for t in (0, 0.49, 0.5, 0.74, 0.75, 1.3, 1.6)] == [1, 1, 0, 0, 1, 0, 1]
    once = Pattern.once((1, 0.1), (0, 0.1))
    assert once.value_at(0.05) == (1, False)
    assert once.value_at(0.25)[1] is True
    with pytest.raises(DeviceConfigError):
        Pattern.once((1, 0))


# -- tower light at pin level ------------------------------------------------------------------


def test_idle_is_green_steady(tower: TowerLight, factory: MockFactory, clock: FakeClock) -> None:
    assert levels(factory, GREEN, AMBER, RED, BUZZER) == (True, False, False, False)
    at(clock, tower, 5)
    factory.pin(GREEN).assert_states([False, True])
    assert len(factory.pin(GREEN).states) == 2


def test_assistance_blinks_amber(tower: TowerLight, factory: MockFactory, clock: FakeClock) -> None:
    tower.show(LightState.ASSISTANCE)
    assert levels(factory, GREEN, AMBER, RED) == (False, True, False)
    at(clock, tower, 0.51)
    assert levels(factory, AMBER) == (False,)
    at(clock, tower, 0.5)
    factory.pin(AMBER).assert_states([False, True, False, True])
    assert len(factory.pin(AMBER).states) == 4
    assert levels(factory, BUZZER) == (False,)


def test_alarm_blinks_red_and_pulses_the_buzzer(tower: TowerLight, factory: MockFactory, clock: FakeClock) -> None:
    tower.show(LightState.ALARM)
    assert levels(factory, GREEN, RED, BUZZER) == (False, True, True)
    at(clock, tower, 0.21)  # buzzer pulse (0.2 s) over
    assert levels(factory, RED, BUZZER) == (True, False)
    at(clock, tower, 0.05)  # red half-period (0.25 s) over
    assert levels(factory, RED, BUZZER) == (False, False)
    at(clock, tower, 0.75)  # 1.01 s: both on again
    assert levels(factory, RED, BUZZER) == (True, True)
    factory.pin(BUZZER).assert_states([False, True, False, True])


def test_offline_is_red_steady_and_silent(tower: TowerLight, factory: MockFactory, clock: FakeClock) -> None:
    tower.show(LightState.OFFLINE)
    for _ in range(5):
        at(clock, tower, 0.3)
    assert levels(factory, GREEN, AMBER, RED, BUZZER) == (False, False, True, False)
    factory.pin(BUZZER).assert_states([False])
    assert len(factory.pin(BUZZER).states) == 1


def test_scan_flash_blinks_green_off_and_beeps_briefly(tower: TowerLight, factory: MockFactory, clock: FakeClock) -> None:
    green, buzzer = factory.pin(GREEN), factory.pin(BUZZER)
    green.clear_states()
    buzzer.clear_states()
    tower.flash_scan()
    assert levels(factory, GREEN, BUZZER) == (False, True)
    at(clock, tower, 0.06)
    assert levels(factory, GREEN, BUZZER) == (False, False)
    at(clock, tower, 0.04)
    green.assert_states([True, False, True])
    buzzer.assert_states([False, True, False])
    assert tower.state is LightState.IDLE


def test_scan_flash_lights_green_when_green_is_off(tower: TowerLight, factory: MockFactory, clock: FakeClock) -> None:
    tower.show(LightState.OFFLINE)
    tower.flash_scan()
    assert levels(factory, GREEN, RED) == (True, True)
    at(clock, tower, 0.1)
    assert levels(factory, GREEN, RED) == (False, True)


def test_beep_sounds_the_buzzer_count_times(tower: TowerLight, factory: MockFactory, clock: FakeClock) -> None:
    buzzer = factory.pin(BUZZER)
    buzzer.clear_states()
    tower.beep(duration_s=0.1, count=2, gap_s=0.1)
    for _ in range(4):
        at(clock, tower, 0.101)
    buzzer.assert_states([False, True, False, True, False])
    assert len(buzzer.states) == 5
    with pytest.raises(DeviceConfigError):
        tower.beep(count=0)


def test_self_test_lights_every_lamp_then_returns(tower: TowerLight, factory: MockFactory, clock: FakeClock) -> None:
    tower.show(LightState.ASSISTANCE)
    assert tower.self_test().status is DeviceStatus.OK
    assert levels(factory, GREEN, AMBER, RED, BUZZER) == (True, True, True, True)
    at(clock, tower, 1.01)
    assert levels(factory, GREEN, RED, BUZZER) == (False, False, False)
    assert tower.state is LightState.ASSISTANCE


def test_an_active_low_tower_inverts_the_pins(factory: MockFactory, clock: FakeClock) -> None:
    light = TowerLight(GREEN, AMBER, RED, pin_factory=factory, clock=clock, active_high=False)
    assert levels(factory, GREEN, AMBER, RED) == (False, True, True)
    light.close()


def test_close_switches_off_and_frees_the_pins(factory: MockFactory, clock: FakeClock) -> None:
    light = TowerLight(GREEN, AMBER, RED, BUZZER, pin_factory=factory, clock=clock)
    light.show(LightState.ALARM)
    light.close()
    light.close()
    factory.pin(RED).assert_states([False, True, False])
    again = TowerLight(GREEN, AMBER, RED, BUZZER, pin_factory=factory, clock=clock)
    again.close()


def test_the_background_ticker_plays_the_pattern(factory: MockFactory) -> None:
    fast = dict(TOWER_PATTERNS)
    fast[LightState.ASSISTANCE] = {"amber": Pattern.blink(True, False, 0.002, 0.002)}
    light = TowerLight(GREEN, AMBER, RED, pin_factory=factory, patterns=fast)  # real clock
    amber = factory.pin(AMBER)
    light.show(LightState.ASSISTANCE)
    light.start(interval_s=0.0005)
    deadline = time.monotonic() + 10
    while len(amber.states) < 6 and time.monotonic() < deadline:
        time.sleep(0.002)
    light.close()
    assert len(amber.states) >= 6
    amber.assert_states([False, True, False, True, False, True])


# -- RGB light ----------------------------------------------------------------------------------


def rgb(factory: MockFactory) -> tuple[float, float, float]:
    return tuple(round(float(factory.pin(p).state), 3) for p in (R, G, B))  # type: ignore[return-value]


def test_rgb_light_shows_each_state_in_colour(pwm_factory: MockFactory, clock: FakeClock) -> None:
    light = RgbStatusLight(R, G, B, BUZZER, pin_factory=pwm_factory, clock=clock)
    assert rgb(pwm_factory) == (0.0, 1.0, 0.0)
    light.show(LightState.ASSISTANCE)
    assert rgb(pwm_factory) == (1.0, 0.5, 0.0)
    at(clock, light, 0.51)
    assert rgb(pwm_factory) == (0.0, 0.0, 0.0)
    light.show(LightState.OFFLINE)
    assert rgb(pwm_factory) == (0.0, 0.0, 1.0)
    light.show(LightState.ALARM)
    assert rgb(pwm_factory) == (1.0, 0.0, 0.0)
    assert bool(pwm_factory.pin(BUZZER).state)
    light.close()


def test_rgb_scan_flash_goes_dark_briefly_on_green(pwm_factory: MockFactory, clock: FakeClock) -> None:
    light = RgbStatusLight(R, G, B, pin_factory=pwm_factory, clock=clock)
    light.flash_scan()
    assert rgb(pwm_factory) == (0.0, 0.0, 0.0)
    at(clock, light, 0.1)
    assert rgb(pwm_factory) == (0.0, 1.0, 0.0)
    light.beep()  # no buzzer fitted: ignored
    light.close()


# -- contract ------------------------------------------------------------------------------------


@pytest.fixture(params=["tower", "rgb", "simulated"])
def any_light(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Any]:
    if request.param == "tower":
        light: Any = TowerLight(GREEN, AMBER, RED, BUZZER, pin_factory=MockFactory(), clock=clock)
    elif request.param == "rgb":
        light = RgbStatusLight(R, G, B, BUZZER, pin_factory=MockFactory(pin_class=MockPWMPin), clock=clock)
    else:
        light = SimulatedStatusLight(clock=clock)
    yield light
    light.close()


def test_contract_is_a_status_light_that_starts_idle(any_light: Any) -> None:
    assert isinstance(any_light, StatusLight)
    assert isinstance(any_light, HealthReporting)
    assert any_light.state is LightState.IDLE
    assert any_light.health().status is DeviceStatus.OK


@pytest.mark.parametrize("state", list(LightState))
def test_contract_shows_each_state(any_light: Any, state: LightState) -> None:
    any_light.show(state)
    assert any_light.state is state
    any_light.flash_scan()
    any_light.beep()
    assert any_light.state is state


def test_contract_accepts_state_names(any_light: Any) -> None:
    any_light.show("alarm")
    assert any_light.state is LightState.ALARM
    with pytest.raises(ValueError):
        any_light.show("disco")


def test_contract_closed_light_refuses_to_show(any_light: Any) -> None:
    any_light.close()
    any_light.close()
    with pytest.raises(StatusLightError):
        any_light.show(LightState.ALARM)


def test_simulator_records_what_it_showed(clock: FakeClock) -> None:
    light = SimulatedStatusLight(clock=clock)
    shown: list[LightState] = []
    light.on_show(shown.append)
    light.show(LightState.ASSISTANCE)
    light.show(LightState.ASSISTANCE)
    light.show(LightState.IDLE)
    light.flash_scan()
    light.beep(0.2, count=3)
    assert light.history == [LightState.IDLE, LightState.ASSISTANCE, LightState.IDLE]
    assert shown == [LightState.ASSISTANCE, LightState.ASSISTANCE, LightState.IDLE]
    assert (light.flashes, light.beeps) == (1, [(0.2, 3, 0.1)])
