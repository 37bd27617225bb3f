"""Schema steps of the edge promotions component (``promotions`` in ``schema_versions``).

Never edit a shipped step; add a new one.
"""

from __future__ import annotations

__all__ = ["STEPS"]

STEPS: tuple[tuple[str, ...], ...] = (
    # 1: promotions (JSON of retail.promotions.promotion_to_dict), version, coupons, redemptions
    (
        "CREATE TABLE promotions_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO promotions_meta (key, value) VALUES ('version', 0)",
        """CREATE TABLE promotions (
            promotion_id TEXT PRIMARY KEY,
            body TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            version INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL
        )""",
        """CREATE TABLE promotion_changes (
            id INTEGER PRIMARY KEY,
            version INTEGER NOT NULL,
            entity TEXT NOT NULL CHECK (entity IN ('promotion', 'coupon')),
            key TEXT NOT NULL,
            what TEXT NOT NULL,
            actor TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        """CREATE TABLE coupons (
            code TEXT PRIMARY KEY,
            promotion_id TEXT NOT NULL REFERENCES promotions (promotion_id),
            max_redemptions INTEGER CHECK (max_redemptions IS NULL OR max_redemptions >= 1),
            valid_from TEXT,
            valid_until TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        )""",
        """CREATE TABLE coupon_redemptions (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL REFERENCES coupons (code),
            ref TEXT NOT NULL,
            at TEXT NOT NULL,
            UNIQUE (code, ref)
        )""",
    ),
)
