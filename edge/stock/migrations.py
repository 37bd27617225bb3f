"""Schema steps of the edge stock component (``stock`` in ``schema_versions``).

The moves themselves live in the ledger's ``stock_moves`` table; these are the records around
them. Never edit a shipped step; add a new one.
"""

from __future__ import annotations

__all__ = ["STEPS"]

STEPS: tuple[tuple[str, ...], ...] = (
    # 1: suppliers, reorder points, batches, purchase orders, stocktakes, count anchors, transfers
    (
        """CREATE TABLE suppliers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            contact TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            lead_time_days INTEGER NOT NULL CHECK (lead_time_days >= 0),
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE reorder_points (
            sku TEXT PRIMARY KEY,
            reorder_point INTEGER NOT NULL CHECK (reorder_point >= 0),
            order_up_to INTEGER,
            supplier_id INTEGER REFERENCES suppliers (id),
            pack_size INTEGER NOT NULL DEFAULT 1 CHECK (pack_size >= 1)
        )""",
        """CREATE TABLE batches (
            id INTEGER PRIMARY KEY,
            sku TEXT NOT NULL,
            lot TEXT NOT NULL DEFAULT '',
            expires_on TEXT,
            amount INTEGER NOT NULL CHECK (amount > 0),
            received_at TEXT NOT NULL,
            ref TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX batches_sku ON batches (sku, expires_on)",
        """CREATE TABLE purchase_orders (
            id INTEGER PRIMARY KEY,
            supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
            status TEXT NOT NULL CHECK (status IN ('open', 'partial', 'received', 'cancelled')),
            currency TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            expected_on TEXT
        )""",
        """CREATE TABLE po_lines (
            po_id INTEGER NOT NULL REFERENCES purchase_orders (id),
            sku TEXT NOT NULL,
            ordered INTEGER NOT NULL CHECK (ordered > 0),
            received INTEGER NOT NULL DEFAULT 0,
            cost_minor INTEGER NOT NULL CHECK (cost_minor >= 0),
            PRIMARY KEY (po_id, sku)
        )""",
        """CREATE TABLE po_receipts (
            id INTEGER PRIMARY KEY,
            po_id INTEGER NOT NULL REFERENCES purchase_orders (id),
            sku TEXT NOT NULL,
            amount INTEGER NOT NULL,
            batch_id INTEGER REFERENCES batches (id),
            at TEXT NOT NULL
        )""",
        """CREATE TABLE stocktakes (
            id INTEGER PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('open', 'approved', 'cancelled')),
            note TEXT NOT NULL DEFAULT '',
            count_at TEXT,
            opened_at TEXT NOT NULL,
            approved_at TEXT,
            approved_by TEXT
        )""",
        """CREATE TABLE stocktake_counts (
            stocktake_id INTEGER NOT NULL REFERENCES stocktakes (id),
            sku TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount >= 0),
            counted_at TEXT NOT NULL,
            expected INTEGER,
            PRIMARY KEY (stocktake_id, sku)
        )""",
        """CREATE TABLE count_anchors (
            id INTEGER PRIMARY KEY,
            sku TEXT NOT NULL,
            stocktake_id INTEGER NOT NULL REFERENCES stocktakes (id),
            at TEXT NOT NULL,
            jd REAL NOT NULL,
            units INTEGER NOT NULL,
            grams INTEGER NOT NULL
        )""",
        "CREATE INDEX count_anchors_sku ON count_anchors (sku, jd)",
        """CREATE TABLE transfers (
            id INTEGER PRIMARY KEY,
            direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
            shop TEXT NOT NULL,
            ref TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('sent', 'received')),
            created_at TEXT NOT NULL,
            received_at TEXT,
            UNIQUE (direction, shop, ref)
        )""",
        """CREATE TABLE transfer_lines (
            transfer_id INTEGER NOT NULL REFERENCES transfers (id),
            sku TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            PRIMARY KEY (transfer_id, sku)
        )""",
    ),
)
