"""Sales reports over the ledger's ``sales`` and ``sale_lines`` tables.

Every report covers business dates ``start``..``end`` inclusive. Amounts are integer minor
units. Hours are the hour of ``finished_at`` as the kiosk recorded it (its local time).
Categories are the catalogue's *current* categories (``products`` table in the same
database; ``"unknown"`` otherwise).

Long ranges read daily roll-ups (component ``reports`` in ``schema_versions``): per day, and
per day and SKU. :func:`refresh_rollups` folds in the sales inserted since its last run (by
``sales.id``; the ledger only ever inserts sales, a late sale for an old day included), so
the roll-up reports call it first and always include every stored sale.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from edge.schema import migrate_component

__all__ = [
    "ReportRow",
    "refresh_rollups",
    "sales_by_category",
    "sales_by_day",
    "sales_by_hour",
    "sales_by_month",
    "sales_by_payment",
    "top_sellers",
]


@dataclass(frozen=True, slots=True)
class ReportRow:
    key: str
    count: int
    total_minor: int

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "count": self.count, "total_minor": self.total_minor}


ROLLUP_STEPS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE report_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO report_meta (key, value) VALUES ('sales_high_water', 0)",
        """CREATE TABLE report_daily (
            business_date TEXT PRIMARY KEY, sales INTEGER NOT NULL, total_minor INTEGER NOT NULL
        )""",
        """CREATE TABLE report_daily_sku (
            business_date TEXT NOT NULL, sku TEXT NOT NULL, lines INTEGER NOT NULL, net_minor INTEGER NOT NULL,
            PRIMARY KEY (business_date, sku)
        )""",
    ),
)


def refresh_rollups(db: sqlite3.Connection) -> int:
    """Fold the sales inserted since the last refresh into the daily roll-ups (one write
    transaction); returns how many sales were added. ``db`` is in autocommit mode."""
    migrate_component(db, "reports", ROLLUP_STEPS)
    high = int(db.execute("SELECT value FROM report_meta WHERE key = 'sales_high_water'").fetchone()[0])
    top = db.execute("SELECT MAX(id) FROM sales").fetchone()[0]
    if top is None or int(top) <= high:
        return 0
    db.execute("BEGIN IMMEDIATE")
    try:
        high = int(db.execute("SELECT value FROM report_meta WHERE key = 'sales_high_water'").fetchone()[0])
        top = int(db.execute("SELECT MAX(id) FROM sales").fetchone()[0])
        added = int(db.execute("SELECT COUNT(*) FROM sales WHERE id > ? AND id <= ?", (high, top)).fetchone()[0])
        db.execute(
            "INSERT INTO report_daily (business_date, sales, total_minor)"
            " SELECT business_date, COUNT(*), SUM(total_minor) FROM sales WHERE id > ? AND id <= ? GROUP BY business_date"
            " ON CONFLICT (business_date) DO UPDATE SET sales = sales + excluded.sales, total_minor = total_minor + excluded.total_minor",
            (high, top),
        )
        db.execute(
            "INSERT INTO report_daily_sku (business_date, sku, lines, net_minor)"
            " SELECT s.business_date, l.sku, COUNT(*), SUM(l.net_minor) FROM sales s JOIN sale_lines l ON l.sale_row = s.id"
            " WHERE s.id > ? AND s.id <= ? GROUP BY s.business_date, l.sku"
            " ON CONFLICT (business_date, sku) DO UPDATE SET lines = lines + excluded.lines, net_minor = net_minor + excluded.net_minor",
            (high, top),
        )
        db.execute("UPDATE report_meta SET value = ? WHERE key = 'sales_high_water'", (top,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return added


def _rows(db: sqlite3.Connection, sql: str, start: date, end: date, *extra: object) -> list[ReportRow]:
    return [
        ReportRow(str(r[0]), int(r[1]), int(r[2] or 0))
        for r in db.execute(sql, (start.isoformat(), end.isoformat(), *extra)).fetchall()
    ]


def sales_by_day(db: sqlite3.Connection, start: date, end: date) -> list[ReportRow]:
    """Per business date: number of sales and their total."""
    return _rows(
        db,
        "SELECT business_date, COUNT(*), SUM(total_minor) FROM sales WHERE business_date BETWEEN ? AND ?"
        " GROUP BY business_date ORDER BY business_date",
        start, end,
    )


def sales_by_month(db: sqlite3.Connection, start: date, end: date) -> list[ReportRow]:
    """Per month (``YYYY-MM``): number of sales and their total (from the daily roll-up)."""
    refresh_rollups(db)
    return _rows(
        db,
        "SELECT substr(business_date, 1, 7) AS m, SUM(sales), SUM(total_minor) FROM report_daily"
        " WHERE business_date BETWEEN ? AND ? GROUP BY m ORDER BY m",
        start, end,
    )


def sales_by_hour(db: sqlite3.Connection, start: date, end: date) -> list[ReportRow]:
    """Per hour of day (``00``..``23``), summed over the dates."""
    return _rows(
        db,
        "SELECT substr(json_extract(body, '$.finished_at'), 12, 2) AS h, COUNT(*), SUM(total_minor) FROM sales"
        " WHERE business_date BETWEEN ? AND ? GROUP BY h ORDER BY h",
        start, end,
    )


def sales_by_payment(db: sqlite3.Connection, start: date, end: date) -> list[ReportRow]:
    """Per payment method: number of payments and the amount paid."""
    return _rows(
        db,
        "SELECT json_extract(p.value, '$.method') AS method, COUNT(*), SUM(json_extract(p.value, '$.amount_minor'))"
        " FROM sales s, json_each(s.body, '$.payments') p WHERE s.business_date BETWEEN ? AND ?"
        " GROUP BY method ORDER BY method",
        start, end,
    )


def _has_products(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'products'").fetchone() is not None


def sales_by_category(db: sqlite3.Connection, start: date, end: date) -> list[ReportRow]:
    """Per catalogue category: number of lines and their net amount (from the roll-up)."""
    refresh_rollups(db)
    per_sku = (
        "SELECT sku, SUM(lines) AS n, SUM(net_minor) AS net FROM report_daily_sku"
        " WHERE business_date BETWEEN ? AND ? GROUP BY sku"
    )
    if not _has_products(db):
        return _rows(db, f"SELECT 'unknown', COALESCE(SUM(n), 0), SUM(net) FROM ({per_sku})", start, end)
    return _rows(
        db,
        f"SELECT COALESCE(p.category, 'unknown') AS c, SUM(x.n), SUM(x.net) FROM ({per_sku}) x"
        " LEFT JOIN products p ON p.sku = x.sku GROUP BY c ORDER BY SUM(x.net) DESC, c",
        start, end,
    )


def top_sellers(db: sqlite3.Connection, start: date, end: date, limit: int = 10) -> list[ReportRow]:
    """The SKUs with the highest net sales: (sku, lines, net amount), from the roll-up."""
    refresh_rollups(db)
    return _rows(
        db,
        "SELECT sku, SUM(lines), SUM(net_minor) AS net FROM report_daily_sku"
        " WHERE business_date BETWEEN ? AND ? GROUP BY sku ORDER BY net DESC, sku LIMIT ?",
        start, end, int(limit),
    )
