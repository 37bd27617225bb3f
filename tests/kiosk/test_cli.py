"""``python -m kiosk`` / ``tillpi kiosk``: diagnostics, profile, calibration, scanner decode."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.cli import main
from kiosk.devices.scale import ScaleCalibration
from kiosk.devices.scale.simulated_hx711 import SimulatedHx711
from kiosk.devices.scanner.model import EAN13
from kiosk.devices.scanner.render import place_in_frame, render_barcode
from kiosk.health import HealthSources
from kiosk.profile import DeviceProfile, HardwareSettings
from retail.clock import FakeClock
from tests.kiosk.conftest import clean_environment

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["scanner", "produce", "bag", "cash_drawer", "status_light", "printer"]


def run_module(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = clean_environment()
    env["TILLPI_KIOSK_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def run(*args: str, **kw: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err, **kw)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def test_diagnostics_as_a_module_prints_json_of_six_ok_devices(tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    done = run_module("diagnostics", "--json", "--profile", str(profile), data_dir=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)
    assert [(e["device"], e["status"]) for e in entries] == [(n, "ok") for n in NAMES]
    assert profile.exists()  # a missing profile is created with laptop (simulated) defaults


def test_a_bad_profile_value_is_a_clear_error_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    DeviceProfile(path).close()
    data = json.loads(path.read_text())
    data["hardware"]["1"]["scanner"] = "webcam"
    path.write_text(json.dumps(data))
    done = run_module("diagnostics", "--json", "--profile", str(path), data_dir=tmp_path / "data")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "hardware.scanner must be one of simulated, real, gpio, not 'webcam'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_setting_is_a_clear_error_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TILLPI_KIOSK_HEALTH_INTERVAL_S", "soon")
    code, out, err = run("diagnostics", "--profile", str(tmp_path / "p.json"))
    assert (code, out) == (2, "")
    assert "TILLPI_KIOSK_HEALTH_INTERVAL_S" in err


def test_self_test_diagnostics_table_lists_every_device(tmp_path: Path, quiet_sources: HealthSources) -> None:
    code, out, _ = run("diagnostics", "--self-test", "--profile", str(tmp_path / "p.json"), "--data-dir",
                       str(tmp_path), health_sources=quiet_sources)
    header, *rows = out.splitlines()
    assert code == 0
    assert header.split()[:2] == ["DEVICE", "STATUS"]
    assert [r.split()[:2] for r in rows] == [[n, "ok"] for n in NAMES]


def test_the_kiosk_diagnostics_module_builds_through_the_composition_root(tmp_path: Path) -> None:
    from kiosk.diagnostics import main as diagnostics_main

    out = io.StringIO()
    code = diagnostics_main(["--json", "--data-dir", str(tmp_path)], out=out)
    assert code == 0
    assert [e["device"] for e in json.loads(out.getvalue())] == NAMES


def test_profile_init_then_show(tmp_path: Path) -> None:
    path = tmp_path / "kiosk" / "profile.json"
    code, out, _ = run("profile", "init", "--profile", str(path), "--hardware", "real")
    assert code == 0 and "created" in out
    code, out, _ = run("profile", "show", "--profile", str(path))
    shown = json.loads(out)
    assert code == 0
    assert shown["hardware"]["backend"] == "real"
    assert shown["printer"]["drawer_kick_pin"] == 2 and "spool_path" not in shown["printer"]
    assert shown["scales"]["produce"]["calibration"] == {"zero_offset": 8000, "counts_per_gram": 420.0}
    code, out, _ = run("profile", "init", "--profile", str(path))
    assert code == 0 and "already exists" in out
    with DeviceProfile(path) as profile:
        assert profile.hardware().backend == "real"  # init did not reset it


def test_profile_show_without_a_profile_says_how_to_make_one(tmp_path: Path) -> None:
    code, out, err = run("profile", "show", "--profile", str(tmp_path / "none.json"))
    assert (code, out) == (1, "")
    assert "profile init" in err
    assert not (tmp_path / "none.json").exists()


def test_calibrate_refuses_politely_on_a_simulated_scale(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    code, out, err = run("calibrate", "produce", "zero", "--profile", str(path), "--data-dir", str(tmp_path))
    assert code == 1
    assert "simulated" in out and "real" in out and err == ""
    with DeviceProfile(path) as profile:
        assert profile.scale_calibration("produce") == ScaleCalibration(8000, 420.0)  # untouched


def test_calibrate_span_needs_a_positive_mass(tmp_path: Path) -> None:
    code, _, err = run("calibrate", "bag", "span", "--profile", str(tmp_path / "p.json"))
    assert code == 2 and "grams" in err


def test_calibrate_a_real_scale_zero_then_span_saves_it_in_the_profile(tmp_path: Path) -> None:
    clock = FakeClock()
    factory = MockFactory()
    path = tmp_path / "p.json"
    with DeviceProfile(path) as profile:
        profile.set_hardware(HardwareSettings("simulated", bag_scale="real"))
    chip = SimulatedHx711(20, 21, factory=factory, clock=clock, offset=-1234, counts_per_gram=300.0)
    try:
        options = {"pin_factory": factory, "clock": clock, "sleep": clock.advance}
        code, out, err = run("calibrate", "bag", "zero", "--profile", str(path), **options)
        assert code == 0, err
        chip.place(2000)
        code, out, err = run("calibrate", "bag", "span", "2000", "--profile", str(path), **options)
        assert code == 0, err
        assert "saved" in out
    finally:
        chip.close()
        factory.reset()
    with DeviceProfile(path) as profile:
        cal = profile.scale_calibration("bag")
        assert cal.zero_offset == -1234
        assert cal.counts_per_gram == pytest.approx(300.0)
        assert profile.scale_calibration("produce") == ScaleCalibration(8000, 420.0)


def test_scanner_decode_reads_an_image(tmp_path: Path) -> None:
    image = tmp_path / "code.png"
    cv2.imwrite(str(image), place_in_frame(render_barcode("4006381333931", EAN13)))
    code, out, _ = run("scanner", "decode", str(image), str(tmp_path / "missing.png"))
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 0
    assert first["codes"] == [{"text": "4006381333931", "symbology": "EAN13"}]
    assert second["codes"] == [] and "error" in second


def test_tillpi_kiosk_dispatches_here(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import tillpi_cli

    code = tillpi_cli.main(["kiosk", "profile", "show", "--profile", str(tmp_path / "none.json")])
    assert code == 1
    assert "profile init" in capsys.readouterr().err
