"""The kiosk's settings: typed, validated at start-up, read from ``TILLPI_KIOSK_*`` variables.

Two sources, each for what it is good at:

* the process environment (a systemd unit, a shell) — where the data folder is, how to reach
  the store broker, the shopper's default language, the health interval;
* the device profile (:class:`kiosk.profile.DeviceProfile`, a TinyDB file in the data folder)
  — the lane's identity and which device runs on real hardware or as its simulator.

:meth:`KioskSettings.load` reads the environment (and keyword overrides, e.g. from a command
line), :meth:`KioskSettings.with_profile` fills in what the profile says: the store and kiosk
ids unless the environment set them, and each device's backend unless the environment
overrode it (``TILLPI_KIOSK_HARDWARE__PRINTER=simulated`` on a bench without a printer).
:func:`open_profile` does both. Every problem is a :class:`KioskSettingsError` naming the
variable, raised before any device is touched.

Variables (all optional)::

    TILLPI_KIOSK_DATA_DIR               data folder (default ~/.local/share/tillpi/kiosk)
    TILLPI_KIOSK_PROFILE_PATH           device profile (default <data>/profile.json)
    TILLPI_KIOSK_JOURNAL_PATH           sale journal (default <data>/journal.sqlite)
    TILLPI_KIOSK_SPOOL_PATH             receipt spool (default <data>/receipts.sqlite)
    TILLPI_KIOSK_STORE_ID, _KIOSK_ID    override the profile's lane identity
    TILLPI_KIOSK_BROKER_HOST, _PORT     the store broker (default localhost:1883)
    TILLPI_KIOSK_BROKER_USERNAME        default: the kiosk id
    TILLPI_KIOSK_BROKER_PASSWORD_FILE   or TILLPI_KIOSK_BROKER_PASSWORD (never in the repository)
    TILLPI_KIOSK_BROKER_CA_FILE, _CERT_FILE, _KEY_FILE   TLS
    TILLPI_KIOSK_LANGUAGE               en | zh_CN
    TILLPI_KIOSK_HEALTH_INTERVAL_S      seconds between health snapshots (default 30)
    TILLPI_KIOSK_HARDWARE__<DEVICE>     simulated | real, overrides the profile for one device
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from broker.endpoint import MqttEndpoint
from kiosk.errors import KioskError
from kiosk.profile import DEVICES, DeviceProfile, HardwareSettings

__all__ = [
    "Backend",
    "DeviceBackends",
    "KioskSettings",
    "KioskSettingsError",
    "default_data_dir",
    "open_profile",
]

log = logging.getLogger(__name__)

ENV_PREFIX = "TILLPI_KIOSK_"
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

Backend = Literal["simulated", "real"]


class KioskSettingsError(KioskError, ValueError):
    """A kiosk setting is missing or not valid (the message names the variable)."""


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/tillpi/kiosk`` (``~/.local/share/tillpi/kiosk``). On a kiosk the
    systemd unit sets ``TILLPI_KIOSK_DATA_DIR=/var/lib/tillpi/kiosk``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tillpi" / "kiosk"


class DeviceBackends(BaseModel):
    """Each device's backend, resolved: ``simulated`` or ``real``; and how a real drawer is
    kicked open (``gpio`` relay or the ``printer``'s drawer-kick port)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scanner: Backend = "simulated"
    produce_scale: Backend = "simulated"
    bag_scale: Backend = "simulated"
    drawer: Backend = "simulated"
    light: Backend = "simulated"
    printer: Backend = "simulated"
    drawer_kick: Literal["gpio", "printer"] = "gpio"

    @classmethod
    def from_hardware(cls, hardware: HardwareSettings) -> DeviceBackends:
        """From the device profile's hardware section."""
        values: dict[str, Any] = {device: hardware.backend_of(device) for device in DEVICES}
        return cls(**values, drawer_kick=hardware.drawer_kick)

    def is_real(self, device: str) -> bool:
        if device not in DEVICES:
            raise KioskSettingsError(f"no device named {device!r}; the kiosk has {', '.join(DEVICES)}")
        return getattr(self, device) == "real"

    @property
    def all_simulated(self) -> bool:
        return not any(self.is_real(d) for d in DEVICES)


class KioskSettings(BaseSettings):
    """Everything the kiosk needs to start, validated. Build with :meth:`load`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    profile_path: Path
    journal_path: Path
    spool_path: Path
    store_id: str | None = Field(None, pattern=_ID_PATTERN)
    kiosk_id: str | None = Field(None, pattern=_ID_PATTERN)
    broker_host: str = Field("localhost", min_length=1, max_length=253)
    broker_port: int = Field(1883, ge=1, le=65535)
    broker_username: str | None = Field(None, min_length=1)
    broker_password: SecretStr | None = None
    broker_password_file: Path | None = None
    broker_ca_file: Path | None = None
    broker_cert_file: Path | None = None
    broker_key_file: Path | None = None
    language: Literal["en", "zh_CN"] = "en"
    hardware: DeviceBackends = DeviceBackends()
    health_interval_s: float = Field(30.0, gt=0, le=3600)

    @model_validator(mode="before")
    @classmethod
    def _paths_in_the_data_folder(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        raw = data.get("data_dir")
        folder = Path(raw) if raw not in (None, "") else default_data_dir()
        data["data_dir"] = folder
        for key, name in (("profile_path", "profile.json"), ("journal_path", "journal.sqlite"),
                          ("spool_path", "receipts.sqlite")):
            if data.get(key) in (None, ""):
                data[key] = folder / name
        return data

    @model_validator(mode="after")
    def _consistent(self) -> KioskSettings:
        if self.broker_password is not None and self.broker_password_file is not None:
            raise ValueError("set TILLPI_KIOSK_BROKER_PASSWORD or TILLPI_KIOSK_BROKER_PASSWORD_FILE, not both")
        if (self.broker_cert_file is None) != (self.broker_key_file is None):
            raise ValueError("a client certificate needs both TILLPI_KIOSK_BROKER_CERT_FILE and _KEY_FILE")
        if self.broker_cert_file is not None and self.broker_ca_file is None:
            raise ValueError("a client certificate needs TLS: set TILLPI_KIOSK_BROKER_CA_FILE too")
        return self

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def load(cls, **overrides: Any) -> KioskSettings:
        """Settings from the environment; ``overrides`` (e.g. a command line's ``--profile``)
        win over it. Raises :class:`KioskSettingsError` naming the bad variable."""
        given = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            raise KioskSettingsError(_explain(exc)) from None

    def with_profile(self, profile: DeviceProfile) -> KioskSettings:
        """These settings completed from the device profile: the lane's store and kiosk ids
        where the environment gave none, each device's backend where it did not override it."""
        lane = profile.lane()
        from_profile = DeviceBackends.from_hardware(profile.hardware())
        overridden = self.hardware.model_fields_set if "hardware" in self.model_fields_set else set()
        backends = {
            key: getattr(self.hardware if key in overridden else from_profile, key)
            for key in DeviceBackends.model_fields
        }
        return self.model_copy(
            update={
                "store_id": self.store_id or lane.store_id,
                "kiosk_id": self.kiosk_id or lane.kiosk_id,
                "hardware": DeviceBackends(**backends),
            }
        )

    # -- derived values --------------------------------------------------------------------------

    def broker_endpoint(self) -> MqttEndpoint:
        """How this kiosk reaches the store broker. The username defaults to the kiosk id."""
        username = self.broker_username or self.kiosk_id
        if not username:
            raise KioskSettingsError("the broker username is unknown: set TILLPI_KIOSK_BROKER_USERNAME or the kiosk id")
        if self.broker_password_file is not None:
            try:
                password = self.broker_password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise KioskSettingsError(
                    f"TILLPI_KIOSK_BROKER_PASSWORD_FILE {self.broker_password_file} cannot be read: {exc.strerror}"
                ) from None
        else:
            password = self.broker_password.get_secret_value() if self.broker_password is not None else ""
        return MqttEndpoint(
            host=self.broker_host,
            port=self.broker_port,
            username=username,
            password=password,
            ca_file=self.broker_ca_file,
            cert_file=self.broker_cert_file,
            key_file=self.broker_key_file,
        )


def _explain(exc: ValidationError) -> str:
    """One line per problem, each naming its environment variable."""
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
        name = ENV_PREFIX + "__".join(loc).upper() if loc else "kiosk settings"
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = "is not a kiosk setting (misspelt?)"
        value = error.get("input")
        shown = "" if not loc or isinstance(value, dict) or "password" in name.lower() else f" (got {value!r})"
        lines.append(f"{name}: {message}{shown}" if loc else message)
    return "invalid kiosk settings: " + "; ".join(lines)


@contextmanager
def open_profile(**overrides: Any) -> Iterator[tuple[KioskSettings, DeviceProfile]]:
    """Load the settings, open their device profile (created with laptop defaults when the
    file is missing) and complete the settings from it. Closes the profile on exit.

    Raises :class:`KioskSettingsError` or :class:`~kiosk.errors.DeviceConfigError` (a bad
    profile entry) before anything else happens.
    """
    settings = KioskSettings.load(**overrides)
    profile = DeviceProfile(settings.profile_path)
    try:
        yield settings.with_profile(profile), profile
    finally:
        profile.close()
