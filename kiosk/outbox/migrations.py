"""Numbered schema steps of the kiosk sale journal, applied through ``PRAGMA user_version``.

A step is never edited once shipped: devices in the field hold data written by every earlier
version. Add a new step at the end instead.
"""

from __future__ import annotations

import logging
import sqlite3

from kiosk.outbox.errors import OutboxSchemaError

__all__ = ["STEPS", "migrate"]

log = logging.getLogger(__name__)

STEPS: tuple[tuple[str, ...], ...] = (
    # 1: the journal itself
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE sales (
            seq INTEGER PRIMARY KEY,
            sale_id TEXT NOT NULL UNIQUE,
            body BLOB NOT NULL,
            body_hash TEXT NOT NULL,
            business_date TEXT NOT NULL,
            total_minor INTEGER NOT NULL,
            currency TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'rejected')),
            ack_status TEXT,
            ack_reason TEXT,
            acked_at TEXT
        )""",
        "CREATE INDEX sales_state_seq ON sales (state, seq)",
    ),
    # 2: local alarms, commands already obeyed, delivery attempts
    (
        """CREATE TABLE alarm_events (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            detail TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        "CREATE TABLE commands_seen (command_id TEXT PRIMARY KEY, kind TEXT NOT NULL, at TEXT NOT NULL)",
        "ALTER TABLE sales ADD COLUMN ack_count INTEGER NOT NULL DEFAULT 0",
    ),
)


def migrate(conn: sqlite3.Connection, steps: tuple[tuple[str, ...], ...] = STEPS) -> int:
    """Bring the database up to ``len(steps)``, one transaction per step; return the version."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    target = len(steps)
    if current > target:
        raise OutboxSchemaError(f"journal schema version {current} is newer than this software ({target})")
    for number in range(current + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in steps[number - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.info("sale journal migrated to schema %d", number)
    return target
