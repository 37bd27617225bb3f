"""The device profile: laptop defaults, typed validated accessors, atomic writes."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kiosk.devices.scale import ScaleCalibration
from kiosk.errors import DeviceConfigError
from kiosk.profile import (
    AtomicJSONStorage,
    CameraSettings,
    DeviceProfile,
    HardwareSettings,
    LaneIdentity,
    PinMap,
    PrinterSettings,
    ProfileCorruptError,
    ScaleSettings,
)


def test_a_new_profile_holds_readable_laptop_defaults(tmp_path: Path) -> None:
    path = tmp_path / "kiosk" / "profile.json"
    with DeviceProfile(path) as profile:
        assert profile.hardware() == HardwareSettings("simulated")
        assert profile.printer_settings().connection == "dummy"
        assert profile.lane() == LaneIdentity()
        assert profile.scale_names() == ["bag", "produce"]
        assert profile.scale_settings("produce") == ScaleSettings("produce", 5, 6, 15000, 5, 128)
    text = path.read_text()
    assert text.startswith("{\n  ")  # indented: a person can read and edit it
    assert json.loads(text)["hardware"]["1"]["backend"] == "simulated"


def test_settings_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    lane = LaneIdentity(store_id="shop-042", kiosk_id="k-07", lane_number=7, display_name="自助收银 7")
    pins = replace(PinMap(), drawer_relay=16, rgb_red=12, rgb_green=13, rgb_blue=19)
    printer = PrinterSettings(connection="usb", usb_vendor_id=0x04B8, usb_product_id=0x0202, profile="TM-T88V")
    camera = CameraSettings(source="/dev/video2", width=640, height=480, fps=30)
    cal = ScaleCalibration(-1234, 398.25)
    with DeviceProfile(path) as profile:
        profile.set_lane(lane)
        profile.set_pins(pins)
        profile.set_printer_settings(printer)
        profile.set_camera_settings(camera)
        profile.set_hardware(HardwareSettings("gpio"))
        profile.set_scale_calibration("bag", cal)
        profile.set_scale_settings(ScaleSettings("bag", None, None, 20000, 20, 64))
    with DeviceProfile(path) as profile:
        assert profile.lane() == lane
        assert profile.pins() == pins
        assert profile.printer_settings() == printer
        assert profile.camera_settings() == camera
        assert profile.hardware().backend == "gpio"
        assert profile.scale_calibration("bag") == cal
        assert profile.scale_settings("bag") == ScaleSettings("bag", 20, 21, 20000, 20, 64)
        assert profile.scale_calibration("produce") == ScaleCalibration(8000, 420.0)  # untouched
    assert "自助收银 7" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "build",
    [
        lambda: replace(PinMap(), buzzer=5),  # same pin as the produce scale's data line
        lambda: replace(PinMap(), buzzer=40),
        lambda: replace(PinMap(), buzzer="GPIO25"),
        lambda: LaneIdentity(kiosk_id="kiosk 1/2"),
        lambda: LaneIdentity(lane_number=0),
        lambda: PrinterSettings(connection="usb"),  # no vendor/product id
        lambda: PrinterSettings(connection="serial"),
        lambda: PrinterSettings(drawer_kick_pin=3),
        lambda: CameraSettings(fps=0),
        lambda: ScaleSettings("produce", 5, 6, 15000, 0),
        lambda: ScaleSettings("produce", 5, 6, 15000, 5, gain=16),
        lambda: HardwareSettings("arduino"),
        lambda: HardwareSettings(scanner="camera"),
        lambda: HardwareSettings(drawer_kick="usb"),
    ],
)
def test_bad_values_are_refused(build: Any) -> None:
    with pytest.raises(DeviceConfigError):
        build()


def test_a_hand_edited_bad_value_is_reported_on_open(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    DeviceProfile(path).close()
    data = json.loads(path.read_text())
    data["camera"]["1"]["fps"] = "fast"
    path.write_text(json.dumps(data))
    with pytest.raises(DeviceConfigError, match="camera.fps"):
        DeviceProfile(path)


def test_an_unknown_key_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    DeviceProfile(path).close()
    data = json.loads(path.read_text())
    data["pins"]["1"]["light_blue"] = 4
    path.write_text(json.dumps(data))
    with pytest.raises(DeviceConfigError, match="light_blue"):
        DeviceProfile(path)


def test_a_corrupt_file_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text('{"lane": {"1": {"store_id": ')
    with pytest.raises(ProfileCorruptError):
        DeviceProfile(path)


def test_unknown_scale_is_a_config_error(tmp_path: Path) -> None:
    with DeviceProfile(tmp_path / "p.json") as profile:
        with pytest.raises(DeviceConfigError):
            profile.scale_calibration("deli")
        with pytest.raises(DeviceConfigError):
            profile.set_scale_calibration("deli", ScaleCalibration())


class CrashingStorage(AtomicJSONStorage):
    """Writes half the new profile, then the power goes."""

    armed = False

    def _write_payload(self, fh: Any, payload: bytes) -> None:
        if CrashingStorage.armed:
            fh.write(payload[: len(payload) // 2])
            fh.flush()
            raise OSError("power cut mid-write")
        super()._write_payload(fh, payload)


def test_a_crash_mid_write_leaves_the_old_profile_intact(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    with DeviceProfile(path, storage=CrashingStorage) as profile:
        profile.set_lane(LaneIdentity(kiosk_id="before"))
        before = path.read_bytes()
        CrashingStorage.armed = True
        try:
            with pytest.raises(OSError, match="power cut"):
                profile.set_lane(LaneIdentity(kiosk_id="after"))
        finally:
            CrashingStorage.armed = False
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["profile.json"]  # no temporary left behind
    with DeviceProfile(path) as reopened:
        assert reopened.lane().kiosk_id == "before"


def test_a_crash_before_the_rename_leaves_the_old_profile_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "profile.json"
    with DeviceProfile(path) as profile:
        before = path.read_bytes()

        def crash(src: Any, dst: Any) -> None:
            raise OSError("killed before rename")

        monkeypatch.setattr(os, "replace", crash)
        with pytest.raises(OSError):
            profile.set_scale_calibration("produce", ScaleCalibration(1, 2.0))
        monkeypatch.undo()
        assert profile.scale_calibration("produce") == ScaleCalibration(8000, 420.0)
    assert path.read_bytes() == before
    assert len(list(tmp_path.iterdir())) == 1


def test_a_write_fsyncs_the_file_and_the_folder_and_renames_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "profile.json"
    profile = DeviceProfile(path)
    synced: list[int] = []
    replaced: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    def replace_(src: Any, dst: Any) -> None:
        replaced.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace_)
    profile.set_lane(LaneIdentity(kiosk_id="k-2"))
    profile.close()
    assert len(synced) == 2  # the temporary file, then the folder
    (src, dst), = replaced
    assert Path(src).parent == tmp_path and dst == str(path)
    assert Path(src).name.startswith(".profile.json.")


def test_the_profile_stores_the_printer_packages_own_settings_class(tmp_path: Path) -> None:
    from kiosk.devices.printer.settings import PrinterSettings as PrinterPackageSettings

    assert PrinterSettings is PrinterPackageSettings  # one class, not a copy
    path = tmp_path / "profile.json"
    printer = PrinterSettings(connection="file", device="/dev/usb/lp0", width_chars=32, chinese_mode="image",
                              drawer_kick_pin=5, spool_path=str(tmp_path / "spool.sqlite"))
    with DeviceProfile(path) as profile:
        profile.set_printer_settings(printer)
    stored = json.loads(path.read_text())["printer"]["1"]
    assert "spool_path" not in stored  # the spool lives in the data folder, not the profile
    with DeviceProfile(path) as profile:
        back = profile.printer_settings()
    assert isinstance(back, PrinterPackageSettings)
    assert back == replace(printer, spool_path=":memory:")


def test_a_printer_section_of_the_earlier_layout_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    DeviceProfile(path).close()
    data = json.loads(path.read_text())
    data["printer"]["1"] = {"connection": "file", "usb_vendor_id": None, "usb_product_id": None, "host": None,
                            "port": 9100, "device_path": "/dev/usb/lp0", "profile": "default", "columns": 32,
                            "drawer_kick_pin": 5}
    path.write_text(json.dumps(data))
    with DeviceProfile(path) as profile:
        printer = profile.printer_settings()
    assert (printer.connection, printer.device, printer.width_chars, printer.drawer_kick_pin, printer.host) == (
        "file", "/dev/usb/lp0", 32, 5, "")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [("drawer_kick_pin", 3, "drawer_kick_pin"), ("spool_path", "/tmp/x", "data folder"), ("colour", "red", "colour")],
)
def test_a_bad_printer_entry_is_reported_on_open(tmp_path: Path, key: str, value: Any, message: str) -> None:
    path = tmp_path / "profile.json"
    DeviceProfile(path).close()
    data = json.loads(path.read_text())
    data["printer"]["1"][key] = value
    path.write_text(json.dumps(data))
    with pytest.raises(DeviceConfigError, match=message):
        DeviceProfile(path)


def test_each_device_follows_the_default_backend_unless_it_has_its_own() -> None:
    hw = HardwareSettings(backend="simulated", produce_scale="real", drawer="gpio")
    assert [hw.backend_of(d) for d in ("scanner", "produce_scale", "bag_scale", "drawer", "light", "printer")] == [
        "simulated", "real", "simulated", "real", "simulated", "simulated"]
    assert HardwareSettings("gpio", printer="simulated").backend_of("light") == "real"
    with pytest.raises(DeviceConfigError, match="no device named"):
        hw.backend_of("fryer")
