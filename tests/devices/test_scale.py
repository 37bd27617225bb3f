"""Scale logic, the HX711 scale adapter over the simulated chip, calibration and the profile."""

from __future__ import annotations

import json
import threading
from collections import deque
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.devices.health import DeviceStatus
from kiosk.devices.scale import (
    Hx711Scale,
    ScaleCalibration,
    ScaleCalibrationError,
    ScaleState,
    ScaleUnstableError,
    WeightReading,
    calibrate_span,
    calibrate_zero,
)
from kiosk.devices.scale.factory import build_hx711_scale, build_simulated_scale
from kiosk.devices.scale.hx711 import RAW_MAX, RAW_MIN
from kiosk.devices.scale.scale import StabilityDetector, classify_weight, round_to_resolution
from kiosk.devices.scale.simulated_hx711 import SimulatedHx711
from kiosk.errors import DeviceConfigError
from kiosk.profile import DeviceProfile
from retail.clock import FakeClock
from tests.devices.conftest import Hx711Rig, make_rig


def settle(scale: Hx711Scale, clock: FakeClock, n: int = 6, step: float = 0.1) -> WeightReading:
    for _ in range(n):
        clock.advance(step)
        scale.update()
    return scale.weight()


def make_scale(rig: Hx711Rig, **kw: object) -> Hx711Scale:
    options: dict[str, object] = {"capacity_g": 15000, "resolution_g": 1, "clock": rig.clock}
    options.update(kw)
    return Hx711Scale(rig.hx, ScaleCalibration(1000, 400.0), **options)  # type: ignore[arg-type]


# -- pure logic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grams", "resolution", "expected"),
    [(122.4, 1, 122), (122.5, 1, 123), (122, 5, 120), (123, 5, 125), (127.4, 5, 125), (-3, 5, -5), (-2.4, 5, 0),
     (1999, 2, 2000), (1998.9, 2, 1998)],
)
def test_rounds_to_the_nearest_division(grams: float, resolution: int, expected: int) -> None:
    assert round_to_resolution(grams, resolution) == expected


@pytest.mark.parametrize(
    ("gross", "net", "saturated", "state"),
    [
        (100, 100, 0, ScaleState.OK),
        (15045, 15045, 0, ScaleState.OK),  # up to capacity + 9 divisions
        (15046, 15046, 0, ScaleState.OVERLOAD),
        (10, 10, 1, ScaleState.OVERLOAD),
        (-101, -101, 0, ScaleState.UNDERLOAD),
        (10, 10, -1, ScaleState.UNDERLOAD),
        (50, -40, 0, ScaleState.NEGATIVE),
        (-20, -20, 0, ScaleState.NEGATIVE),
        (50, -2, 0, ScaleState.OK),  # rounds to zero at 5 g
    ],
)
def test_classifies_weights(gross: float, net: float, saturated: int, state: ScaleState) -> None:
    assert (
        classify_weight(gross, net, capacity_g=15000, resolution_g=5, underload_g=100, saturated=saturated) is state
    )


def test_stable_needs_enough_readings_within_the_band_inside_the_window() -> None:
    det = StabilityDetector(window_s=0.5, min_readings=3, band_g=2)
    samples: deque[tuple[float, float]] = deque([(0.0, 100.0), (0.1, 101.0), (0.2, 102.0)])
    assert det.is_stable(samples, 0.2)
    samples.append((0.3, 103.5))
    assert not det.is_stable(samples, 0.3)
    assert not det.is_stable(samples, 0.65)  # only 0.2/0.3 left in the window
    samples.extend([(0.7, 103.0), (0.8, 103.0)])
    assert det.is_stable(samples, 0.8)


# -- the HX711 scale -------------------------------------------------------------------------


def test_reports_grams_through_the_calibration(rig: Hx711Rig) -> None:
    scale = make_scale(rig)
    rig.chip.place(321)
    assert settle(scale, rig.clock) == WeightReading(321, True, ScaleState.OK)


def test_resolution_rounds_the_reported_weight(rig: Hx711Rig) -> None:
    scale = make_scale(rig, resolution_g=5)
    rig.chip.place(123)
    assert settle(scale, rig.clock).grams == 125
    rig.chip.remove(1)
    assert settle(scale, rig.clock).grams == 120


def test_a_change_is_unstable_until_the_window_agrees(rig: Hx711Rig) -> None:
    scale = make_scale(rig)
    settle(scale, rig.clock)
    rig.chip.place(500)
    rig.clock.advance(0.1)
    first = scale.update()
    assert not first.stable
    assert settle(scale, rig.clock).stable


