"""Device credentials of one store: who may log in to the broker, with which password and certificate.

The registry lives in the broker's data folder (never in the repository):

    <data_dir>/devices/registry.json   usernames, roles, passwords and their hashes (0600)
    <data_dir>/devices/<kiosk>.crt     a kiosk's client certificate (key beside it, 0600)
    <data_dir>/passwd                  the Mosquitto password file, rewritten on every change

A running broker reads the password file again on SIGHUP (``LocalBroker.reload()``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from broker.ca import CertPair, StoreCA
from broker.config import EDGE_USER, BrokerPaths, validate_kiosk_id
from broker.endpoint import MqttEndpoint
from broker.errors import BrokerConfigError, CertificateError, CredentialsError, UnknownDeviceError
from broker.fsutil import atomic_write
from broker.passwords import hash_password, password_line
from retail.clock import Clock, SystemClock

__all__ = ["DeviceRegistry", "DeviceCredentials", "KioskCredentials", "DeviceRecord", "Role"]

log = logging.getLogger(__name__)

Role = Literal["edge", "kiosk"]
_REGISTRY_VERSION = 1


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """What ``DeviceRegistry.list()`` shows of one device (no secrets)."""

    username: str
    role: Role
    enrolled_at: str


@dataclass(frozen=True)
class DeviceCredentials:
    """A device's broker login. The password is never shown by ``repr``."""

    username: str
    password: str
    role: Role
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    def endpoint(self, host: str, port: int, *, tls: bool) -> MqttEndpoint:
        """How this device reaches the broker at ``host:port`` (TLS with the store CA if ``tls``)."""
        if tls and self.ca_file is None:
            raise CredentialsError(f"{self.username} has no CA file for a TLS connection")
        return MqttEndpoint(
            host=host,
            port=port,
            username=self.username,
            password=self.password,
            ca_file=self.ca_file if tls else None,
            cert_file=self.cert_file if tls else None,
            key_file=self.key_file if tls else None,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(username={self.username!r}, role={self.role!r})"


@dataclass(frozen=True, repr=False)
class KioskCredentials(DeviceCredentials):
    """A kiosk's login: its id is its username; it carries a client certificate."""

    @property
    def kiosk_id(self) -> str:
        return self.username


class DeviceRegistry:
    """Enrol, revoke and list the devices of the store whose broker data is in ``data_dir``."""

    def __init__(self, data_dir: Path | str, *, clock: Clock | None = None) -> None:
        self.paths = BrokerPaths(Path(data_dir))
        self._clock = clock or SystemClock()
        self.ca = StoreCA(self.paths.ca_dir, clock=self._clock)

    @property
    def registry_file(self) -> Path:
        return self.paths.devices_dir / "registry.json"

    # -- reading --------------------------------------------------------------------------
    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.registry_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as exc:
            raise CredentialsError(f"{self.registry_file} is corrupt: {exc}") from exc
        if not isinstance(data, dict) or data.get("version") != _REGISTRY_VERSION or not isinstance(
            data.get("devices"), dict
        ):
            raise CredentialsError(f"{self.registry_file} is not a tillpi device registry")
        return data["devices"]

    def _write(self, devices: dict[str, dict[str, Any]]) -> None:
        self.paths.devices_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(
            self.registry_file,
            json.dumps({"version": _REGISTRY_VERSION, "devices": devices}, indent=2, sort_keys=True) + "\n",
            mode=0o600,
        )
        lines = [password_line(name, entry["hash"]) for name, entry in sorted(devices.items())]
        atomic_write(self.paths.password_file, "".join(f"{line}\n" for line in lines), mode=0o600)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, Any]]]:
        """Read-modify-write under a file lock (the CLI may enrol while a launcher runs)."""
        self.paths.devices_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.paths.devices_dir / ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                devices = self._read()
                yield devices
                self._write(devices)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _credentials(self, username: str, entry: dict[str, Any]) -> DeviceCredentials:
        return DeviceCredentials(username, entry["password"], entry["role"], self.ca.ca_cert_file)

    def _kiosk_pair(self, kiosk_id: str) -> CertPair:
        return CertPair(self.paths.devices_dir / f"{kiosk_id}.crt", self.paths.devices_dir / f"{kiosk_id}.key")

    def _new_entry(self, role: Role) -> dict[str, Any]:
        password = secrets.token_urlsafe(24)
        return {
            "role": role,
            "password": password,
            "hash": hash_password(password),
            "enrolled_at": self._clock.now().isoformat(timespec="seconds"),
        }

    # -- public ---------------------------------------------------------------------------
    def add_kiosk(self, kiosk_id: str) -> KioskCredentials:
        """Enrol a kiosk: a random password, a password-file entry and a client certificate.

        Raises :class:`CredentialsError` if the kiosk is already enrolled (revoke it first to
        issue new credentials) and :class:`CertificateError` if the store CA is missing.
        """
        try:
            validate_kiosk_id(kiosk_id)
        except BrokerConfigError as exc:
            raise CredentialsError(str(exc)) from exc
        if not self.ca.exists():
            raise CertificateError(f"no store CA in {self.ca.ca_dir}: run `tillpi broker init` first")
        with self._locked() as devices:
            if kiosk_id in devices:
                raise CredentialsError(f"{kiosk_id} is already enrolled")
            self.ca.issue_client_cert(kiosk_id, self._kiosk_pair(kiosk_id))
            devices[kiosk_id] = self._new_entry("kiosk")
            entry = devices[kiosk_id]
        log.info("enrolled kiosk %s", kiosk_id)
        pair = self._kiosk_pair(kiosk_id)
        return KioskCredentials(kiosk_id, entry["password"], "kiosk", self.ca.ca_cert_file, pair.cert_file, pair.key_file)

    def ensure_kiosk(self, kiosk_id: str) -> KioskCredentials:
        """The kiosk's credentials, enrolling it first if needed."""
        try:
            return self.kiosk(kiosk_id)
        except UnknownDeviceError:
            return self.add_kiosk(kiosk_id)

    def kiosk(self, kiosk_id: str) -> KioskCredentials:
        """An enrolled kiosk's credentials; :class:`UnknownDeviceError` if it is not enrolled."""
        entry = self._read().get(kiosk_id)
        if entry is None or entry.get("role") != "kiosk":
            raise UnknownDeviceError(f"kiosk {kiosk_id!r} is not enrolled")
        pair = self._kiosk_pair(kiosk_id)
        return KioskCredentials(kiosk_id, entry["password"], "kiosk", self.ca.ca_cert_file, pair.cert_file, pair.key_file)

    def revoke_kiosk(self, kiosk_id: str) -> None:
        """Remove a kiosk's password entry and certificate. Reload the broker afterwards."""
        with self._locked() as devices:
            entry = devices.get(kiosk_id)
            if entry is None or entry.get("role") != "kiosk":
                raise UnknownDeviceError(f"kiosk {kiosk_id!r} is not enrolled")
            del devices[kiosk_id]
        pair = self._kiosk_pair(kiosk_id)
        pair.cert_file.unlink(missing_ok=True)
        pair.key_file.unlink(missing_ok=True)
        log.info("revoked kiosk %s", kiosk_id)

    def add_edge(self) -> DeviceCredentials:
        """The edge application's login (user ``edge``), created if it does not exist yet."""
        with self._locked() as devices:
            if EDGE_USER not in devices:
                devices[EDGE_USER] = self._new_entry("edge")
                log.info("enrolled the edge user")
            entry = devices[EDGE_USER]
        return self._credentials(EDGE_USER, entry)

    def edge(self) -> DeviceCredentials:
        """The edge's login; :class:`UnknownDeviceError` if ``add_edge`` was never called."""
        entry = self._read().get(EDGE_USER)
        if entry is None:
            raise UnknownDeviceError("the edge user is not enrolled")
        return self._credentials(EDGE_USER, entry)

    def list(self) -> list[DeviceRecord]:
        """Every enrolled device, sorted by username."""
        return [
            DeviceRecord(name, entry["role"], entry.get("enrolled_at", ""))
            for name, entry in sorted(self._read().items())
        ]

    def write_password_file(self) -> Path:
        """Rewrite the Mosquitto password file from the registry (an empty one if no devices)."""
        with self._locked():
            pass
        return self.paths.password_file
