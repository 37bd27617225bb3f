"""Schema steps of the HQ sync (component ``hqsync`` in ``schema_versions``), in the ledger
database beside ``hq_outbox``. Never edit a shipped step; add a new one."""

from __future__ import annotations

__all__ = ["STEPS"]

STEPS: tuple[tuple[str, ...], ...] = (
    # 1: state, per-row attempts, in-flight batches, HQ's catalogue rows, transfers
    (
        "CREATE TABLE hqsync_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE hqsync_items (
            outbox_id INTEGER PRIMARY KEY,
            attempts INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            parked INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX hqsync_items_parked ON hqsync_items (parked)",
        """CREATE TABLE hqsync_batches (
            batch_id TEXT PRIMARY KEY,
            row_ids TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sends INTEGER NOT NULL DEFAULT 0,
            last_sent_at TEXT,
            answered_at TEXT
        )""",
        "CREATE INDEX hqsync_batches_open ON hqsync_batches (answered_at)",
        "CREATE INDEX hqsync_outbox_unsent ON hq_outbox (id) WHERE sent_at IS NULL",
        """CREATE TABLE hqsync_products (
            sku TEXT PRIMARY KEY,
            data TEXT NOT NULL,
            active INTEGER NOT NULL,
            version INTEGER NOT NULL
        )""",
        """CREATE TABLE hqsync_prices (
            sku TEXT NOT NULL,
            scope TEXT NOT NULL,
            price_minor INTEGER NOT NULL,
            currency TEXT NOT NULL,
            active INTEGER NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (sku, scope)
        )""",
        """CREATE TABLE hqsync_promotions (
            promotion_id TEXT PRIMARY KEY,
            scope TEXT NOT NULL,
            definition TEXT NOT NULL,
            active INTEGER NOT NULL,
            version INTEGER NOT NULL
        )""",
        """CREATE TABLE hqsync_transfers (
            hq_id INTEGER PRIMARY KEY,
            direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
            peer TEXT NOT NULL,
            lines TEXT NOT NULL,
            step TEXT NOT NULL CHECK (step IN ('tell_hq', 'done')),
            updated_at TEXT NOT NULL
        )""",
    ),
)
