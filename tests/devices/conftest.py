"""Fixtures for the device tests: a fake clock, gpiozero mock pin factories, an HX711 rig."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from kiosk.devices.scale.hx711 import Hx711
from kiosk.devices.scale.simulated_hx711 import SimulatedHx711
from retail.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory()
    yield f
    f.reset()


@pytest.fixture
def pwm_factory() -> Iterator[MockFactory]:
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


@dataclass
class Hx711Rig:
    chip: SimulatedHx711
    hx: Hx711
    factory: MockFactory
    clock: FakeClock

    def rising_edges(self) -> int:
        """Rising edges on the clock pin since its states were last cleared."""
        states = [s.state for s in self.chip.clock_pin.states]
        return sum(1 for a, b in zip(states, states[1:]) if not a and b)


def make_rig(factory: MockFactory, clock: FakeClock, *, data: int = 5, sck: int = 6, gain: int = 128, **chip_kw) -> Hx711Rig:
    chip = SimulatedHx711(data, sck, factory=factory, clock=clock, **chip_kw)
    hx = Hx711(data, sck, gain=gain, pin_factory=factory, clock=clock, sleep=clock.advance, ready_timeout=0.5)
    return Hx711Rig(chip, hx, factory, clock)


@pytest.fixture
def rig(factory: MockFactory, clock: FakeClock) -> Iterator[Hx711Rig]:
    r = make_rig(factory, clock, offset=1000, counts_per_gram=400.0)
    yield r
    r.hx.close()
    r.chip.close()
