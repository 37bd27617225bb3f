"""The SQLite :class:`~edge.monitor.ports.CursorStore` on the edge database (component
``monitor``)."""

from __future__ import annotations

import sqlite3
import threading

from edge.schema import migrate_component

__all__ = ["SqliteCursorStore"]

MONITOR_STEPS: tuple[tuple[str, ...], ...] = (
    ("CREATE TABLE monitor_cursors (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",),
)


class SqliteCursorStore:
    """Named counters in the edge database. The connection belongs to the caller."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        with self._lock:
            migrate_component(conn, "monitor", MONITOR_STEPS)

    def get(self, name: str) -> int:
        with self._lock:
            row = self._conn.execute("SELECT value FROM monitor_cursors WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def set(self, name: str, value: int) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO monitor_cursors (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value", (name, int(value)))
