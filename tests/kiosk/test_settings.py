"""Kiosk settings: from the environment and the device profile, validated with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.profile import DeviceProfile, HardwareSettings, LaneIdentity
from kiosk.settings import DeviceBackends, KioskSettings, KioskSettingsError, open_profile


def test_files_default_to_the_data_folder_which_defaults_under_xdg_data_home(tmp_path: Path) -> None:
    settings = KioskSettings.load()
    folder = tmp_path / "xdg-data" / "tillpi" / "kiosk"
    assert settings.data_dir == folder
    assert (settings.profile_path, settings.journal_path, settings.spool_path) == (
        folder / "profile.json", folder / "journal.sqlite", folder / "receipts.sqlite")
    assert (settings.language, settings.health_interval_s, settings.hardware.all_simulated) == ("en", 30.0, True)


def test_environment_variables_set_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TILLPI_KIOSK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TILLPI_KIOSK_SPOOL_PATH", str(tmp_path / "elsewhere.sqlite"))
    monkeypatch.setenv("TILLPI_KIOSK_LANGUAGE", "zh_CN")
    monkeypatch.setenv("TILLPI_KIOSK_HEALTH_INTERVAL_S", "5")
    monkeypatch.setenv("TILLPI_KIOSK_HARDWARE__PRINTER", "real")
    settings = KioskSettings.load(profile_path=str(tmp_path / "p.json"))  # a command line's --profile
    assert settings.profile_path == tmp_path / "p.json"
    assert settings.journal_path == tmp_path / "data" / "journal.sqlite"
    assert settings.spool_path == tmp_path / "elsewhere.sqlite"
    assert (settings.language, settings.health_interval_s, settings.hardware.printer) == ("zh_CN", 5.0, "real")


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("TILLPI_KIOSK_BROKER_PORT", "70000", "TILLPI_KIOSK_BROKER_PORT"),
        ("TILLPI_KIOSK_HEALTH_INTERVAL_S", "0", "TILLPI_KIOSK_HEALTH_INTERVAL_S"),
        ("TILLPI_KIOSK_LANGUAGE", "fr", "TILLPI_KIOSK_LANGUAGE"),
        ("TILLPI_KIOSK_KIOSK_ID", "kiosk 1/2", "TILLPI_KIOSK_KIOSK_ID"),
        ("TILLPI_KIOSK_HARDWARE__SCANNER", "camera", "TILLPI_KIOSK_HARDWARE__SCANNER"),
        ("TILLPI_KIOSK_HARDWARE__SCANER", "real", "misspelt"),
    ],
)
def test_a_bad_variable_is_refused_at_start_up_by_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(KioskSettingsError, match=named) as caught:
        KioskSettings.load()
    assert isinstance(caught.value, ValueError)


def test_the_profile_gives_the_lane_identity_and_each_devices_backend(tmp_path: Path) -> None:
    with DeviceProfile(tmp_path / "p.json") as profile:
        profile.set_lane(LaneIdentity(store_id="shop-7", kiosk_id="k-3"))
        profile.set_hardware(HardwareSettings("simulated", produce_scale="real", drawer="gpio", drawer_kick="printer"))
        settings = KioskSettings.load(data_dir=str(tmp_path)).with_profile(profile)
    assert (settings.store_id, settings.kiosk_id) == ("shop-7", "k-3")
    assert settings.hardware == DeviceBackends(produce_scale="real", drawer="real", drawer_kick="printer")


def test_the_environment_overrides_the_profile_for_one_device_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TILLPI_KIOSK_HARDWARE__PRINTER", "simulated")  # a bench without a printer
    monkeypatch.setenv("TILLPI_KIOSK_KIOSK_ID", "bench-1")
    with DeviceProfile(tmp_path / "p.json") as profile:
        profile.set_hardware(HardwareSettings("real"))
        settings = KioskSettings.load(data_dir=str(tmp_path)).with_profile(profile)
    assert settings.kiosk_id == "bench-1"
    assert settings.hardware.printer == "simulated"
    assert settings.hardware.scanner == settings.hardware.light == "real"


def test_open_profile_creates_a_laptop_profile_and_closes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[Path] = []
    real_close = DeviceProfile.close

    def close(self: DeviceProfile) -> None:
        closed.append(self.path)
        real_close(self)

    monkeypatch.setattr(DeviceProfile, "close", close)
    with open_profile(data_dir=str(tmp_path)) as (settings, profile):
        assert settings.profile_path.exists()
        assert settings.kiosk_id == LaneIdentity().kiosk_id
        assert closed == []
    assert closed == [tmp_path / "profile.json"]


def test_broker_endpoint_uses_the_kiosk_id_and_a_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "broker.pw"
    secret.write_text("s3cret-from-provisioning\n")
    settings = KioskSettings.load(kiosk_id="k-9", broker_host="edge.local", broker_port=8883,
                                  broker_password_file=str(secret), broker_ca_file=str(tmp_path / "ca.pem"))
    endpoint = settings.broker_endpoint()
    assert (endpoint.host, endpoint.port, endpoint.username, endpoint.password, endpoint.tls) == (
        "edge.local", 8883, "k-9", "s3cret-from-provisioning", True)
    assert "s3cret" not in repr(settings) and "s3cret" not in repr(endpoint)


@pytest.mark.parametrize(
    "values",
    [
        {"broker_password": "x", "broker_password_file": "/run/secrets/pw"},
        {"broker_cert_file": "/c.pem", "broker_ca_file": "/ca.pem"},  # no key
        {"broker_cert_file": "/c.pem", "broker_key_file": "/k.pem"},  # no CA: no TLS
    ],
)
def test_inconsistent_broker_settings_are_refused(values: dict[str, str]) -> None:
    with pytest.raises(KioskSettingsError):
        KioskSettings.load(**values)


def test_an_unreadable_password_file_is_a_settings_error(tmp_path: Path) -> None:
    settings = KioskSettings.load(kiosk_id="k", broker_password_file=str(tmp_path / "missing"))
    with pytest.raises(KioskSettingsError, match="PASSWORD_FILE"):
        settings.broker_endpoint()
