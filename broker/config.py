"""The store broker's settings and the Mosquitto files rendered from them.

``StoreBrokerConfig`` is validated when it is built. ``render_mosquitto_conf`` and
``render_acl`` are pure (text in, text out); ``write_broker_files`` writes them into the data
folder. Templates live in ``broker/templates/`` and are filled with :class:`string.Template`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from broker.errors import BrokerConfigError
from broker.fsutil import atomic_write as _atomic_write

__all__ = [
    "StoreBrokerConfig",
    "BrokerPaths",
    "EDGE_USER",
    "KIOSK_ID_RE",
    "STORE_ID_RE",
    "validate_kiosk_id",
    "render_mosquitto_conf",
    "render_acl",
    "write_broker_files",
]

EDGE_USER = "edge"
STORE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# A kiosk's MQTT username is its id; the ACL substitutes it for %u, so it must never hold
# '/', '+', '#' or anything else a topic could be bent with.
KIOSK_ID_RE = re.compile(r"^kiosk-[a-z0-9-]{1,32}$")
_DURATION_RE = re.compile(r"^[1-9][0-9]*[hdwmy]$")
_PACKET_HEADROOM = 64 * 1024  # topic, properties and headers above the payload limit
CONFIG_FILE_NAME = "store-broker.json"


def validate_kiosk_id(kiosk_id: str) -> str:
    """``kiosk_id`` unchanged when it is a safe kiosk username, else :class:`BrokerConfigError`."""
    if not isinstance(kiosk_id, str) or not KIOSK_ID_RE.match(kiosk_id):
        raise BrokerConfigError(f"kiosk id {kiosk_id!r} must match {KIOSK_ID_RE.pattern}")
    return kiosk_id


def _default_user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


@dataclass(frozen=True, slots=True)
class BrokerPaths:
    """Where everything of one store broker lives inside its data folder."""

    data_dir: Path

    @property
    def conf_file(self) -> Path:
        return self.data_dir / "mosquitto.conf"

    @property
    def acl_file(self) -> Path:
        return self.data_dir / "acl"

    @property
    def password_file(self) -> Path:
        return self.data_dir / "passwd"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "mosquitto.log"

    @property
    def stderr_file(self) -> Path:
        return self.data_dir / "mosquitto.stderr"

    @property
    def persistence_dir(self) -> Path:
        return self.data_dir / "db"

    @property
    def ca_dir(self) -> Path:
        return self.data_dir / "ca"

    @property
    def devices_dir(self) -> Path:
        return self.data_dir / "devices"

    @property
    def config_file(self) -> Path:
        return self.data_dir / CONFIG_FILE_NAME


@dataclass(frozen=True, slots=True)
class StoreBrokerConfig:
    """Settings of one store's Mosquitto.

    Ports of 0 mean "pick a free port when starting". The kiosk listener uses TLS with a
    server certificate from the store CA and asks each kiosk for its client certificate;
    ``kiosk_tls=False`` (a plain kiosk listener) is for a laptop demo and must be asked for.
    """

    store_id: str
    data_dir: Path
    edge_port: int = 0
    kiosk_port: int = 0
    edge_bind: str = "127.0.0.1"
    kiosk_bind: str = "0.0.0.0"
    kiosk_tls: bool = True
    require_client_cert: bool = True
    edge_hostnames: tuple[str, ...] = ("localhost",)
    message_size_limit: int = 256 * 1024
    max_queued_messages: int = 1000
    max_queued_bytes: int = 0
    max_inflight_messages: int = 20
    autosave_interval: int = 10
    autosave_on_changes: bool = False
    persistent_client_expiration: str = "7d"
    run_as_user: str = field(default_factory=_default_user)

    def __post_init__(self) -> None:
        if not isinstance(self.store_id, str) or not STORE_ID_RE.match(self.store_id):
            raise BrokerConfigError(f"store id {self.store_id!r} must match {STORE_ID_RE.pattern}")
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        # Mosquitto's config parser splits on whitespace, so a path must not hold any.
        if re.search(r"\s", str(self.data_dir)):
            raise BrokerConfigError(f"data folder {self.data_dir} must not contain whitespace")
        for name in ("edge_port", "kiosk_port"):
            port = getattr(self, name)
            if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
                raise BrokerConfigError(f"{name} must be 0..65535, not {port!r}")
        if self.edge_port and self.edge_port == self.kiosk_port:
            raise BrokerConfigError("edge and kiosk listeners need different ports")
        if self.edge_bind not in ("127.0.0.1", "::1", "localhost"):
            raise BrokerConfigError("the edge listener is plain MQTT and must stay on loopback")
        for name in ("edge_bind", "kiosk_bind", "run_as_user"):
            if not getattr(self, name) or re.search(r"\s", getattr(self, name)):
                raise BrokerConfigError(f"{name} must be a single word")
        object.__setattr__(self, "edge_hostnames", tuple(self.edge_hostnames))
        for host in self.edge_hostnames:
            if not host or re.search(r"[\s/]", host):
                raise BrokerConfigError(f"bad edge hostname {host!r}")
        positive = ("message_size_limit", "max_queued_messages", "max_inflight_messages", "autosave_interval")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise BrokerConfigError(f"{name} must be a positive integer, not {value!r}")
        if self.message_size_limit > 256 * 1024 * 1024:
            raise BrokerConfigError("message_size_limit is above what MQTT allows")
        if not isinstance(self.max_queued_bytes, int) or self.max_queued_bytes < 0:
            raise BrokerConfigError("max_queued_bytes must be 0 (no limit) or positive")
        if not _DURATION_RE.match(self.persistent_client_expiration):
            raise BrokerConfigError(
                f"persistent_client_expiration {self.persistent_client_expiration!r} must look like 7d, 12h, 2w"
            )
        if not self.kiosk_tls and self.require_client_cert:
            # A plain listener cannot ask for certificates; the demo switch turns both off.
            object.__setattr__(self, "require_client_cert", False)

    @property
    def paths(self) -> BrokerPaths:
        return BrokerPaths(self.data_dir)

    @property
    def max_packet_size(self) -> int:
        return self.message_size_limit + _PACKET_HEADROOM

    def with_ports(self, edge_port: int, kiosk_port: int) -> StoreBrokerConfig:
        return dataclasses.replace(self, edge_port=edge_port, kiosk_port=kiosk_port)

    # -- saved form (the CLI's `init` writes it, `run` reads it) --------------------------
    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["data_dir"] = str(self.data_dir)
        data["edge_hostnames"] = list(self.edge_hostnames)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoreBrokerConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise BrokerConfigError(f"unknown broker settings: {sorted(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise BrokerConfigError(str(exc)) from exc

    def save(self) -> Path:
        """Write the settings to ``<data_dir>/store-broker.json`` (atomically)."""
        target = self.paths.config_file
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(target, json.dumps(self.to_dict(), indent=2) + "\n", mode=0o644)
        return target

    @classmethod
    def load(cls, data_dir: Path | str) -> StoreBrokerConfig:
        """Read the settings saved in ``data_dir``; the folder given wins over the saved one."""
        path = BrokerPaths(Path(data_dir)).config_file
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise BrokerConfigError(f"{path} not found: run `tillpi broker init` first") from exc
        except json.JSONDecodeError as exc:
            raise BrokerConfigError(f"{path} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise BrokerConfigError(f"{path} must hold a JSON object")
        data["data_dir"] = str(Path(data_dir))
        return cls.from_dict(data)


def _template(name: str) -> Template:
    # Beside this module (package data); a plain path works for source trees, wheels and editable installs.
    return Template((Path(__file__).resolve().parent / "templates" / name).read_text(encoding="utf-8"))


def _kiosk_security(config: StoreBrokerConfig) -> str:
    if not config.kiosk_tls:
        return "# Plain kiosk listener (demo only): no TLS."
    ca = config.paths.ca_dir
    lines = [
        f"cafile {ca / 'ca.crt'}",
        f"certfile {ca / 'server.crt'}",
        f"keyfile {ca / 'server.key'}",
        "tls_version tlsv1.2",
        f"require_certificate {'true' if config.require_client_cert else 'false'}",
        "use_identity_as_username false",
    ]
    return "\n".join(lines)


def render_mosquitto_conf(config: StoreBrokerConfig) -> str:
    """The text of ``mosquitto.conf`` for ``config`` (ports must be chosen: not 0)."""
    if config.edge_port == 0 or config.kiosk_port == 0:
        raise BrokerConfigError("choose the listener ports before rendering the configuration")
    paths = config.paths
    return _template("mosquitto.conf.tmpl").substitute(
        store_id=config.store_id,
        password_file=paths.password_file,
        acl_file=paths.acl_file,
        run_as_user=config.run_as_user,
        message_size_limit=config.message_size_limit,
        max_packet_size=config.max_packet_size,
        max_inflight_messages=config.max_inflight_messages,
        max_queued_messages=config.max_queued_messages,
        max_queued_bytes=config.max_queued_bytes,
        persistent_client_expiration=config.persistent_client_expiration,
        persistence_location=f"{paths.persistence_dir}/",
        autosave_interval=config.autosave_interval,
        autosave_on_changes="true" if config.autosave_on_changes else "false",
        log_file=paths.log_file,
        edge_port=config.edge_port,
        edge_bind=config.edge_bind,
        kiosk_port=config.kiosk_port,
        kiosk_bind=config.kiosk_bind,
        kiosk_security=_kiosk_security(config),
    )


def render_acl(store_id: str) -> str:
    """The text of the ACL file for a store."""
    if not STORE_ID_RE.match(store_id):
        raise BrokerConfigError(f"store id {store_id!r} must match {STORE_ID_RE.pattern}")
    return _template("acl.tmpl").substitute(store_id=store_id, edge_user=EDGE_USER)


def write_broker_files(config: StoreBrokerConfig) -> BrokerPaths:
    """Write ``mosquitto.conf`` and ``acl`` into the data folder; make the folders it needs.

    The password file is the device registry's (``broker.credentials``); an empty one is
    created if absent so that Mosquitto starts.
    """
    paths = config.paths
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    paths.persistence_dir.mkdir(mode=0o700, exist_ok=True)
    _atomic_write(paths.conf_file, render_mosquitto_conf(config), mode=0o600)
    _atomic_write(paths.acl_file, render_acl(config.store_id), mode=0o600)
    if not paths.password_file.exists():
        _atomic_write(paths.password_file, "", mode=0o600)
    return paths
