"""Schema steps of the edge catalogue (component ``catalogue`` in ``schema_versions``).

Never edit a shipped step; add a new one.
"""

from __future__ import annotations

__all__ = ["STEPS"]

STEPS: tuple[tuple[str, ...], ...] = (
    # 1: categories, tax classes, products, GTINs, version and change log
    (
        """CREATE TABLE catalogue_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        "INSERT INTO catalogue_meta (key, value) VALUES ('version', '0')",
        """CREATE TABLE categories (
            code TEXT PRIMARY KEY,
            name_en TEXT NOT NULL,
            name_zh TEXT NOT NULL,
            parent TEXT,
            sort INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE tax_classes (code TEXT PRIMARY KEY, rate_bp INTEGER NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000))""",
        "INSERT INTO tax_classes (code, rate_bp) VALUES ('standard', 1300), ('reduced', 900), ('zero', 0)",
        """CREATE TABLE products (
            sku TEXT PRIMARY KEY,
            name_en TEXT NOT NULL,
            name_zh TEXT NOT NULL,
            category TEXT NOT NULL REFERENCES categories (code),
            price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
            cost_minor INTEGER CHECK (cost_minor IS NULL OR cost_minor >= 0),
            currency TEXT NOT NULL,
            tax_code TEXT NOT NULL REFERENCES tax_classes (code),
            sold_by TEXT NOT NULL CHECK (sold_by IN ('unit', 'weight')),
            min_age INTEGER NOT NULL DEFAULT 0,
            unit_weight_g INTEGER,
            weight_tolerance_g INTEGER NOT NULL DEFAULT 20,
            plu TEXT UNIQUE,
            picture TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            version INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX products_category ON products (category)",
        """CREATE TABLE product_gtins (
            gtin TEXT PRIMARY KEY,
            sku TEXT NOT NULL REFERENCES products (sku)
        )""",
        "CREATE INDEX product_gtins_sku ON product_gtins (sku)",
        """CREATE TABLE catalogue_changes (
            id INTEGER PRIMARY KEY,
            version INTEGER NOT NULL,
            entity TEXT NOT NULL CHECK (entity IN ('product', 'category')),
            key TEXT NOT NULL,
            what TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        "CREATE INDEX catalogue_changes_version ON catalogue_changes (version)",
    ),
)
