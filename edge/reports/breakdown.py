"""More sales breakdowns beside :mod:`edge.reports.sales`: by week and year, by product (units,
revenue, cost, margin), by kiosk (average basket), a summary, and slow sellers.

Read-only SQL over the ledger (``sales``, ``sale_lines``) and the catalogue (``products``,
optional). Amounts are integer minor units; costs are the catalogue's *current* cost prices
(see :mod:`edge.reports.profit`).
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from edge.reports.profit import period_key
from edge.reports.sales import sales_by_day

__all__ = ["by_kiosk", "by_period", "by_product", "slow_sellers", "summary"]

_COST = ("CASE WHEN p.cost_minor IS NULL THEN NULL WHEN l.weight_g IS NULL THEN COALESCE(l.quantity, 0) * p.cost_minor"
         " ELSE (l.weight_g * p.cost_minor * 2 + 1000) / 2000 END")


def _has_products(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'products'").fetchone() is not None


def _avg(total: int, count: int) -> int:
    return (total * 2 + count) // (2 * count) if count else 0


def by_period(db: sqlite3.Connection, start: date, end: date, by: str) -> list[dict[str, Any]]:
    """Sales count, total and average basket per day, ISO week, month or year."""
    buckets: dict[str, list[int]] = {}
    for row in sales_by_day(db, start, end):
        key = period_key(date.fromisoformat(row.key), by)
        slot = buckets.setdefault(key, [0, 0])
        slot[0] += row.count
        slot[1] += row.total_minor
    return [{"key": k, "count": c, "total_minor": t, "average_basket_minor": _avg(t, c)}
            for k, (c, t) in sorted(buckets.items())]


def by_product(db: sqlite3.Connection, start: date, end: date) -> list[dict[str, Any]]:
    """Per SKU: lines, pieces, grams, revenue (net), cost and gross margin (ex tax), best first."""
    products = _has_products(db)
    join = " LEFT JOIN products p ON p.sku = l.sku" if products else ""
    name = "COALESCE(MAX(p.name_en), MAX(l.name)), COALESCE(MAX(p.name_zh), MAX(l.name))" if products else "MAX(l.name), MAX(l.name)"
    cost = f"SUM({_COST}), SUM(CASE WHEN p.cost_minor IS NULL THEN 1 ELSE 0 END)" if products else "NULL, COUNT(*)"
    rows = db.execute(
        f"SELECT l.sku, {name}, COUNT(*), SUM(COALESCE(l.quantity, 0)), SUM(COALESCE(l.weight_g, 0)),"
        f" SUM(l.net_minor), SUM(l.tax_minor), {cost} FROM sales s JOIN sale_lines l ON l.sale_row = s.id{join}"
        " WHERE s.business_date BETWEEN ? AND ? GROUP BY l.sku ORDER BY SUM(l.net_minor) DESC, l.sku",
        (start.isoformat(), end.isoformat()),
    ).fetchall()
    out = []
    for sku, en, zh, lines, units, grams, net, tax, cost_sum, uncosted in rows:
        has_cost = cost_sum is not None and not uncosted
        margin = int(net) - int(tax) - int(cost_sum) if has_cost else None
        out.append({"key": sku, "name_en": en, "name_zh": zh, "lines": int(lines), "units": int(units),
                    "grams": int(grams), "revenue_minor": int(net), "cost_minor": int(cost_sum) if has_cost else None,
                    "gross_margin_minor": margin})
    return out


def by_kiosk(db: sqlite3.Connection, start: date, end: date) -> list[dict[str, Any]]:
    """Per kiosk: sales, total and average basket."""
    rows = db.execute(
        "SELECT kiosk_id, COUNT(*), SUM(total_minor) FROM sales WHERE business_date BETWEEN ? AND ?"
        " GROUP BY kiosk_id ORDER BY kiosk_id", (start.isoformat(), end.isoformat())).fetchall()
    return [{"key": k, "count": int(c), "total_minor": int(t), "average_basket_minor": _avg(int(t), int(c))}
            for k, c, t in rows]


def summary(db: sqlite3.Connection, start: date, end: date) -> dict[str, Any]:
    """Sales, pieces, revenue, average basket, cost and gross margin (ex tax) of the period."""
    count, revenue = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(total_minor), 0) FROM sales WHERE business_date BETWEEN ? AND ?",
        (start.isoformat(), end.isoformat())).fetchone()
    products = by_product(db, start, end)
    units = sum(p["units"] for p in products)
    tax = sum(int(r[0] or 0) for r in db.execute(
        "SELECT SUM(l.tax_minor) FROM sales s JOIN sale_lines l ON l.sale_row = s.id WHERE s.business_date BETWEEN ? AND ?",
        (start.isoformat(), end.isoformat())))
    costed = [p for p in products if p["cost_minor"] is not None]
    cost = sum(p["cost_minor"] for p in costed)
    margin = sum(p["gross_margin_minor"] for p in costed)
    return {
        "start": start.isoformat(), "end": end.isoformat(), "sales": int(count), "units": units,
        "revenue_minor": int(revenue), "tax_minor": tax, "average_basket_minor": _avg(int(revenue), int(count)),
        "cost_minor": cost, "gross_margin_minor": margin,
        "skus_without_cost": [p["key"] for p in products if p["cost_minor"] is None],
    }


def slow_sellers(db: sqlite3.Connection, start: date, end: date, limit: int = 10) -> list[dict[str, Any]]:
    """The active catalogue products that sold least (pieces, or lines for weighed ones),
    products that did not sell at all first."""
    if not _has_products(db):
        return []
    rows = db.execute(
        "WITH sold AS (SELECT l.sku, COUNT(*) AS lines, SUM(COALESCE(l.quantity, 0)) AS units, SUM(l.net_minor) AS net"
        " FROM sales s JOIN sale_lines l ON l.sale_row = s.id WHERE s.business_date BETWEEN ? AND ? GROUP BY l.sku)"
        " SELECT p.sku, p.name_en, p.name_zh, COALESCE(sold.lines, 0), COALESCE(sold.units, 0), COALESCE(sold.net, 0)"
        " FROM products p LEFT JOIN sold ON sold.sku = p.sku WHERE p.active = 1"
        " ORDER BY (CASE WHEN p.sold_by = 'weight' THEN COALESCE(sold.lines, 0) ELSE COALESCE(sold.units, 0) END),"
        " COALESCE(sold.net, 0), p.sku LIMIT ?",
        (start.isoformat(), end.isoformat(), int(limit))).fetchall()
    return [{"key": r[0], "name_en": r[1], "name_zh": r[2], "lines": int(r[3]), "units": int(r[4]),
             "revenue_minor": int(r[5])} for r in rows]
