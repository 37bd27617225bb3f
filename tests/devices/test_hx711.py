"""The HX711 driver at pin level, against the simulated chip on gpiozero mock pins."""

from __future__ import annotations

import statistics

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.devices.scale.errors import Hx711NotReadyError
from kiosk.devices.scale.hx711 import RAW_MAX, RAW_MIN, Hx711, from_twos_complement
from kiosk.devices.scale.simulated_hx711 import SimulatedHx711
from kiosk.errors import DeviceConfigError, DeviceTimeoutError
from retail.clock import FakeClock
from tests.devices.conftest import Hx711Rig, make_rig


def test_reads_the_placed_load_as_offset_plus_counts_per_gram(rig: Hx711Rig) -> None:
    rig.chip.place(250)
    assert rig.hx.read_raw() == 1000 + 250 * 400
    rig.chip.remove(50)
    assert rig.hx.read_raw() == 1000 + 200 * 400


@pytest.mark.parametrize(
    ("word", "value"),
    [(0x7FFFFF, 8388607), (0x800000, -8388608), (0xFFFFFF, -1), (0x000000, 0), (0x000001, 1), (0x800001, -8388607)],
)
def test_twos_complement_of_24_bit_words(word: int, value: int) -> None:
    assert from_twos_complement(word) == value


def test_twos_complement_rejects_words_wider_than_24_bits() -> None:
    with pytest.raises(ValueError):
        from_twos_complement(0x1000000)


@pytest.mark.parametrize("value", [RAW_MAX, RAW_MIN, -1, 0, 1, -2, 0x555555, -0x2AAAAB])
def test_edge_values_survive_the_bit_banged_read(rig: Hx711Rig, value: int) -> None:
    rig.chip.set_raw(value)
    assert rig.hx.read_raw() == value


def test_each_bit_is_shifted_out_msb_first_on_the_data_pin(rig: Hx711Rig) -> None:
    rig.chip.set_raw(1)  # ends on a high LSB, so "ready" shows as a falling edge
    assert rig.hx.read_raw() == 1
    rig.chip.set_raw(RAW_MIN)  # 1000 0000 ... : sign bit high, all the rest low
    data = rig.chip.data_pin
    data.clear_states()
    assert rig.hx.read_raw() == RAW_MIN
    # LSB of the last read (high), ready (low), MSB (high), then 23 zero bits (low)
    data.assert_states([True, False, True, False])
    assert len(data.states) == 4


@pytest.mark.parametrize(("gain", "pulses", "channel"), [(128, 25, "A"), (32, 26, "B"), (64, 27, "A")])
def test_pulses_per_read_select_the_next_gain_and_channel(
    factory: MockFactory, clock: FakeClock, gain: int, pulses: int, channel: str
) -> None:
    rig = make_rig(factory, clock, gain=gain)
    rig.hx.read_raw()  # unknown chip state: the first read also sets the gain
    rig.chip.clock_pin.clear_states()
    rig.hx.read_raw()
    assert rig.rising_edges() == pulses
    rig.chip.clock_pin.assert_states([False, True, False, True, False])
    assert rig.chip.clock_pin.states[-1].state is False  # clock left low: chip stays powered
    rig.chip.data_pin.state  # noqa: B018 - sampling DOUT lets the chip finish the read
    assert (rig.chip.gain, rig.chip.channel) == (gain, channel)
    assert rig.chip.pulses_per_read[-1] == pulses


def test_first_read_drops_a_conversion_of_unknown_gain(factory: MockFactory, clock: FakeClock) -> None:
    rig = make_rig(factory, clock, gain=64)
    rig.chip.clock_pin.clear_states()
    rig.hx.read_raw()
    assert rig.rising_edges() == 2 * 27
    assert rig.chip.conversions == 2


def test_gain_64_reads_half_of_gain_128_and_gain_32_reads_channel_b(factory: MockFactory, clock: FakeClock) -> None:
    rig = make_rig(factory, clock, offset=0, counts_per_gram=400.0, channel_b_counts=-1234)
    rig.chip.place(100)
    assert rig.hx.read_raw() == 40000
    rig.hx.gain = 64
    assert rig.hx.read_raw() == 20000
    rig.hx.gain = 32
    assert rig.hx.channel == "B"
    assert rig.hx.read_raw() == -1234


def test_power_down_holds_the_clock_high_past_60_us_and_power_up_resets_gain(
    factory: MockFactory, clock: FakeClock
) -> None:
    rig = make_rig(factory, clock, gain=64, offset=0, counts_per_gram=400.0)
    rig.chip.place(10)
    rig.hx.read_raw()
    assert rig.chip.powered
    rig.hx.power_down()
    assert rig.chip.clock_pin.state is True
    assert not rig.chip.powered
    assert not rig.hx.powered
    with pytest.raises(Hx711NotReadyError):
        rig.hx.read_raw()
    rig.hx.power_up()
    assert rig.chip.clock_pin.state is False
    assert rig.chip.powered
    assert rig.chip.gain == 128  # the chip wakes at channel A, gain 128
    rig.chip.clock_pin.clear_states()
    assert rig.hx.read_raw() == 2000  # still gain 64: the 128 conversion was dropped
    assert rig.rising_edges() == 27 + 27  # both reads ask for gain 64 next


def test_after_power_up_a_gain_128_read_needs_no_extra_conversion(rig: Hx711Rig) -> None:
    rig.hx.read_raw()
    rig.hx.power_down()
    rig.hx.power_up()
    rig.chip.clock_pin.clear_states()
    rig.hx.read_raw()
    assert rig.rising_edges() == 25


