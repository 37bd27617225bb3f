"""Health checks the systemd timers run (``python -m tillpi_ops health-check ...``).

The services do not send ``sd_notify`` watchdog pings, so systemd cannot tell a hung process
from a busy one by itself. A timer runs these checks every minute; a failing check makes the
oneshot unit fail, and its ``OnFailure=`` restarts the service (see firmware-config/systemd).

Each check returns a :class:`CheckResult`; :func:`run_checks` runs them all.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tillpi_ops.errors import HealthCheckError

__all__ = ["CheckResult", "check_file_fresh", "check_sqlite", "check_tcp", "parse_check", "run_checks"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def check_tcp(host: str, port: int, *, timeout_s: float = 3.0) -> CheckResult:
    """Something accepts TCP connections on ``host:port`` (the broker's listener)."""
    name = f"tcp {host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return CheckResult(name, True, "accepts connections")
    except OSError as exc:
        return CheckResult(name, False, exc.strerror or str(exc))


def check_sqlite(path: Path | str) -> CheckResult:
    """The database opens and passes ``PRAGMA quick_check`` (read-only; never creates it)."""
    path = Path(path)
    name = f"sqlite {path}"
    if not path.is_file():
        return CheckResult(name, False, "missing")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return CheckResult(name, False, str(exc))
    return CheckResult(name, rows == ["ok"], "ok" if rows == ["ok"] else "; ".join(map(str, rows[:3])))


def check_file_fresh(path: Path | str, max_age_s: float, *, now: Callable[[], float] = time.time) -> CheckResult:
    """``path`` was modified within ``max_age_s`` (a heartbeat file a service touches)."""
    path = Path(path)
    name = f"fresh {path}"
    try:
        age = now() - os.stat(path).st_mtime
    except FileNotFoundError:
        return CheckResult(name, False, "missing")
    return CheckResult(name, age <= max_age_s, f"{age:.0f} s old (limit {max_age_s:.0f} s)")


def parse_check(spec: str) -> Callable[[], CheckResult]:
    """A check from its command-line form: ``tcp:HOST:PORT``, ``sqlite:PATH``, ``fresh:PATH:SECONDS``."""
    kind, _, rest = spec.partition(":")
    try:
        if kind == "tcp":
            host, _, port = rest.rpartition(":")
            port_number = int(port)
            if not host:
                raise ValueError("no host")
            return lambda: check_tcp(host, port_number)
        if kind == "sqlite" and rest:
            return lambda: check_sqlite(rest)
        if kind == "fresh":
            path, _, seconds = rest.rpartition(":")
            limit = float(seconds)
            if not path:
                raise ValueError("no path")
            return lambda: check_file_fresh(path, limit)
    except ValueError as exc:
        raise HealthCheckError(f"bad check {spec!r}: {exc}") from None
    raise HealthCheckError(f"bad check {spec!r}: use tcp:HOST:PORT, sqlite:PATH or fresh:PATH:SECONDS")


def run_checks(checks: Iterable[Callable[[], CheckResult]]) -> list[CheckResult]:
    return [check() for check in checks]
