"""Contract tests of the Scale port: the HX711 adapter (over the simulated chip) and the
simulated scale must behave alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.devices.health import DeviceStatus, HealthReporting
from kiosk.devices.scale import (
    Hx711Scale,
    Scale,
    ScaleCalibration,
    ScaleState,
    ScaleUnstableError,
    ScaleZeroRangeError,
    SimulatedScale,
    WeightReading,
    calibrate_span,
    calibrate_zero,
)
from retail.clock import FakeClock
from tests.devices.conftest import make_rig


class Hx711Harness:
    """A person at an HX711 scale: the load goes onto the simulated chip."""

    def __init__(self, clock: FakeClock, resolution_g: int, capacity_g: int) -> None:
        self.clock = clock
        self.rig = make_rig(MockFactory(), clock, offset=30_000, counts_per_gram=400.0)
        self.scale = Hx711Scale(
            self.rig.hx, ScaleCalibration(30_000, 400.0), capacity_g=capacity_g, resolution_g=resolution_g, clock=clock
        )

    def put(self, grams: float) -> None:
        self.rig.chip.place(grams)

    def take(self, grams: float) -> None:
        self.rig.chip.remove(grams)

    def step(self) -> WeightReading:
        self.clock.advance(0.1)
        return self.scale.update()

    def settle(self) -> WeightReading:
        for _ in range(8):
            self.step()
        return self.scale.weight()

    def unplug(self) -> None:
        self.rig.chip.disconnect()

    def miscalibrate(self) -> None:
        self.scale.set_calibration(ScaleCalibration(12_000, 300.0))


class SimulatedHarness:
    def __init__(self, clock: FakeClock, resolution_g: int, capacity_g: int) -> None:
        self.clock = clock
        self.scale = SimulatedScale(capacity_g=capacity_g, resolution_g=resolution_g, clock=clock, settle_s=0.3)

    def put(self, grams: float) -> None:
        self.scale.place(grams)

    def take(self, grams: float) -> None:
        self.scale.remove(grams)

    def step(self) -> WeightReading:
        self.clock.advance(0.1)
        return self.scale.update()

    def settle(self) -> WeightReading:
        for _ in range(8):
            self.step()
        return self.scale.weight()

    def unplug(self) -> None:
        self.scale.disconnect()

    def miscalibrate(self) -> None:
        self.scale.set_calibration(ScaleCalibration(12_000, 300.0))


@pytest.fixture(params=["hx711", "simulated"])
def make(request: pytest.FixtureRequest) -> Iterator[Any]:
    made: list[Any] = []

    def build(resolution_g: int = 1, capacity_g: int = 6000) -> Any:
        cls = Hx711Harness if request.param == "hx711" else SimulatedHarness
        harness = cls(FakeClock(), resolution_g, capacity_g)
        made.append(harness)
        return harness

    yield build
    for h in made:
        h.scale.close()


def test_is_a_scale_that_reports_health(make: Any) -> None:
    h = make()
    assert isinstance(h.scale, Scale)
    assert isinstance(h.scale, HealthReporting)
    assert h.scale.health().status is DeviceStatus.OK


def test_empty_platter_reads_zero_stable_ok(make: Any) -> None:
    h = make()
    assert h.settle() == WeightReading(0, True, ScaleState.OK)


def test_placed_weight_is_read_once_settled(make: Any) -> None:
    h = make()
    h.settle()
    h.put(250)
    assert not h.step().stable
    assert h.settle() == WeightReading(250, True, ScaleState.OK)


def test_resolution_of_five_grams(make: Any) -> None:
    h = make(resolution_g=5)
    h.put(123)
    assert h.settle().grams == 125
    h.take(1)
    assert h.settle().grams == 120


def test_tare_nets_out_the_container_and_its_removal_reads_negative(make: Any) -> None:
    h = make()
    h.put(180)
    h.settle()
    h.scale.tare()
    assert h.settle().grams == 0
    h.put(420)
    assert h.settle() == WeightReading(420, True, ScaleState.OK)
    h.take(600)
    assert h.settle() == WeightReading(-180, True, ScaleState.NEGATIVE)


def test_tare_refuses_an_unsettled_weight(make: Any) -> None:
    h = make()
    h.settle()
    h.put(300)
    h.step()
    with pytest.raises(ScaleUnstableError):
        h.scale.tare()


def test_overload_past_capacity_plus_nine_divisions(make: Any) -> None:
    h = make(capacity_g=6000, resolution_g=2)
    h.put(6018)
    assert h.settle().state is ScaleState.OK
    h.put(4)
    assert h.settle().state is ScaleState.OVERLOAD
    assert h.scale.health().status is DeviceStatus.DEGRADED


def test_lifted_platter_reads_underload(make: Any) -> None:
    h = make()
    h.take(50)
    assert h.settle().state is ScaleState.UNDERLOAD


def test_zero_within_range_and_refused_beyond(make: Any) -> None:
    h = make(capacity_g=6000)
    h.put(12)  # crumbs on the platter
    h.settle()
    h.scale.zero()
    assert h.settle().grams == 0
    h.put(1000)
    h.settle()
    with pytest.raises(ScaleZeroRangeError):
        h.scale.zero()


def test_on_change_reports_each_new_reading_until_unsubscribed(make: Any) -> None:
    h = make()
    h.settle()
    seen: list[WeightReading] = []
    unsubscribe = h.scale.on_change(seen.append)
    h.put(75)
    h.settle()
    assert seen[-1] == WeightReading(75, True, ScaleState.OK)
    assert any(not r.stable for r in seen)
    unsubscribe()
    count = len(seen)
    h.put(5)
    h.settle()
    assert len(seen) == count


def test_unplugged_scale_is_not_ready_and_faulted(make: Any) -> None:
    h = make()
    h.settle()
    h.unplug()
    assert h.settle().state is ScaleState.NOT_READY
    assert h.scale.health().status is DeviceStatus.FAULT
    assert h.scale.self_test().status is DeviceStatus.FAULT


def test_calibration_recovers_from_a_wrong_calibration(make: Any) -> None:
    h = make()
    h.miscalibrate()
    h.put(1000)
    assert h.settle().grams != 1000
    h.take(1000)
    h.settle()
    calibrate_zero(h.scale)
    h.put(1000)
    h.settle()
    calibrate_span(h.scale, 1000)
    h.put(500)
    assert h.settle().grams == 1500


def test_close_is_idempotent_and_a_context_manager(make: Any) -> None:
    h = make()
    with h.scale as scale:
        assert scale is h.scale
    h.scale.close()
    assert h.scale.closed
