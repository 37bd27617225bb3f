"""Numbered schema steps of the edge ledger, applied through ``PRAGMA user_version``.

Never edit a shipped step: edges in the field hold data written by every earlier version.
"""

from __future__ import annotations

import logging
import sqlite3

from edge.errors import LedgerSchemaError

__all__ = ["STEPS", "migrate"]

log = logging.getLogger(__name__)

MOVE_KINDS = "('sale', 'return', 'receipt', 'adjustment', 'count', 'transfer', 'waste')"

STEPS: tuple[tuple[str, ...], ...] = (
    # 1: sales, stock ledger, HQ outbox, dead letters, alarm events, kiosk sequences
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE sales (
            id INTEGER PRIMARY KEY,
            kiosk_id TEXT NOT NULL,
            sale_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            body_hash TEXT NOT NULL,
            body TEXT NOT NULL,
            business_date TEXT NOT NULL,
            total_minor INTEGER NOT NULL,
            currency TEXT NOT NULL,
            received_at TEXT NOT NULL,
            UNIQUE (kiosk_id, sale_id)
        )""",
        "CREATE INDEX sales_kiosk_seq ON sales (kiosk_id, seq)",
        "CREATE INDEX sales_business_date ON sales (business_date, kiosk_id)",
        """CREATE TABLE sale_lines (
            sale_row INTEGER NOT NULL REFERENCES sales (id),
            line_no INTEGER NOT NULL,
            sku TEXT NOT NULL,
            gtin TEXT,
            name TEXT NOT NULL,
            quantity INTEGER,
            weight_g INTEGER,
            unit_price_minor INTEGER NOT NULL,
            gross_minor INTEGER NOT NULL,
            savings_minor INTEGER NOT NULL,
            net_minor INTEGER NOT NULL,
            tax_rate_bp INTEGER NOT NULL,
            tax_minor INTEGER NOT NULL,
            PRIMARY KEY (sale_row, line_no)
        )""",
        f"""CREATE TABLE stock_moves (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN {MOVE_KINDS}),
            sku TEXT NOT NULL,
            qty INTEGER NOT NULL DEFAULT 0,
            grams INTEGER NOT NULL DEFAULT 0,
            ref TEXT NOT NULL,
            source TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        "CREATE INDEX stock_moves_sku ON stock_moves (sku)",
        """CREATE TABLE hq_outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            payload BLOB NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT
        )""",
        """CREATE TABLE dead_letters (
            id INTEGER PRIMARY KEY,
            topic TEXT NOT NULL,
            payload BLOB NOT NULL,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        """CREATE TABLE alarm_events (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            detail TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        """CREATE TABLE kiosk_sequences (
            kiosk_id TEXT PRIMARY KEY,
            highest_contiguous INTEGER NOT NULL DEFAULT 0,
            highest_seen INTEGER NOT NULL DEFAULT 0,
            last_resync_at TEXT
        )""",
        """CREATE TABLE sequence_gaps (
            id INTEGER PRIMARY KEY,
            kiosk_id TEXT NOT NULL,
            first_seq INTEGER NOT NULL,
            last_seq INTEGER NOT NULL,
            detected_at TEXT NOT NULL,
            cleared_at TEXT
        )""",
        "CREATE INDEX sequence_gaps_open ON sequence_gaps (kiosk_id, cleared_at)",
    ),
)


def migrate(conn: sqlite3.Connection, steps: tuple[tuple[str, ...], ...] = STEPS) -> int:
    """Bring the database up to ``len(steps)``, one transaction per step; return the version."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    target = len(steps)
    if current > target:
        raise LedgerSchemaError(f"ledger schema version {current} is newer than this software ({target})")
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
        log.info("edge ledger migrated to schema %d", number)
    return target