def test_small_noise_settles_and_large_noise_does_not(factory: MockFactory, clock: FakeClock) -> None:
    quiet = make_rig(factory, clock, offset=1000, counts_per_gram=400.0, noise_counts=40.0, seed=1)
    scale = make_scale(quiet, resolution_g=2)
    quiet.chip.place(1000)
    reading = settle(scale, clock, n=10)
    assert reading.stable and reading.grams == 1000
    quiet.hx.close()
    noisy = make_rig(MockFactory(), clock, offset=1000, counts_per_gram=400.0, noise_counts=4000.0, seed=1)
    scale = make_scale(noisy, resolution_g=2)
    noisy.chip.place(1000)
    assert not any(settle(scale, clock, n=1).stable for _ in range(20))


def test_saturated_converter_reads_overload_and_underload(rig: Hx711Rig) -> None:
    scale = make_scale(rig)
    rig.chip.set_raw(RAW_MAX)
    assert settle(scale, rig.clock).state is ScaleState.OVERLOAD
    assert scale.health().status is DeviceStatus.DEGRADED
    rig.chip.set_raw(RAW_MIN)
    assert settle(scale, rig.clock).state is ScaleState.UNDERLOAD


def test_silent_converter_reads_not_ready_and_faults_until_it_answers(rig: Hx711Rig) -> None:
    scale = make_scale(rig)
    settle(scale, rig.clock)
    healthy_since = scale.health().since
    rig.chip.disconnect()
    assert scale.update() == WeightReading(0, False, ScaleState.NOT_READY)
    health = scale.health()
    assert (health.status, health.code) == (DeviceStatus.FAULT, "not_ready")
    assert health.since > healthy_since
    rig.chip.reconnect()
    assert settle(scale, rig.clock).state is ScaleState.OK
    assert scale.health().status is DeviceStatus.OK


def test_old_readings_go_stale(rig: Hx711Rig) -> None:
    scale = make_scale(rig, stale_after_s=1.0)
    settle(scale, rig.clock)
    rig.clock.advance(1.5)
    assert scale.weight().state is ScaleState.NOT_READY
    assert scale.health().code == "no_readings"


def test_zero_takes_out_drift_within_the_zero_range(factory: MockFactory, clock: FakeClock) -> None:
    r = make_rig(factory, clock, offset=1000, counts_per_gram=400.0, drift_per_reading=400.0)
    scale = make_scale(r, stable_band_g=10, stable_readings=2, average_readings=1)
    reading = settle(scale, clock, n=3)
    assert reading.grams > 0  # crept up one gram per conversion
    scale.zero()
    assert scale.update().grams <= 1


def test_tare_then_remove_container_reads_negative(rig: Hx711Rig) -> None:
    scale = make_scale(rig)
    rig.chip.place(200)
    settle(scale, rig.clock)
    scale.tare()
    assert settle(scale, rig.clock).grams == 0
    rig.chip.place(150)
    assert settle(scale, rig.clock) == WeightReading(150, True, ScaleState.OK)
    rig.chip.clear()
    assert settle(scale, rig.clock) == WeightReading(-200, True, ScaleState.NEGATIVE)


def test_background_reading_delivers_changes(factory: MockFactory, clock: FakeClock) -> None:
    # a real-time rig: the reader thread runs on its own, callbacks arrive from it
    chip = SimulatedHx711(5, 6, factory=factory, offset=1000, counts_per_gram=400.0, power_down_after=5.0)
    from kiosk.devices.scale.hx711 import Hx711

    hx = Hx711(5, 6, pin_factory=factory)
    scale = Hx711Scale(hx, ScaleCalibration(1000, 400.0), capacity_g=15000)
    got = threading.Event()
    readings: list[WeightReading] = []

    def on_change(reading: WeightReading) -> None:
        readings.append(reading)
        if reading.grams == 750 and reading.stable:
            got.set()

    scale.on_change(on_change)
    chip.place(750)
    with scale:
        scale.start()
        assert got.wait(10)
    assert hx.closed
    assert WeightReading(750, True, ScaleState.OK) in readings


def test_self_test_passes_then_fails_on_a_silent_or_broken_converter(rig: Hx711Rig) -> None:
    scale = make_scale(rig)
    assert scale.self_test().status is DeviceStatus.OK
    rig.chip.stick_bit(23, 1)  # sign bit stuck high: a hugely negative reading
    health = scale.self_test()
    assert (health.status, health.code) == (DeviceStatus.DEGRADED, "out_of_range")
    rig.chip.unstick_bits()
    rig.chip.set_raw(RAW_MAX)
    assert scale.self_test().code == "saturated"
    rig.chip.disconnect()
    assert scale.self_test().code == "not_ready"


