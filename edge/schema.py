"""Schema migrations per edge component, all in the one edge database.

Each component (ledger, members, catalogue, stock, staff, ...) owns an ordered tuple of steps;
a step is a tuple of SQL statements applied in one transaction. ``schema_versions`` records how
far each component has come. Never edit a shipped step: edges in the field hold data written
by every earlier version; add a new step instead.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Sequence

__all__ = ["SchemaTooNewError", "migrate_component", "component_version"]

log = logging.getLogger(__name__)

Steps = Sequence[Sequence[str]]


class SchemaTooNewError(RuntimeError):
    """The database was written by newer software than this one."""


def _ensure_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )


def component_version(conn: sqlite3.Connection, component: str) -> int:
    _ensure_table(conn)
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
    return int(row[0]) if row else 0


def migrate_component(conn: sqlite3.Connection, component: str, steps: Steps) -> int:
    """Bring ``component`` up to ``len(steps)``, one transaction per step; return the version.

    The connection must be in autocommit mode (``isolation_level=None``).
    """
    current = component_version(conn, component)
    target = len(steps)
    if current > target:
        raise SchemaTooNewError(f"{component} schema version {current} is newer than this software ({target})")
    for number in range(current + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in steps[number - 1]:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, number),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.info("edge %s schema migrated to %d", component, number)
    return target
