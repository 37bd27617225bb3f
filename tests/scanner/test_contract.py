"""The BarcodeScanner contract, run against the simulator and the camera scanner (whose
simulated camera renders real barcode images)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from kiosk.devices.health import DeviceHealth, DeviceStatus, HealthReporting
from kiosk.devices.scanner import BarcodeScanner, CameraBarcodeScanner, GeneratedFrameSource, Scan, SimulatedBarcodeScanner

MILK = "4006381333931"
BREAD = "96385074"


@dataclass
class Rig:
    """A scanner and a person's hands in front of it."""

    scanner: BarcodeScanner
    camera: GeneratedFrameSource | None = None
    scans: list[Scan] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def listen(self) -> None:
        def on_scan(scan: Scan) -> None:
            with self.arrived:
                self.scans.append(scan)
                self.arrived.notify_all()

        self.scanner.on_scan = on_scan

    def hold(self, code: str, symbology: str = "EAN13") -> None:
        if self.camera is None:
            self.scanner.hold(code, symbology)  # type: ignore[attr-defined]
        else:
            self.camera.hold(code, symbology)

    def remove(self) -> None:
        if self.camera is None:
            self.scanner.remove()  # type: ignore[attr-defined]
        else:
            self.camera.remove()

    def wait_frames(self, n: int) -> None:
        """Let the camera take n more frames (nothing to wait for with the simulator)."""
        if self.camera is not None:
            assert self.camera.wait_until_read(self.camera.frames_read + n, timeout=30)

    def wait_scans(self, n: int) -> list[str]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.scans) >= n, timeout=30)
        return [s.text for s in self.scans]


@pytest.fixture(params=["simulated", "camera"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    if request.param == "simulated":
        r = Rig(SimulatedBarcodeScanner(name="lane-1-scanner"))
    else:
        camera = GeneratedFrameSource(fps=100)
        r = Rig(CameraBarcodeScanner(camera, name="lane-1-scanner", leave_frames=3, leave_seconds=0.05), camera)
    r.listen()
    yield r
    r.scanner.close()


def test_implements_the_port_and_reports_health(rig: Rig) -> None:
    assert isinstance(rig.scanner, BarcodeScanner)
    assert isinstance(rig.scanner, HealthReporting)
    assert rig.scanner.name == "lane-1-scanner"
    rig.scanner.start()
    health = rig.scanner.health()
    assert isinstance(health, DeviceHealth) and health.status == DeviceStatus.OK
    assert rig.scanner.self_test().status == DeviceStatus.OK


def test_a_product_held_in_view_is_scanned_once(rig: Rig) -> None:
    rig.scanner.start()
    rig.hold(MILK)
    assert rig.wait_scans(1) == [MILK]
    rig.hold(MILK)
    rig.wait_frames(15)
    assert [s.text for s in rig.scans] == [MILK]
    scan = rig.scans[0]
    assert scan.symbology == "EAN13" and scan.at.tzinfo is not None


def test_removing_and_bringing_back_scans_again(rig: Rig) -> None:
    rig.scanner.start()
    rig.hold(MILK)
    rig.wait_scans(1)
    rig.remove()
    rig.wait_frames(15)
    rig.hold(MILK)
    assert rig.wait_scans(2) == [MILK, MILK]


def test_different_products_follow_each_other(rig: Rig) -> None:
    rig.scanner.start()
    rig.hold(MILK)
    rig.wait_scans(1)
    rig.remove()
    rig.wait_frames(10)
    rig.hold(BREAD, "EAN8")
    assert rig.wait_scans(2) == [MILK, BREAD]
    assert rig.scans[1].symbology == "EAN8"


def test_nothing_is_scanned_after_stop_and_close_is_idempotent(rig: Rig) -> None:
    rig.scanner.start()
    rig.scanner.stop()
    rig.hold(MILK)
    rig.wait_frames(0)
    assert rig.scans == []
    rig.scanner.close()
    rig.scanner.close()


def test_is_a_context_manager(rig: Rig) -> None:
    with rig.scanner as s:
        assert s is rig.scanner


def test_simulator_ignores_a_code_with_a_bad_check_digit() -> None:
    sim = SimulatedBarcodeScanner()
    sim.start()
    assert sim.scan("4006381333932") is None
    assert sim.scan(MILK) is not None
    assert [s.text for s in sim.scans] == [MILK]


def test_simulator_unplugged_is_absent_and_scans_nothing() -> None:
    sim = SimulatedBarcodeScanner()
    sim.start()
    sim.unplug()
    assert sim.health().status == DeviceStatus.ABSENT
    assert sim.scan(MILK) is None
    sim.plug()
    assert sim.health().status == DeviceStatus.OK
