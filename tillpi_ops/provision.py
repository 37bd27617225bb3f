"""Provisioning: one call enrols a kiosk with its edge, or an edge with HQ.

A kiosk is provisioned **on the edge** (where the store CA and device registry live) into a
*bundle* folder that is then copied to the kiosk's data partition (``install_kiosk_bundle``,
on the kiosk: ``/var/lib/tillpi/kiosk``)::

    bundle/
      profile.json        device profile (TinyDB): lane identity, hardware backends
      kiosk.env           TILLPI_KIOSK_* settings for the systemd unit (EnvironmentFile=)  0600
      broker-password     the kiosk's MQTT password                                      0600
      ca.crt              the store CA (verifies the broker)
      client.crt          the kiosk's client certificate (CN = kiosk id)
      client.key          its private key                                                0600
      pairing.json        the pairing code and QR payload to show / print
      bundle.json         what is in the bundle, with SHA-256 of each file (no secrets)

An edge is provisioned with an HQ enrolment code (:mod:`tillpi_ops.hq_enrolment`): HQ answers
the store id and the edge's token; the store's broker data (CA, edge login) and the edge's
data folder (``edge.env``, ``hq-token``, ``broker-password``) are written.

No secret is ever logged or printed: passwords, keys and tokens go only into 0600 files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path

from broker.ca import StoreCA
from broker.config import StoreBrokerConfig, validate_kiosk_id
from broker.credentials import DeviceRegistry
from broker.errors import BrokerError, CredentialsError
from broker.fsutil import atomic_write, atomic_write_bytes
from retail.clock import Clock, SystemClock
from tillpi_ops.errors import ProvisioningError
from tillpi_ops.hq_enrolment import HqEnrolment
from tillpi_ops.pairing import KEY_FILE_NAME, PairingAuthority, PairingCode, load_or_create_pairing_key

__all__ = [
    "EdgeProvision",
    "KioskBundle",
    "install_kiosk_bundle",
    "provision_edge",
    "provision_kiosk",
    "read_env_file",
    "reload_running_broker",
]

log = logging.getLogger(__name__)

KIOSK_DATA_DIR = Path("/var/lib/tillpi/kiosk")
BROKER_PID_FILE = "broker.pid"
_SAFE_VALUE = re.compile(r"^[^\s\"'\\$`]+$")

BUNDLE_FILES = ("profile.json", "kiosk.env", "broker-password", "ca.crt", "client.crt", "client.key", "pairing.json")
_SECRET_FILES = {"kiosk.env", "broker-password", "client.key"}


@dataclass(frozen=True, slots=True)
class KioskBundle:
    """A provisioned kiosk's bundle folder and the files in it."""

    folder: Path
    store_id: str
    kiosk_id: str
    lane: int
    pairing: PairingCode

    @property
    def env_file(self) -> Path:
        return self.folder / "kiosk.env"

    @property
    def profile_file(self) -> Path:
        return self.folder / "profile.json"

    @property
    def password_file(self) -> Path:
        return self.folder / "broker-password"

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def cert_file(self) -> Path:
        return self.folder / "client.crt"

    @property
    def key_file(self) -> Path:
        return self.folder / "client.key"


@dataclass(frozen=True, slots=True)
class EdgeProvision:
    """What provisioning an edge wrote."""

    store_id: str
    broker_data: Path
    edge_data: Path

    @property
    def env_file(self) -> Path:
        return self.edge_data / "edge.env"

    @property
    def token_file(self) -> Path:
        return self.edge_data / "hq-token"

    @property
    def password_file(self) -> Path:
        return self.edge_data / "broker-password"


# -- small helpers -----------------------------------------------------------------------------


def _env_text(values: dict[str, str], header: str) -> str:
    lines = [f"# {header}", "# Written by tillpi_ops provisioning; secrets are in files beside it, never here."]
    for key, value in values.items():
        if not _SAFE_VALUE.match(value):
            raise ProvisioningError(f"{key} value {value!r} has whitespace, quotes or shell characters")
        lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


def read_env_file(path: Path | str) -> dict[str, str]:
    """``KEY=VALUE`` lines of a systemd ``EnvironmentFile`` as written here (comments skipped)."""
    values: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, sep, value = text.partition("=")
        if not sep or not re.match(r"^[A-Z_][A-Z0-9_]*$", key):
            raise ProvisioningError(f"{path}:{number}: not a KEY=VALUE line")
        values[key] = value
    return values


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _empty_folder(folder: Path) -> None:
    if folder.exists():
        if not folder.is_dir():
            raise ProvisioningError(f"{folder} exists and is not a folder")
        if any(folder.iterdir()):
            raise ProvisioningError(f"{folder} is not empty; a bundle is written into an empty folder")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)


def reload_running_broker(broker_data: Path | str) -> bool:
    """SIGHUP the Mosquitto that ``tillpi broker run`` started on ``broker_data`` (its pid file),
    so it reads the new password file. False if none runs (the change applies when it starts)."""
    pid_file = Path(broker_data) / BROKER_PID_FILE
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return False
    log.info("told the broker (pid %s) to reload its logins", pid)
    return True


