"""Schema steps of the edge refunds component (``refunds`` in ``schema_versions``).

Never edit a shipped step; add a new one.
"""

from __future__ import annotations

__all__ = ["STEPS"]

STEPS: tuple[tuple[str, ...], ...] = (
    # 1: refunds, their lines and their per-method amounts
    (
        """CREATE TABLE refunds (
            refund_id TEXT PRIMARY KEY,
            kiosk_id TEXT NOT NULL,
            sale_id TEXT NOT NULL,
            sale_seq INTEGER NOT NULL,
            member_id TEXT,
            business_date TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('original', 'stored_value')),
            total_minor INTEGER NOT NULL CHECK (total_minor > 0),
            tax_minor INTEGER NOT NULL CHECK (tax_minor >= 0),
            currency TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            actor TEXT NOT NULL,
            created_at TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            members_done INTEGER NOT NULL DEFAULT 0,
            members_note TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX refunds_sale ON refunds (kiosk_id, sale_id)",
        "CREATE INDEX refunds_business_date ON refunds (business_date)",
        """CREATE TABLE refund_lines (
            refund_id TEXT NOT NULL REFERENCES refunds (refund_id),
            line_no INTEGER NOT NULL,
            sku TEXT NOT NULL,
            name TEXT NOT NULL,
            quantity INTEGER,
            weight_g INTEGER,
            net_minor INTEGER NOT NULL CHECK (net_minor >= 0),
            tax_rate_bp INTEGER NOT NULL,
            tax_minor INTEGER NOT NULL CHECK (tax_minor >= 0),
            PRIMARY KEY (refund_id, line_no)
        )""",
        """CREATE TABLE refund_payments (
            refund_id TEXT NOT NULL REFERENCES refunds (refund_id),
            method TEXT NOT NULL,
            refunded_as TEXT NOT NULL,
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
            PRIMARY KEY (refund_id, method)
        )""",
        """CREATE TRIGGER refund_lines_no_update BEFORE UPDATE ON refund_lines
           BEGIN SELECT RAISE(ABORT, 'refund lines are append-only'); END""",
        """CREATE TRIGGER refund_payments_no_update BEFORE UPDATE ON refund_payments
           BEGIN SELECT RAISE(ABORT, 'refund payments are append-only'); END""",
    ),
)
