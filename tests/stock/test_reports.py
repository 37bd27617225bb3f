"""Sales reports over the ledger's sales tables."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from edge.catalogue.store import CatalogueStore
from edge.db import connect
from edge.ledger.migrations import migrate
from edge.reports.sales import (
    ReportRow,
    sales_by_category,
    sales_by_day,
    sales_by_hour,
    sales_by_month,
    sales_by_payment,
    top_sellers,
)


def _sale(db, n: int, day: str, hour: int, lines: list[tuple[str, int]], payments: list[tuple[str, int]]) -> None:
    body = {"finished_at": f"{day}T{hour:02d}:15:00+08:00", "payments": [{"method": m, "amount_minor": a} for m, a in payments]}
    total = sum(a for _, a in lines)
    cur = db.execute(
        "INSERT INTO sales (kiosk_id, sale_id, seq, body_hash, body, business_date, total_minor, currency, received_at)"
        " VALUES ('k1', ?, ?, 'h', ?, ?, ?, 'CNY', ?)",
        (f"s{n}", n, json.dumps(body), day, total, day),
    )
    db.executemany(
        "INSERT INTO sale_lines VALUES (?, ?, ?, NULL, ?, 1, NULL, ?, ?, 0, ?, 1300, 0)",
        [(cur.lastrowid, i, sku, sku, a, a, a) for i, (sku, a) in enumerate(lines, 1)],
    )


def test_reports_group_sales_by_day_month_hour_payment_category_and_sku(db_path: Path, catalogue: CatalogueStore) -> None:
    db = connect(db_path)
    migrate(db)
    _sale(db, 1, "2026-01-05", 9, [("MILK", 1250), ("BREAD", 800)], [("cash", 2050)])
    _sale(db, 2, "2026-01-05", 18, [("MILK", 1250)], [("card", 1000), ("points", 250)])
    _sale(db, 3, "2026-01-06", 9, [("GHOST", 100)], [("mobile", 100)])
    _sale(db, 4, "2026-02-01", 9, [("MILK", 1250)], [("cash", 1250)])
    jan5, jan31 = date(2026, 1, 5), date(2026, 1, 31)
    assert sales_by_day(db, jan5, jan31) == [ReportRow("2026-01-05", 2, 3300), ReportRow("2026-01-06", 1, 100)]
    assert sales_by_month(db, jan5, date(2026, 2, 28)) == [ReportRow("2026-01", 3, 3400), ReportRow("2026-02", 1, 1250)]
    assert sales_by_hour(db, jan5, jan31) == [ReportRow("09", 2, 2150), ReportRow("18", 1, 1250)]
    assert sales_by_payment(db, jan5, jan31) == [
        ReportRow("card", 1, 1000), ReportRow("cash", 1, 2050), ReportRow("mobile", 1, 100), ReportRow("points", 1, 250),
    ]
    assert sales_by_category(db, jan5, jan31) == [ReportRow("dairy", 3, 3300), ReportRow("unknown", 1, 100)]
    assert top_sellers(db, jan5, jan31, limit=2) == [ReportRow("MILK", 2, 2500), ReportRow("BREAD", 1, 800)]
    db.close()


def test_rollup_reports_include_a_late_sale_for_an_earlier_day(db_path: Path, catalogue: CatalogueStore) -> None:
    db = connect(db_path)
    migrate(db)
    _sale(db, 1, "2026-01-05", 9, [("MILK", 1250)], [("cash", 1250)])
    jan = (date(2026, 1, 1), date(2026, 1, 31))
    assert top_sellers(db, *jan) == [ReportRow("MILK", 1, 1250)]
    _sale(db, 2, "2026-01-03", 9, [("MILK", 1250), ("BREAD", 800)], [("cash", 2050)])  # offline kiosk, delivered late
    assert top_sellers(db, *jan) == [ReportRow("MILK", 2, 2500), ReportRow("BREAD", 1, 800)]
    assert sales_by_month(db, *jan) == [ReportRow("2026-01", 2, 3300)]
    assert sales_by_category(db, *jan) == [ReportRow("dairy", 3, 3300)]
    db.close()
