"""The health checks the systemd timers run."""

from __future__ import annotations

import io
import os
import socket
import sqlite3
from pathlib import Path

import pytest

from tillpi_ops import cli
from tillpi_ops.errors import HealthCheckError
from tillpi_ops.health import check_file_fresh, check_sqlite, check_tcp, parse_check


def test_tcp_check_sees_a_listener_and_its_absence() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert check_tcp("127.0.0.1", port).ok
    assert not check_tcp("127.0.0.1", port, timeout_s=1).ok


def test_sqlite_check_passes_a_database_and_fails_a_missing_or_garbage_one(tmp_path: Path) -> None:
    good = tmp_path / "good.sqlite"
    conn = sqlite3.connect(good)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    assert check_sqlite(good).ok
    assert check_sqlite(tmp_path / "missing.sqlite").detail == "missing"
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    assert not check_sqlite(tmp_path / "junk.sqlite").ok
    assert not (tmp_path / "missing.sqlite").exists()  # a check never creates a database


def test_fresh_check_compares_the_age_of_a_heartbeat(tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat"
    beat.write_text("")
    mtime = beat.stat().st_mtime
    assert check_file_fresh(beat, 60, now=lambda: mtime + 59).ok
    assert not check_file_fresh(beat, 60, now=lambda: mtime + 61).ok


def test_bad_check_specs_are_refused() -> None:
    for spec in ("tcp:nohost", "ftp:x", "fresh:/x:soon", "sqlite:"):
        with pytest.raises(HealthCheckError):
            parse_check(spec)


def test_the_cli_exits_1_when_a_check_fails(tmp_path: Path) -> None:
    out = io.StringIO()
    assert cli.main(["health-check", f"sqlite:{tmp_path / 'none.sqlite'}"], out=out) == 1
    assert "FAIL" in out.getvalue()
    os.close(os.open(tmp_path / "beat", os.O_CREAT | os.O_WRONLY))
    assert cli.main(["health-check", f"fresh:{tmp_path / 'beat'}:3600"], out=io.StringIO()) == 0
