"""Profit for a period, by day, ISO week, month or year (read-only SQL over the edge database).

* **revenue** = sales (what shoppers paid, tax included) − refunds (on the refund's business
  date); ``tax`` likewise; ``revenue_ex_tax`` = revenue − tax.
* **cost of goods sold** from the catalogue's cost prices: per piece, or per kilogram for a
  weighed line (rounded half up per line); goods refunded come back to stock, so their cost
  leaves COGS. The bus sale carries no cost price, so the **current** catalogue cost is used
  (``cost_basis = "current_catalogue"``) and SKUs without a cost price are listed in
  ``skus_without_cost`` (their cost counts as zero).
* **gross margin** = revenue_ex_tax − COGS; **profit** = gross margin − expenses (not voided).

Amounts are integer minor units.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

__all__ = ["COST_BASIS", "Period", "ProfitReport", "ProfitRow", "period_key", "profit_report"]

Period = Literal["day", "week", "month", "year"]
COST_BASIS = "current_catalogue"


def period_key(day: date, by: str) -> str:
    """``2026-03-02`` (day), ``2026-W10`` (ISO week), ``2026-03`` (month), ``2026`` (year)."""
    if by == "day":
        return day.isoformat()
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if by == "year":
        return f"{day.year:04d}"
    raise ValueError(f"group by day, week, month or year, not {by!r}")


@dataclass
class ProfitRow:
    key: str
    sales_minor: int = 0
    refunds_minor: int = 0
    tax_minor: int = 0
    cogs_minor: int = 0
    expenses_minor: int = 0

    @property
    def revenue_minor(self) -> int:
        return self.sales_minor - self.refunds_minor

    @property
    def revenue_ex_tax_minor(self) -> int:
        return self.revenue_minor - self.tax_minor

    @property
    def gross_margin_minor(self) -> int:
        return self.revenue_ex_tax_minor - self.cogs_minor

    @property
    def profit_minor(self) -> int:
        return self.gross_margin_minor - self.expenses_minor

    def to_dict(self) -> dict[str, Any]:
        margin = self.gross_margin_minor
        return {
            "key": self.key, "sales_minor": self.sales_minor, "refunds_minor": self.refunds_minor,
            "revenue_minor": self.revenue_minor, "tax_minor": self.tax_minor,
            "revenue_ex_tax_minor": self.revenue_ex_tax_minor, "cogs_minor": self.cogs_minor,
            "gross_margin_minor": margin,
            "gross_margin_pct": (round(100 * margin / self.revenue_ex_tax_minor, 2)
                                 if self.revenue_ex_tax_minor else None),
            "expenses_minor": self.expenses_minor, "profit_minor": self.profit_minor,
        }


@dataclass
class ProfitReport:
    start: date
    end: date
    by: str
    rows: list[ProfitRow]
    total: ProfitRow
    skus_without_cost: list[str] = field(default_factory=list)
    cost_basis: str = COST_BASIS

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(), "end": self.end.isoformat(), "by": self.by,
            "rows": [r.to_dict() for r in self.rows], "total": self.total.to_dict(),
            "cost_basis": self.cost_basis, "skus_without_cost": self.skus_without_cost,
            "note": "cost of goods uses today's catalogue cost prices; the sale records carry none",
        }


def _has(db: sqlite3.Connection, table: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None


_COST = ("CASE WHEN p.cost_minor IS NULL THEN 0 WHEN l.weight_g IS NULL THEN COALESCE(l.quantity, 0) * p.cost_minor"
         " ELSE (l.weight_g * p.cost_minor * 2 + 1000) / 2000 END")


def _per_day(db: sqlite3.Connection, sql: str, start: date, end: date) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in db.execute(sql, (start.isoformat(), end.isoformat())).fetchall()]


def profit_report(db: sqlite3.Connection, start: date, end: date, by: Period = "day") -> ProfitReport:
    """Profit from ``start`` to ``end`` (inclusive) grouped ``by`` day, week, month or year."""
    period_key(start, by)  # validates ``by``
    products = _has(db, "products")
    join = " LEFT JOIN products p ON p.sku = l.sku" if products else ""
    cost = _COST if products else "0"
    rows: dict[str, ProfitRow] = {}

    def row(day: str) -> ProfitRow:
        key = period_key(date.fromisoformat(day), by)
        return rows.setdefault(key, ProfitRow(key))

    for day, net, tax, cogs in _per_day(db, (
            f"SELECT s.business_date, SUM(l.net_minor), SUM(l.tax_minor), SUM({cost}) FROM sales s"
            f" JOIN sale_lines l ON l.sale_row = s.id{join} WHERE s.business_date BETWEEN ? AND ?"
            " GROUP BY s.business_date"), start, end):
        r = row(day)
        r.sales_minor += int(net or 0)
        r.tax_minor += int(tax or 0)
        r.cogs_minor += int(cogs or 0)
    if _has(db, "refunds"):
        for day, net, tax, cogs in _per_day(db, (
                f"SELECT r.business_date, SUM(l.net_minor), SUM(l.tax_minor), SUM({cost}) FROM refunds r"
                f" JOIN refund_lines l ON l.refund_id = r.refund_id{join} WHERE r.business_date BETWEEN ? AND ?"
                " GROUP BY r.business_date"), start, end):
            r = row(day)
            r.refunds_minor += int(net or 0)
            r.tax_minor -= int(tax or 0)
            r.cogs_minor -= int(cogs or 0)
    if _has(db, "expenses"):
        for day, amount in _per_day(db, (
                "SELECT spent_on, SUM(amount_minor) FROM expenses WHERE voided_at IS NULL AND spent_on BETWEEN ? AND ?"
                " GROUP BY spent_on"), start, end):
            row(day).expenses_minor += int(amount or 0)
    missing: list[str] = []
    if products:
        missing = [str(r[0]) for r in db.execute(
            "SELECT DISTINCT l.sku FROM sales s JOIN sale_lines l ON l.sale_row = s.id LEFT JOIN products p"
            " ON p.sku = l.sku WHERE s.business_date BETWEEN ? AND ? AND p.cost_minor IS NULL ORDER BY l.sku",
            (start.isoformat(), end.isoformat()))]
    else:
        missing = [str(r[0]) for r in db.execute(
            "SELECT DISTINCT l.sku FROM sales s JOIN sale_lines l ON l.sale_row = s.id"
            " WHERE s.business_date BETWEEN ? AND ? ORDER BY l.sku", (start.isoformat(), end.isoformat()))]
    ordered = [rows[k] for k in sorted(rows)]
    total = ProfitRow("total")
    for r in ordered:
        total.sales_minor += r.sales_minor
        total.refunds_minor += r.refunds_minor
        total.tax_minor += r.tax_minor
        total.cogs_minor += r.cogs_minor
        total.expenses_minor += r.expenses_minor
    return ProfitReport(start, end, by, ordered, total, missing)
