"""How a client reaches the store's broker: the one value every MQTT adapter is built from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["MqttEndpoint"]


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    """Host, port and credentials of one client's connection.

    ``ca_file`` set means TLS, verifying the broker against the store CA; ``cert_file`` and
    ``key_file`` add a client certificate. The password is never logged (see ``__repr__``).
    """

    host: str
    port: int
    username: str
    password: str
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @property
    def tls(self) -> bool:
        return self.ca_file is not None

    def __repr__(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        return f"MqttEndpoint({scheme}://{self.username}@{self.host}:{self.port})"
