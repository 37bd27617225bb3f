"""The reports and expenses JSON/CSV API over sales written by the real ingest."""

from __future__ import annotations

import csv
import io
from typing import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from edge.expenses import ExpenseStore
from edge.expenses.api import routers as expense_routers
from edge.refunds import RefundService
from edge.reports.api import routers as report_routers
from edge.reports.store import ReportStore
from edge.staff.api import routers as staff_routers
from tests.expenses.test_expenses_profit import two_days
from tests.refunds.shop import PASSWORDS, Shop, line

RANGE = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def client(shop: Shop, reports: ReportStore, expenses: ExpenseStore) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.staff_store = shop.staff
    app.state.reports = reports
    app.state.expenses = expenses
    for router in [*staff_routers(), *report_routers(), *expense_routers()]:
        app.include_router(router)
    with TestClient(app) as c:
        yield c


def auth(client: TestClient, username: str) -> dict[str, str]:
    token = client.post("/api/auth/login", json={"username": username, "password": PASSWORDS[username]}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_reports_need_reports_view(client: TestClient) -> None:
    assert client.get("/api/reports/sales", params=RANGE, headers=auth(client, "ann")).status_code == 403
    assert client.get("/api/reports/sales", params=RANGE, headers=auth(client, "sam")).status_code == 200


def test_sales_by_product_as_csv_has_units_revenue_and_margin(client: TestClient, shop: Shop) -> None:
    shop.sell(lines=[line("tea-500", 3), line("apple", 500)])
    shop.sell(lines=[line("tea-500", 1)])
    got = client.get("/api/reports/sales", params={**RANGE, "by": "product", "format": "csv"}, headers=auth(client, "sam"))
    assert got.headers["content-type"].startswith("text/csv") and "attachment" in got.headers["content-disposition"]
    table = rows(got.text)
    tea = next(r for r in table if r["key"] == "tea-500")
    # 4 teas: revenue 1400, tax 4 x ... per line: 1050 -> 120, 350 -> 40; cost 4 x 200
    assert (tea["units"], tea["revenue_minor"], tea["cost_minor"], tea["gross_margin_minor"]) == ("4", "1400", "800", "440")
    assert [r["key"] for r in table] == ["tea-500", "apple"]


@pytest.mark.parametrize("by, keys", [("hour", ["09"]), ("day", ["2026-03-02"]), ("week", ["2026-W10"]),
                                      ("month", ["2026-03"]), ("year", ["2026"]), ("kiosk", ["kiosk-01", "kiosk-02"]),
                                      ("payment", ["card", "cash"]), ("category", ["grocery", "drinks"])])
def test_every_breakdown_is_served_as_json_and_csv(client: TestClient, shop: Shop, by: str, keys: list[str]) -> None:
    shop.sell(lines=[line("rice-5kg", 1)])
    shop.sell("kiosk-02", lines=[line("water", 2)], payments=[("cash", 1000)], change=600)
    sam = auth(client, "sam")
    as_json = client.get("/api/reports/sales", params={**RANGE, "by": by}, headers=sam).json()
    as_csv = rows(client.get("/api/reports/sales", params={**RANGE, "by": by, "format": "csv"}, headers=sam).text)
    assert [r["key"] for r in as_json] == keys == [r["key"] for r in as_csv]


def test_summary_top_slow_and_profit(client: TestClient, shop: Shop, refunds: RefundService, expenses: ExpenseStore) -> None:
    two_days(shop, refunds, expenses)
    sam = auth(client, "sam")
    summary = client.get("/api/reports/summary", params=RANGE, headers=sam).json()
    assert (summary["sales"], summary["units"], summary["revenue_minor"]) == (3, 4, 6330 + 1190)
    assert summary["average_basket_minor"] == 2507  # 7520 / 3 rounded half up
    assert summary["gross_margin_minor"] == (6330 + 1190) - (544 + 98) - (4300 + 700)
    top = client.get("/api/reports/top", params={**RANGE, "limit": 2}, headers=sam).json()
    assert [t["key"] for t in top] == ["rice-5kg", "milk-1l"]
    slow = client.get("/api/reports/slow", params={**RANGE, "limit": 3}, headers=sam).json()
    assert [s["key"] for s in slow] == ["banana", "noodles", "water"]
    profit = rows(client.get("/api/reports/profit", params={**RANGE, "by": "day", "format": "csv"}, headers=sam).text)
    assert [(r["key"], r["profit_minor"]) for r in profit] == [("2026-03-02", "-1624"), ("2026-03-03", "-1608"),
                                                               ("total", "-3232")]


def test_expenses_over_http(client: TestClient) -> None:
    mia = auth(client, "mia")
    body = {"date": "2026-03-02", "category": "rent", "amount": "8000.00", "note": "March"}
    assert client.post("/api/expenses", json=body, headers=auth(client, "sam")).status_code == 403
    made = client.post("/api/expenses", json=body, headers=mia)
    assert made.status_code == 201 and made.json()["amount"]["minor"] == 800_000 and made.json()["category_zh"] == "租金"
    assert client.post("/api/expenses", json={**body, "amount": "1.001"}, headers=mia).status_code == 422
    listed = client.get("/api/expenses", params=RANGE, headers=auth(client, "sam")).json()
    assert listed["total"]["minor"] == 800_000 and len(listed["expenses"]) == 1
    client.post(f"/api/expenses/{made.json()['id']}/void", json={"reason": "typo"}, headers=mia)
    assert client.get("/api/expenses", params=RANGE, headers=mia).json()["total"]["minor"] == 0
