"""The edge service's settings: typed, validated at start-up, secrets from the environment or
files (never from the repository).

Build them in code (tests), or from the environment / command line (``tillpi edge run``)::

    settings = EdgeSettings(store_id="s1", data_dir=Path("/var/lib/tillpi/edge"),
                            broker_port=8883, broker_password=..., badge_secret=..., card_secret=...)

Outside development mode a secret that looks like a placeholder (``changeme``, ``secret``,
``test``..., or fewer than 16 bytes) is refused.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

from edge.alarms.settings import AlarmSettings
from edge.errors import EdgeConfigError

__all__ = ["EdgeSettings", "load_secret"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_PLACEHOLDERS = ("changeme", "change-me", "change_me", "placeholder", "secret", "password", "example", "xxxx")


def _placeholder(value: bytes | str) -> bool:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    low = text.lower()
    return any(p in low for p in _PLACEHOLDERS) or len(set(low)) < 4


def load_secret(*, env: str | None = None, file: str | Path | None = None,
                environ: Mapping[str, str] | None = None) -> str | None:
    """A secret from a file (first line, stripped) or an environment variable; ``None`` if neither
    is given or set."""
    environ = os.environ if environ is None else environ
    if file:
        return Path(file).read_text(encoding="utf-8").strip()
    if env and environ.get(env) is not None:
        return environ[env]
    return None


@dataclass(frozen=True)
class EdgeSettings:
    """Everything the edge composition root (:mod:`edge.service`) builds from."""

    store_id: str
    data_dir: Path
    broker_port: int
    broker_password: str = field(repr=False)
    badge_secret: bytes = field(repr=False)
    card_secret: bytes = field(repr=False)
    broker_host: str = "127.0.0.1"
    broker_username: str = "edge"
    ca_file: Path | None = None
    web_host: str = "0.0.0.0"
    web_port: int = 8080
    currency: str = "CNY"
    store_name: str = "tillpi"
    software_version: str = "0"
    tick_s: float = 1.0
    resync_cooldown_s: float = 30.0
    keepalive_s: int = 15
    webhook_url: str | None = None
    notify_window_s: float = 5.0
    notify_max_delay_s: float = 30.0
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    session_ttl: timedelta = timedelta(hours=12)
    fast_hashing: bool = False  # tests and demos only: the lowest argon2 cost
    hq_url: str | None = None  # head office; None runs the shop without HQ (sales wait in the outbox)
    hq_ca_file: Path | None = None
    hq_region: str | None = None
    hq_push_interval_s: float = 5.0
    hq_catalogue_interval_s: float = 15.0
    accrual_interval_s: float = 5.0  # how often members' points catch up with new sales
    development: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.store_id, str) or not _ID.match(self.store_id):
            raise EdgeConfigError(f"store id {self.store_id!r} is not valid (letters, digits, - _ .)")
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.ca_file is not None:
            object.__setattr__(self, "ca_file", Path(self.ca_file))
        for name in ("broker_port", "web_port"):
            port = getattr(self, name)
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
                raise EdgeConfigError(f"{name} must be a TCP port, not {port!r}")
        if self.broker_port == 0:
            raise EdgeConfigError("broker_port must be set")
        if not self.broker_username:
            raise EdgeConfigError("broker_username must be set")
        if not isinstance(self.broker_password, str) or not self.broker_password:
            raise EdgeConfigError("the broker password is missing (TILLPI_EDGE_PASSWORD or --password-file)")
        for name in ("badge_secret", "card_secret"):
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) < 16:
                raise EdgeConfigError(f"{name} must be at least 16 random bytes")
            if not self.development and _placeholder(value):
                raise EdgeConfigError(f"{name} looks like a placeholder; set a real secret")
        if not self.development and _placeholder(self.broker_password):
            raise EdgeConfigError("the broker password looks like a placeholder")
        if not re.match(r"^[A-Z]{3}$", self.currency):
            raise EdgeConfigError(f"currency must be an ISO 4217 code, not {self.currency!r}")
        for name in ("tick_s", "resync_cooldown_s", "notify_window_s", "notify_max_delay_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                raise EdgeConfigError(f"{name} must be a positive number, not {v!r}")
        if self.notify_max_delay_s < self.notify_window_s:
            raise EdgeConfigError("notify_max_delay_s must be at least notify_window_s")
        if not isinstance(self.keepalive_s, int) or not 2 <= self.keepalive_s <= 600:
            raise EdgeConfigError("keepalive_s must be a whole number of seconds from 2 to 600")
        if self.webhook_url is not None and not self.webhook_url.startswith(("http://", "https://")):
            raise EdgeConfigError(f"webhook_url must be http(s), not {self.webhook_url!r}")
        if self.fast_hashing and not self.development:
            raise EdgeConfigError("fast_hashing is for development only")
        if not isinstance(self.alarms, AlarmSettings):
            raise EdgeConfigError("alarms must be an AlarmSettings")

    # -- files --------------------------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        """The one edge database: the sale ledger and stock moves beside staff, members,
        catalogue, promotions, refunds and HQ sync, so every component reads the same sales
        and a sale, its stock moves and its HQ outbox row commit together."""
        return self.data_dir / "edge.sqlite3"

    @property
    def ledger_path(self) -> Path:
        """The sale ledger: the edge database itself."""
        return self.db_path

    @property
    def alarms_path(self) -> Path:
        return self.data_dir / "alarms.sqlite3"

    @staticmethod
    def alarm_settings_from_file(path: str | Path) -> AlarmSettings:
        """Alarm rules overridden by a JSON file (see :meth:`AlarmSettings.from_mapping`)."""
        try:
            data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EdgeConfigError(f"cannot read alarm settings {path}: {exc}") from None
        return AlarmSettings.from_mapping(data)