def test_rejects_bad_settings(rig: Hx711Rig) -> None:
    with pytest.raises(DeviceConfigError):
        make_scale(rig, capacity_g=0)
    with pytest.raises(DeviceConfigError):
        make_scale(rig, resolution_g=0)
    with pytest.raises(ScaleCalibrationError):
        ScaleCalibration(0, 0.0)
    with pytest.raises(ScaleCalibrationError):
        ScaleCalibration(0, float("nan"))


# -- calibration and the profile ---------------------------------------------------------------


def test_calibration_round_trips_through_the_profile(tmp_path: Path, factory: MockFactory, clock: FakeClock) -> None:
    path = tmp_path / "profile.json"
    # the real load cell: offset and span far from the profile's defaults
    chip = SimulatedHx711(5, 6, factory=factory, clock=clock, offset=-52_345, counts_per_gram=-401.5)
    with DeviceProfile(path) as profile:
        scale = build_hx711_scale(profile, "produce", pin_factory=factory, clock=clock, sleep=clock.advance)
        settle(scale, clock)
        zero = calibrate_zero(scale, store=profile)
        assert zero.zero_offset == -52_345
        chip.place(2000)
        settle(scale, clock)
        span = calibrate_span(scale, 2000, store=profile)
        assert span.counts_per_gram == pytest.approx(-401.5)
        scale.close()
    stored = json.loads(path.read_text())
    assert any(doc["name"] == "produce" and doc["zero_offset"] == -52_345 for doc in stored["scales"].values())
    with DeviceProfile(path) as reopened:
        assert reopened.scale_calibration("produce") == span
        scale = build_hx711_scale(reopened, "produce", pin_factory=factory, clock=clock, sleep=clock.advance)
        chip.clear()
        chip.place(1235)
        assert settle(scale, clock) == WeightReading(1235, True, ScaleState.OK)  # produce scale: 5 g
        scale.close()


def test_calibration_needs_a_settled_weight_and_a_real_span(rig: Hx711Rig) -> None:
    scale = make_scale(rig)
    rig.chip.place(100)
    rig.clock.advance(0.1)
    scale.update()
    with pytest.raises(ScaleUnstableError):
        calibrate_zero(scale)
    settle(scale, rig.clock)
    calibrate_zero(scale)
    with pytest.raises(ScaleCalibrationError):
        calibrate_span(scale, 500)  # nothing more was placed
    with pytest.raises(ScaleCalibrationError):
        calibrate_span(scale, 0)


def test_produce_and_bag_scales_are_separate_instances(tmp_path: Path, factory: MockFactory, clock: FakeClock) -> None:
    with DeviceProfile(tmp_path / "p.json") as profile:
        pins = profile.pins()
        produce_chip = SimulatedHx711(
            pins.produce_scale_data, pins.produce_scale_clock, factory=factory, clock=clock, offset=8000,
            counts_per_gram=420.0,
        )
        bag_chip = SimulatedHx711(
            pins.bag_scale_data, pins.bag_scale_clock, factory=factory, clock=clock, offset=8000, counts_per_gram=210.0
        )
        produce = build_hx711_scale(profile, "produce", pin_factory=factory, clock=clock, sleep=clock.advance)
        bag = build_hx711_scale(profile, "bag", pin_factory=factory, clock=clock, sleep=clock.advance)
    produce_chip.place(333)
    bag_chip.place(4444)
    for _ in range(6):
        clock.advance(0.1)
        produce.update()
        bag.update()
    assert (produce.name, produce.resolution_g, produce.capacity_g) == ("produce", 5, 15000)
    assert (bag.name, bag.resolution_g, bag.capacity_g) == ("bag", 10, 30000)
    assert produce.weight().grams == 335
    assert bag.weight().grams == 4440
    produce.close()
    bag.close()


def test_simulated_scale_is_built_from_the_profile(tmp_path: Path, clock: FakeClock) -> None:
    with DeviceProfile(tmp_path / "p.json") as profile:
        scale = build_simulated_scale(profile, "bag", clock=clock)
    assert (scale.capacity_g, scale.resolution_g) == (30000, 10)
    scale.place(1234)
    clock.advance(1)
    assert scale.update().grams == 1230
