"""JSON and CSV API of the sales reports (permission ``reports.view``).

The app factory puts a :class:`~edge.reports.store.ReportStore` on ``app.state.reports`` and
includes :func:`routers`. Every route takes ``start`` and ``end`` (business dates, inclusive;
default: the last 30 days up to today) and ``format=json|csv``::

    GET /api/reports/sales?by=hour|day|week|month|year|category|product|payment|kiosk
    GET /api/reports/summary          sales, units, revenue, average basket, gross margin
    GET /api/reports/top?limit=10     best sellers by revenue
    GET /api/reports/slow?limit=10    slow sellers (active products that sold least)
    GET /api/reports/profit?by=day|week|month|year

Amounts are integer minor units; a CSV has one header row and is UTF-8 with a BOM (so a
spreadsheet shows Chinese names correctly).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Annotated, Any, Callable, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import Response

from edge.reports import breakdown
from edge.reports.profit import profit_report
from edge.reports.sales import (
    ReportRow,
    sales_by_category,
    sales_by_hour,
    sales_by_month,
    sales_by_payment,
    top_sellers,
)
from edge.reports.store import ReportStore
from edge.staff.api import require_permission
from edge.staff.store import Principal

__all__ = ["PERMISSION", "get_reports", "routers", "to_csv"]

PERMISSION = "reports.view"
MAX_DAYS = 3700


def get_reports(request: Request) -> ReportStore:
    store = getattr(request.app.state, "reports", None)
    if store is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "reports are not available")
    return store


ReportsDep = Annotated[ReportStore, Depends(get_reports)]
Viewer = Annotated[Principal, Depends(require_permission(PERMISSION))]
Format = Literal["json", "csv"]
Start = Annotated[date | None, Query()]


def to_csv(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """Rows (dicts) as CSV text with a header row."""
    cols = columns or (list(rows[0]) if rows else ["key"])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in cols})
    return out.getvalue()


def _answer(rows: list[dict[str, Any]], fmt: str, name: str, columns: list[str] | None = None) -> Any:
    if fmt == "csv":
        return Response(
            content="\ufeff" + to_csv(rows, columns), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return rows


def _range(store: ReportStore, start: date | None, end: date | None) -> tuple[date, date]:
    end = end or store.today()
    start = start or end - timedelta(days=29)
    if start > end or (end - start).days > MAX_DAYS:
        raise HTTPException(422, {"error": "invalid", "detail": "start must not be after end (and at most ~10 years)"})
    return start, end


def _plain(rows: list[ReportRow]) -> list[dict[str, Any]]:
    return [dict(r.to_dict(), average_basket_minor=(r.total_minor * 2 + r.count) // (2 * r.count) if r.count else 0)
            for r in rows]


SalesBy = Literal["hour", "day", "week", "month", "year", "category", "product", "payment", "kiosk"]
_COLUMNS = {
    "payment": ["key", "count", "total_minor"],
    "category": ["key", "count", "total_minor"],
}


def routers() -> list[APIRouter]:
    """The reports router: ``/api/reports``."""
    router = APIRouter(prefix="/api/reports", tags=["reports"])

    @router.get("/sales", response_model=None)
    def sales(_: Viewer, store: ReportsDep, by: SalesBy = "day", start: Start = None, end: Start = None,
              format: Format = "json") -> Any:
        first, last = _range(store, start, end)
        plain: dict[str, Callable[..., list[ReportRow]]] = {
            "hour": sales_by_hour, "month": sales_by_month, "category": sales_by_category, "payment": sales_by_payment,
        }
        with store.connection() as db:
            if by in plain:
                rows = _plain(plain[by](db, first, last))
                if by in _COLUMNS:
                    rows = [{k: r[k] for k in _COLUMNS[by]} for r in rows]
            elif by in ("day", "week", "year"):
                rows = breakdown.by_period(db, first, last, by)
            elif by == "product":
                rows = breakdown.by_product(db, first, last)
            else:
                rows = breakdown.by_kiosk(db, first, last)
        return _answer(rows, format, f"sales-by-{by}-{first}-{last}")

    @router.get("/summary", response_model=None)
    def summary(_: Viewer, store: ReportsDep, start: Start = None, end: Start = None, format: Format = "json") -> Any:
        first, last = _range(store, start, end)
        with store.connection() as db:
            result = breakdown.summary(db, first, last)
        if format == "csv":
            row = dict(result, skus_without_cost=" ".join(result["skus_without_cost"]))
            return _answer([row], format, f"summary-{first}-{last}")
        return result

    @router.get("/top", response_model=None)
    def top(_: Viewer, store: ReportsDep, start: Start = None, end: Start = None,
            limit: Annotated[int, Query(ge=1, le=500)] = 10, format: Format = "json") -> Any:
        first, last = _range(store, start, end)
        with store.connection() as db:
            rows = [{"key": r.key, "lines": r.count, "revenue_minor": r.total_minor}
                    for r in top_sellers(db, first, last, limit)]
        return _answer(rows, format, f"top-sellers-{first}-{last}")

    @router.get("/slow", response_model=None)
    def slow(_: Viewer, store: ReportsDep, start: Start = None, end: Start = None,
             limit: Annotated[int, Query(ge=1, le=500)] = 10, format: Format = "json") -> Any:
        first, last = _range(store, start, end)
        with store.connection() as db:
            rows = breakdown.slow_sellers(db, first, last, limit)
        return _answer(rows, format, f"slow-sellers-{first}-{last}")

    @router.get("/profit", response_model=None)
    def profit(_: Viewer, store: ReportsDep, by: Literal["day", "week", "month", "year"] = "month",
               start: Start = None, end: Start = None, format: Format = "json") -> Any:
        first, last = _range(store, start, end)
        with store.connection() as db:
            report = profit_report(db, first, last, by)
        if format == "csv":
            rows = [r.to_dict() for r in report.rows] + [report.total.to_dict()]
            return _answer(rows, format, f"profit-by-{by}-{first}-{last}")
        return report.to_dict()

    return [router]