def _broker_config(broker_data: Path) -> StoreBrokerConfig | None:
    try:
        return StoreBrokerConfig.load(broker_data)
    except BrokerError:
        return None


# -- kiosk -------------------------------------------------------------------------------------


def provision_kiosk(
    broker_data: Path | str,
    kiosk_id: str,
    lane: int,
    out: Path | str,
    *,
    store_id: str | None = None,
    broker_host: str | None = None,
    broker_port: int | None = None,
    install_dir: Path | str = KIOSK_DATA_DIR,
    hardware: str = "real",
    language: str = "en",
    display_name: str | None = None,
    reissue: bool = False,
    clock: Clock | None = None,
) -> KioskBundle:
    """Enrol ``kiosk_id`` in the store broker at ``broker_data`` and write its bundle to ``out``.

    Store id, broker host and kiosk port come from the broker's saved settings
    (``tillpi broker init``) unless given. ``install_dir`` is where the bundle will live on
    the kiosk (the paths in ``kiosk.env`` point there). ``reissue`` revokes an enrolled kiosk
    first (new password and certificate); otherwise an enrolled kiosk is refused.
    """
    from kiosk.profile import DeviceProfile, HardwareSettings, LaneIdentity

    clock = clock or SystemClock()
    broker_data, out, install_dir = Path(broker_data), Path(out), Path(install_dir)
    try:
        validate_kiosk_id(kiosk_id)
    except BrokerError as exc:
        raise ProvisioningError(str(exc)) from None
    if isinstance(lane, bool) or not isinstance(lane, int) or not 1 <= lane <= 999:
        raise ProvisioningError(f"lane must be 1..999, not {lane!r}")
    if hardware not in ("real", "simulated"):
        raise ProvisioningError(f"hardware must be real or simulated, not {hardware!r}")
    if language not in ("en", "zh_CN"):
        raise ProvisioningError(f"language must be en or zh_CN, not {language!r}")
    saved = _broker_config(broker_data)
    store = store_id or (saved.store_id if saved else None)
    port = broker_port or (saved.kiosk_port if saved and saved.kiosk_port else None)
    host = broker_host or (saved.edge_hostnames[-1] if saved else None)
    if store is None or port is None or host is None:
        raise ProvisioningError(
            f"{broker_data} has no saved broker settings: run `tillpi broker init` or pass store id, host and port"
        )
    if saved is not None and not saved.kiosk_tls:
        raise ProvisioningError("the store's kiosk listener is plain (demo); kiosks are provisioned for TLS only")
    _empty_folder(out)

    registry = DeviceRegistry(broker_data, clock=clock)
    try:
        if reissue and any(d.username == kiosk_id for d in registry.list()):
            registry.revoke_kiosk(kiosk_id)
        creds = registry.add_kiosk(kiosk_id)
    except CredentialsError as exc:
        raise ProvisioningError(f"{exc} (use reissue to revoke and issue new credentials)") from None
    except BrokerError as exc:
        raise ProvisioningError(str(exc)) from None
    if creds.cert_file is None or creds.key_file is None or creds.ca_file is None:  # pragma: no cover - add_kiosk always sets them
        raise ProvisioningError(f"{kiosk_id} was enrolled without a client certificate")

    with DeviceProfile(out / "profile.json") as profile:
        profile.set_lane(LaneIdentity(store, kiosk_id, lane, display_name or f"Lane {lane}"))
        profile.set_hardware(HardwareSettings(backend=hardware))
    atomic_write_bytes(out / "ca.crt", creds.ca_file.read_bytes(), mode=0o644)
    atomic_write_bytes(out / "client.crt", creds.cert_file.read_bytes(), mode=0o644)
    atomic_write_bytes(out / "client.key", creds.key_file.read_bytes(), mode=0o600)
    atomic_write(out / "broker-password", creds.password + "\n", mode=0o600)
    env = {
        "TILLPI_KIOSK_DATA_DIR": str(install_dir),
        "TILLPI_KIOSK_STORE_ID": store,
        "TILLPI_KIOSK_KIOSK_ID": kiosk_id,
        "TILLPI_KIOSK_BROKER_HOST": host,
        "TILLPI_KIOSK_BROKER_PORT": str(port),
        "TILLPI_KIOSK_BROKER_USERNAME": kiosk_id,
        "TILLPI_KIOSK_BROKER_PASSWORD_FILE": str(install_dir / "broker-password"),
        "TILLPI_KIOSK_BROKER_CA_FILE": str(install_dir / "ca.crt"),
        "TILLPI_KIOSK_BROKER_CERT_FILE": str(install_dir / "client.crt"),
        "TILLPI_KIOSK_BROKER_KEY_FILE": str(install_dir / "client.key"),
        "TILLPI_KIOSK_LANGUAGE": language,
    }
    atomic_write(out / "kiosk.env", _env_text(env, f"tillpi kiosk {kiosk_id}, store {store}, lane {lane}"), mode=0o600)

    pairing = PairingAuthority.from_broker_data(broker_data, store_id=store, clock=clock).issue(kiosk_id, lane)
    atomic_write(
        out / "pairing.json",
        json.dumps({"store_id": store, "kiosk_id": kiosk_id, "lane": lane, "code": pairing.code,
                    "payload": pairing.payload, "expires_at": pairing.expires_at.isoformat()}, indent=2) + "\n",
        mode=0o644,
    )
    manifest = {
        "kind": "tillpi.kiosk-bundle/1",
        "store_id": store,
        "kiosk_id": kiosk_id,
        "lane": lane,
        "created_at": clock.now().isoformat(timespec="seconds"),
        "install_dir": str(install_dir),
        "files": {name: _sha256(out / name) for name in BUNDLE_FILES},
    }
    atomic_write(out / "bundle.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n", mode=0o644)
    log.info("provisioned kiosk %s (store %s, lane %d) into %s", kiosk_id, store, lane, out)
    return KioskBundle(out, store, kiosk_id, lane, pairing)


