"""Opening the edge database: one SQLite file, WAL, full sync, foreign keys on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["connect"]


def connect(path: str | Path, *, check_same_thread: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit: ``BEGIN IMMEDIATE``)."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=check_same_thread, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn
