"""The composition root: every device built from settings and profile, scan feedback, closing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest
from gpiozero import Device
from gpiozero.exc import BadPinFactory
from gpiozero.pins.mock import MockFactory

from kiosk.composition import DeviceUnavailableError, KioskDevices, ScanFeedback, build_devices
from kiosk.devices.drawer import GpioCashDrawer, PrinterKickCashDrawer, SimulatedCashDrawer
from kiosk.devices.health import DeviceStatus
from kiosk.devices.light import SimulatedStatusLight, TowerLight
from kiosk.devices.printer import EscposReceiptPrinter, PrinterOfflineError, PrinterSettings, SimulatedReceiptPrinter
from kiosk.devices.scale import Hx711Scale, ScaleState, SimulatedScale
from kiosk.devices.scale.simulated_hx711 import SimulatedHx711
from kiosk.devices.scanner import CameraBarcodeScanner, ScannerConfigError, SimulatedBarcodeScanner
from kiosk.devices.scanner.model import EAN13, Scan
from kiosk.devices.scanner.render import place_in_frame, render_barcode
from kiosk.diagnostics import run_diagnostics
from kiosk.errors import DeviceConfigError
from kiosk.health import HealthCollector, HealthSources
from kiosk.profile import CameraSettings, DeviceProfile, HardwareSettings, PinMap
from kiosk.settings import KioskSettings
from retail.clock import FakeClock

CODE = "4006381333931"
NAMES = ["scanner", "produce", "bag", "cash_drawer", "status_light", "printer"]


@pytest.fixture
def profile(tmp_path: Path) -> Iterator[DeviceProfile]:
    with DeviceProfile(tmp_path / "profile.json") as p:
        yield p


def settings_for(profile: DeviceProfile, tmp_path: Path, hardware: HardwareSettings | None = None) -> KioskSettings:
    if hardware is not None:
        profile.set_hardware(hardware)
    return KioskSettings.load(data_dir=str(tmp_path / "data"), health_interval_s=7).with_profile(profile)


def build(settings: KioskSettings, profile: DeviceProfile, clock: FakeClock, sources: HealthSources,
          factory: MockFactory | None = None) -> KioskDevices:
    return build_devices(settings, profile, pin_factory=factory, clock=clock, sleep=clock.advance,
                         health_sources=sources)


def test_an_all_simulated_profile_builds_every_simulator_and_all_are_ok(
    profile: DeviceProfile, tmp_path: Path, clock: FakeClock, quiet_sources: HealthSources
) -> None:
    settings = settings_for(profile, tmp_path)
    with build(settings, profile, clock, quiet_sources) as devices:
        assert isinstance(devices.scanner, ScanFeedback)
        assert isinstance(devices.scanner.inner, SimulatedBarcodeScanner)
        assert isinstance(devices.produce_scale, SimulatedScale) and isinstance(devices.bag_scale, SimulatedScale)
        assert (devices.produce_scale.capacity_g, devices.bag_scale.capacity_g) == (15000, 30000)  # from the profile
        assert isinstance(devices.drawer, SimulatedCashDrawer)
        assert isinstance(devices.light, SimulatedStatusLight)
        assert isinstance(devices.printer, SimulatedReceiptPrinter)
        assert isinstance(devices.health_collector, HealthCollector)
        assert devices.health_collector.interval_s == 7
        snapshot = devices.health_collector.snapshot()
        assert [d.device for d in snapshot.devices] == NAMES
        assert all(d.status is DeviceStatus.OK for d in snapshot.devices), snapshot.to_dict()["devices"]
        assert snapshot.status is DeviceStatus.OK
        assert [d.name for d in devices.all()] == NAMES
    assert settings.spool_path.exists()  # receipts are kept in the data folder, not in memory


def test_every_scan_flashes_and_beeps_before_the_listener_hears_it(
    profile: DeviceProfile, tmp_path: Path, clock: FakeClock, quiet_sources: HealthSources
) -> None:
    with build(settings_for(profile, tmp_path), profile, clock, quiet_sources) as devices:
        light = devices.light
        assert isinstance(light, SimulatedStatusLight)
        heard: list[tuple[str, int, int]] = []
        devices.scanner.on_scan = lambda scan: heard.append((scan.text, light.flashes, len(light.beeps)))
        devices.scanner.start()
        devices.scanner.inner.scan(CODE)
        devices.scanner.inner.scan(CODE)
        devices.scanner.inner.scan("4006381333932")  # bad check digit: no scan, no feedback
        assert heard == [(CODE, 1, 1), (CODE, 2, 2)]
        assert (light.flashes, len(light.beeps)) == (2, 2)


def test_a_broken_light_does_not_lose_the_scan(
    profile: DeviceProfile, tmp_path: Path, clock: FakeClock, quiet_sources: HealthSources
) -> None:
    with build(settings_for(profile, tmp_path), profile, clock, quiet_sources) as devices:
        heard: list[Scan] = []
        devices.scanner.on_scan = heard.append
        devices.scanner.start()
        devices.light.close()  # flash_scan now raises StatusLightError
        devices.scanner.inner.scan(CODE)
        assert [s.text for s in heard] == [CODE]


def test_real_scales_and_gpio_drawer_on_an_injected_mock_factory(
    profile: DeviceProfile, tmp_path: Path, clock: FakeClock, factory: MockFactory, quiet_sources: HealthSources
) -> None:
    # the simulated chips answer on the same factory and pins as the profile's pin map
    produce_chip = SimulatedHx711(5, 6, factory=factory, clock=clock, offset=8000, counts_per_gram=420.0)
    bag_chip = SimulatedHx711(20, 21, factory=factory, clock=clock, offset=8000, counts_per_gram=210.0)
    hardware = HardwareSettings("simulated", produce_scale="real", bag_scale="real", drawer="real")
    with build(settings_for(profile, tmp_path, hardware), profile, clock, quiet_sources, factory) as devices:
        assert isinstance(devices.produce_scale, Hx711Scale) and isinstance(devices.bag_scale, Hx711Scale)
        assert isinstance(devices.drawer, GpioCashDrawer)
        assert isinstance(devices.light, SimulatedStatusLight)  # not asked to be real
        produce_chip.place(250)
        bag_chip.place(1200)
        produce = devices.produce_scale.update()
        bag = devices.bag_scale.update()
        assert (produce.grams, produce.state, bag.grams, bag.state) == (250, ScaleState.OK, 1200, ScaleState.OK)
        results = run_diagnostics(devices.diagnostic_devices(), self_test=True, clock=clock)
        assert [(r.device, r.status) for r in results] == [(n, DeviceStatus.OK) for n in NAMES]
        factory.pin(17).assert_states([False, True, False])  # the self-test pulsed the drawer relay
        assert produce_chip.conversions >= 4  # read by update() and by the self-test
    produce_chip.close()
    bag_chip.close()


def _camera_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "camera"
    folder.mkdir()
    cv2.imwrite(str(folder / "frame.png"), place_in_frame(render_barcode(CODE, EAN13)))
    return folder


def test_real_camera_tower_light_and_printer_kick_drawer(
    profile: DeviceProfile, tmp_path: Path, clock: FakeClock, factory: MockFactory, quiet_sources: HealthSources
) -> None:
    profile.set_camera_settings(CameraSettings(source=str(_camera_folder(tmp_path))))
    profile.set_printer_settings(PrinterSettings(drawer_kick_pin=5))
    hardware = HardwareSettings("real", produce_scale="simulated", bag_scale="simulated", printer="simulated",
                                drawer_kick="printer")
    with build(settings_for(profile, tmp_path, hardware), profile, clock, quiet_sources, factory) as devices:
        camera = devices.scanner.inner
        assert isinstance(camera, CameraBarcodeScanner)
        assert isinstance(devices.light, TowerLight)
        assert isinstance(devices.drawer, PrinterKickCashDrawer)
        printer = devices.printer
        assert isinstance(printer, SimulatedReceiptPrinter)

        results = run_diagnostics(devices.diagnostic_devices(), self_test=True, clock=clock)
        assert [(r.device, r.status) for r in results] == [(n, DeviceStatus.OK) for n in NAMES]
        assert printer.drawer_kicks == [5]  # the drawer's self-test kicked it through the printer
        assert b"\x1bp\x01" in printer.output  # ESC p 1: drawer-kick pin 5

        heard: list[Scan] = []
        devices.scanner.on_scan = heard.append
        frame = cv2.imread(str(tmp_path / "camera" / "frame.png"))
        devices.light.tick()
        buzzer = factory.pin(25)
        buzzer.clear_states()
        camera.process_frame(frame)
        camera.process_frame(frame)  # two agreeing frames make a scan
        assert [s.text for s in heard] == [CODE]
        assert [s.state for s in buzzer.states] == [True]  # the scan beeped the tower light's buzzer
        clock.advance(1)
        devices.light.tick()
        assert buzzer.state is False


def test_a_real_printer_uses_the_data_folders_spool(
    profile: DeviceProfile, tmp_path: Path, clock: FakeClock, quiet_sources: HealthSources
) -> None:
    settings = settings_for(profile, tmp_path, HardwareSettings("simulated", printer="real"))
    with build(settings, profile, clock, quiet_sources) as devices:
        assert isinstance(devices.printer, EscposReceiptPrinter)  # dummy connection: bytes kept in memory
        assert devices.printer.self_test().status is DeviceStatus.OK
    assert settings.spool_path.exists()


def test_close_closes_everything_once_in_reverse_order(
    profile: DeviceProfile, tmp_path: Path, clock: FakeClock, quiet_sources: HealthSources
) -> None:
    devices = build(settings_for(profile, tmp_path), profile, clock, quiet_sources)
    order: list[str] = []
    for resource in devices._closeables:
        real = resource.close

        def close(real: Any = real, label: str = getattr(resource, "name", type(resource).__name__)) -> None:
            order.append(label)
            real()

        resource.close = close  # type: ignore[method-assign]
    with devices:
        pass
    devices.close()
    assert order == ["HealthCollector", "cash_drawer", "bag", "produce", "scanner", "printer", "ReceiptSpool",
                     "status_light"]
    assert devices.closed
    assert devices.light.closed and devices.drawer.closed  # type: ignore[attr-defined]
    with pytest.raises(ScannerConfigError):
        devices.scanner.start()
    with pytest.raises(PrinterOfflineError):
        devices.printer.status()
    assert devices.produce_scale.update().state is ScaleState.NOT_READY


def test_a_failed_build_releases_what_it_had_built(
    profile: DeviceProfile, tmp_path: Path, clock: FakeClock, factory: MockFactory, quiet_sources: HealthSources
) -> None:
    profile.set_pins(PinMap(drawer_relay=None))
    settings = settings_for(profile, tmp_path, HardwareSettings("simulated", light="real", drawer="real"))
    with pytest.raises(DeviceConfigError, match="drawer_relay"):
        build(settings, profile, clock, quiet_sources, factory)
    TowerLight(22, 23, 24, 25, pin_factory=factory).close()  # the light's pins were released


def test_a_real_device_without_gpio_is_a_typed_error_with_a_hint(
    profile: DeviceProfile, tmp_path: Path, clock: FakeClock, quiet_sources: HealthSources,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_gpio() -> Any:
        raise BadPinFactory("Unable to load any default pin factory!")

    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.setattr(Device, "_default_pin_factory", staticmethod(no_gpio))
    settings = settings_for(profile, tmp_path, HardwareSettings("simulated", light="real"))
    with pytest.raises(DeviceUnavailableError, match="hardware.light to simulated") as caught:
        build(settings, profile, clock, quiet_sources)  # no pin factory: gpiozero's default
    assert isinstance(caught.value, OSError)


def test_start_runs_the_scanner_and_a_closed_kiosk_cannot_start(
    profile: DeviceProfile, tmp_path: Path, clock: FakeClock, quiet_sources: HealthSources
) -> None:
    devices = build(settings_for(profile, tmp_path), profile, clock, quiet_sources)
    with devices:
        heard: list[Scan] = []
        devices.scanner.on_scan = heard.append
        assert devices.scanner.inner.scan(CODE) is None  # built, not started: nothing scans yet
        devices.start()
        devices.scanner.inner.scan(CODE)
        devices.stop()
        devices.scanner.inner.scan(CODE)
        assert [s.text for s in heard] == [CODE]
    from kiosk.errors import DeviceError

    with pytest.raises(DeviceError):
        devices.start()