def install_kiosk_bundle(bundle: Path | str, data_dir: Path | str) -> list[Path]:
    """Copy a checked bundle into the kiosk's data folder (on the kiosk), keeping file modes.

    The bundle's checksums are verified first. The journal, spool and anything else already in
    ``data_dir`` is left alone; a profile already there is replaced (it is the lane's new
    identity). Returns the files written.
    """
    bundle, data_dir = Path(bundle), Path(data_dir)
    try:
        manifest = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise ProvisioningError(f"{bundle} is not a kiosk bundle: {exc}") from None
    files: dict[str, str] = manifest.get("files", {})
    if set(files) != set(BUNDLE_FILES):
        raise ProvisioningError(f"{bundle}/bundle.json lists {sorted(files)}, expected {sorted(BUNDLE_FILES)}")
    for name, digest in files.items():
        if _sha256(bundle / name) != digest:
            raise ProvisioningError(f"{bundle}/{name} does not match bundle.json (damaged copy?)")
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    for name in (*BUNDLE_FILES, "bundle.json"):
        mode = 0o600 if name in _SECRET_FILES else 0o644
        atomic_write_bytes(data_dir / name, (bundle / name).read_bytes(), mode=mode)
        written.append(data_dir / name)
    log.info("installed kiosk bundle of %s into %s", manifest.get("kiosk_id"), data_dir)
    return written


# -- edge --------------------------------------------------------------------------------------


def provision_edge(
    hq: HqEnrolment,
    enrolment_code: str,
    *,
    hq_url: str,
    broker_data: Path | str,
    edge_data: Path | str,
    kiosk_port: int = 8883,
    edge_port: int = 1884,
    hostnames: tuple[str, ...] = ("localhost",),
) -> EdgeProvision:
    """Enrol this edge with HQ and set up the store's broker data and the edge's data folder.

    The enrolment code is one-time: HQ's token is written (0600) before anything else can
    fail. A broker data folder already set up for another store is refused.
    """
    broker_data, edge_data = Path(broker_data), Path(edge_data)
    saved = _broker_config(broker_data)
    enrolment = hq.enrol(enrolment_code)
    edge_data.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(edge_data / "hq-token", enrolment.token + "\n", mode=0o600)
    store = enrolment.store_id
    if saved is not None and saved.store_id != store:
        raise ProvisioningError(f"{broker_data} is set up for store {saved.store_id}, HQ enrolled this edge as {store}")
    try:
        config = saved or StoreBrokerConfig(
            store_id=store, data_dir=broker_data, edge_port=edge_port, kiosk_port=kiosk_port,
            edge_hostnames=tuple(hostnames),
        )
        if saved is None:
            config.save()
        StoreCA(config.paths.ca_dir).ensure(store, config.edge_hostnames)
        edge_login = DeviceRegistry(broker_data).add_edge()
    except BrokerError as exc:
        raise ProvisioningError(str(exc)) from None
    load_or_create_pairing_key(broker_data / KEY_FILE_NAME)
    atomic_write(edge_data / "broker-password", edge_login.password + "\n", mode=0o600)
    env = {
        "TILLPI_STORE_ID": store,
        "TILLPI_EDGE_BROKER_PORT": str(config.edge_port),
        "TILLPI_EDGE_PASSWORD_FILE": str(edge_data / "broker-password"),
        "TILLPI_HQ_URL": hq_url.rstrip("/"),
        "TILLPI_HQ_TOKEN_FILE": str(edge_data / "hq-token"),
    }
    atomic_write(edge_data / "edge.env", _env_text(env, f"tillpi edge of store {store}"), mode=0o600)
    log.info("provisioned the edge of store %s", store)
    return EdgeProvision(store, broker_data, edge_data)