def test_simulated_chip_powers_down_only_after_60_us_of_clock_high(factory: MockFactory, clock: FakeClock) -> None:
    chip = SimulatedHx711(5, 6, factory=factory, clock=clock)
    sck = chip.clock_pin
    sck.function = "output"
    sck.state = True
    clock.advance(50e-6)
    assert chip.powered
    clock.advance(20e-6)
    assert not chip.powered
    assert chip.data_pin.state is True  # not ready while down
    sck.state = False
    assert chip.powered
    assert chip.gain == 128


def test_not_ready_times_out_with_a_typed_timeout_error(rig: Hx711Rig) -> None:
    rig.hx.read_raw()
    rig.chip.disconnect()
    start = rig.clock.monotonic()
    with pytest.raises(Hx711NotReadyError) as caught:
        rig.hx.read_raw()
    assert isinstance(caught.value, DeviceTimeoutError)
    assert isinstance(caught.value, TimeoutError)
    assert rig.clock.monotonic() - start >= rig.hx.ready_timeout
    assert rig.chip.data_pin.state is True  # the pull-up holds DOUT high
    rig.chip.reconnect()
    rig.chip.place(1)
    assert rig.hx.read_raw() == 1400


def test_waits_for_a_slow_conversion_within_the_timeout(factory: MockFactory, clock: FakeClock) -> None:
    rig = make_rig(factory, clock, conversion_time=0.1, offset=5)
    start = clock.monotonic()
    assert rig.hx.read_raw() == 5
    assert clock.monotonic() - start >= 0.1
    rig.chip.conversion_time = 1.0
    with pytest.raises(Hx711NotReadyError):
        rig.hx.read_raw()


def test_seeded_noise_repeats_and_has_the_configured_spread(clock: FakeClock) -> None:
    def run(seed: int) -> list[int]:
        f = MockFactory()
        r = make_rig(f, clock, offset=100_000, noise_counts=50.0, seed=seed)
        values = [r.hx.read_raw() for _ in range(200)]
        r.hx.close()
        return values

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert 35 < statistics.stdev(first) < 65
    assert abs(statistics.mean(first) - 100_000) < 15


def test_drift_adds_the_same_step_on_every_conversion(factory: MockFactory, clock: FakeClock) -> None:
    rig = make_rig(factory, clock, offset=0, drift_per_reading=10.0)
    rig.hx.read_raw()
    values = [rig.hx.read_raw() for _ in range(5)]
    assert [b - a for a, b in zip(values, values[1:])] == [10, 10, 10, 10]


def test_stuck_bits_corrupt_what_the_driver_reads(rig: Hx711Rig) -> None:
    rig.chip.stick_bit(23, 1)
    assert rig.hx.read_raw() == 1000 - 0x800000
    rig.chip.unstick_bits()
    rig.chip.stick_bit(3, 1)
    assert rig.hx.read_raw() == 1000 | 0b1000
    rig.chip.unstick_bits()
    assert rig.hx.read_raw() == 1000


def test_saturates_at_the_24_bit_limits(rig: Hx711Rig) -> None:
    rig.chip.place(1_000_000)
    assert rig.hx.read_raw() == RAW_MAX
    rig.chip.clear()
    rig.chip.remove(1_000_000)
    assert rig.hx.read_raw() == RAW_MIN


def test_background_reader_fills_a_bounded_buffer(factory: MockFactory, clock: FakeClock) -> None:
    chip = SimulatedHx711(5, 6, factory=factory, clock=clock, offset=42)
    hx = Hx711(5, 6, pin_factory=factory, clock=clock, sleep=clock.advance, buffer_size=8)
    seen: list[int] = []
    hx.on_reading(seen.append)
    with hx:
        hx.start()
        hx.start()  # idempotent
        assert hx.wait_for_readings(8, timeout=10)
        assert hx.running
        hx.stop()
        assert not hx.running
        buffered = hx.readings()
    assert len(buffered) == 8
    assert set(buffered) == {42}
    assert len(seen) >= 8
    assert hx.closed
    chip.close()


def test_background_reader_reports_a_silent_chip(factory: MockFactory, clock: FakeClock) -> None:
    chip = SimulatedHx711(5, 6, factory=factory, clock=clock)
    chip.disconnect()
    hx = Hx711(5, 6, pin_factory=factory, clock=clock, sleep=clock.advance, ready_timeout=0.01)
    errors: list[Exception] = []
    import threading

    got = threading.Event()

    def on_error(exc: Exception) -> None:
        errors.append(exc)
        got.set()

    hx.on_error(on_error)
    hx.start()
    assert got.wait(10)
    hx.close()
    assert isinstance(errors[0], Hx711NotReadyError)
    assert hx.failures >= 1
    assert hx.readings() == []


def test_close_is_idempotent_and_releases_the_pins(factory: MockFactory, clock: FakeClock) -> None:
    rig = make_rig(factory, clock)
    rig.hx.close()
    rig.hx.close()
    with pytest.raises(Hx711NotReadyError):
        rig.hx.read_raw()
    again = Hx711(5, 6, pin_factory=factory, clock=clock, sleep=clock.advance)  # pins are free again
    assert again.read_raw() == 0
    again.close()


def test_rejects_an_unknown_gain(factory: MockFactory) -> None:
    with pytest.raises(DeviceConfigError):
        Hx711(5, 6, gain=100, pin_factory=factory)
    hx = Hx711(5, 6, pin_factory=factory)
    with pytest.raises(DeviceConfigError):
        hx.gain = 16
    hx.close()


def test_simulator_must_own_its_pins_before_the_driver(factory: MockFactory, clock: FakeClock) -> None:
    hx = Hx711(5, 6, pin_factory=factory, clock=clock)
    with pytest.raises(DeviceConfigError):
        SimulatedHx711(5, 6, factory=factory, clock=clock)
    hx.close()
