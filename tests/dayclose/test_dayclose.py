"""The Z report on a small fixed day, checked by hand; the close is recorded once, immutable,
queued for HQ; late sales become an addendum."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from typing import Any, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from edge.dayclose import DayCloseService, InvalidDayError, render_text
from edge.dayclose.api import routers as dayclose_routers
from edge.refunds import RefundService, ReturnLine
from edge.staff.api import routers as staff_routers
from tests.refunds.shop import PASSWORDS, Shop, line

DAY = date(2026, 3, 2)


def fixed_day(shop: Shop, refunds: RefundService) -> None:
    """kiosk-01 sells seq 1, 2, 4 (3 is late); kiosk-02 sells seq 1; one water is refunded in cash.

    tax included: floor(net * rate / (1 + rate)) per line
      k1 #1 tea x2 700 (tax 80) + water x3 600 (tax 69), cash 2000, change 700
      k1 #2 rice 4990 - 499 saving = 4491 (tax 370), card
      k1 #4 milk 1190 (tax 98), cash 1190
      k2 #1 apple 500 g = 640 (tax 52), mobile
      refund: one water of k1 #1 = 200 (tax 69 * 1 // 3 = 23), cash
    """
    first = shop.sell("kiosk-01", seq=1, lines=[line("tea-500", 2), line("water", 3)], payments=[("cash", 2000)],
                      change=700)
    shop.sell("kiosk-01", seq=2, lines=[line("rice-5kg", 1, saving=499)])
    shop.sell("kiosk-01", seq=4, lines=[line("milk-1l", 1)], payments=[("cash", 1190)])
    shop.sell("kiosk-02", seq=1, lines=[line("apple", 500)], payments=[("mobile", 640)])
    refunds.refund("R-1", first.sale_id, [ReturnLine(2, 1)], actor=shop.principal("sam"))


def test_the_z_report_of_a_fixed_day_matches_the_hand_checked_figures(shop: Shop, refunds: RefundService,
                                                                      day_close: DayCloseService) -> None:
    fixed_day(shop, refunds)
    report = day_close.report(DAY)
    k1, k2, whole = report["kiosks"]["kiosk-01"], report["kiosks"]["kiosk-02"], report["shop"]
    assert report["closed"] is False
    assert (k1["sales"], k1["gross_minor"], k1["savings_minor"], k1["net_minor"]) == (3, 7480, 499, 6981)
    assert k1["tax"] == [{"rate_bp": 900, "sales_minor": 5681, "tax_minor": 468},
                         {"rate_bp": 1300, "sales_minor": 1300, "tax_minor": 149}]
    assert k1["payments"] == {"card": 4491, "cash": 3190} and k1["change_minor"] == 700
    assert k1["refunds"] == {"count": 1, "total_minor": 200, "by_method": {"cash": 200},
                             "tax": [{"rate_bp": 1300, "refunds_minor": 200, "tax_minor": 23}]}
    assert k1["cash_expected_minor"] == 3190 - 700 - 200
    assert (k1["first_seq"], k1["last_seq"], k1["missing_seqs"], k1["open_gaps"]) == (1, 4, [[3, 3]], [[3, 3]])
    assert (k2["sales"], k2["net_minor"], k2["payments"], k2["cash_expected_minor"]) == (1, 640, {"mobile": 640}, 0)
    assert (whole["sales"], whole["gross_minor"], whole["savings_minor"], whole["net_minor"]) == (4, 8120, 499, 7621)
    assert whole["tax_minor"] == 80 + 69 + 370 + 98 + 52
    assert whole["payments"] == {"card": 4491, "cash": 3190, "mobile": 640}
    assert whole["net_after_refunds_minor"] == 7421 and whole["cash_expected_minor"] == 2290


def test_a_closed_day_is_immutable_and_late_sales_become_an_addendum(shop: Shop, refunds: RefundService,
                                                                     day_close: DayCloseService) -> None:
    fixed_day(shop, refunds)
    shop.clock.advance(hours=10)
    closed = day_close.close_day(DAY, actor="S0003")
    assert closed["closed"] is True and closed["closed_by"] == "S0003" and closed["shop"]["net_minor"] == 7621
    shop.sell("kiosk-01", seq=3, lines=[line("noodles", 2)], payments=[("cash", 900)])  # the offline kiosk catches up
    again = day_close.close_day(DAY, actor="S0001")
    assert again["shop"] == closed["shop"] and again["closed_by"] == "S0003" and again["closed_at"] == closed["closed_at"]
    late = again["late"]
    assert late["shop"]["sales"] == 1 and late["shop"]["net_minor"] == 900 and late["shop"]["cash_expected_minor"] == 900
    outbox = day_close._db().execute("SELECT ref, payload FROM hq_outbox WHERE kind = 'day_close'").fetchall()
    assert len(outbox) == 1 and outbox[0][0] == "day_close/s1/2026-03-02"
    assert json.loads(outbox[0][1])["shop"]["net_minor"] == 7621
    with pytest.raises(sqlite3.DatabaseError):
        day_close._db().execute("UPDATE day_closes SET report = '{}'")


def test_a_day_that_has_not_happened_cannot_be_closed(day_close: DayCloseService) -> None:
    with pytest.raises(InvalidDayError):
        day_close.close_day(DAY + timedelta(days=1), actor="S0001")


def test_the_text_report_is_bilingual(shop: Shop, refunds: RefundService, day_close: DayCloseService) -> None:
    fixed_day(shop, refunds)
    report = day_close.close_day(DAY, actor="S0003")
    zh, en = render_text(report, "zh"), render_text(report, "en")
    assert "日结报表" in zh and "钱箱应有现金: ¥22.90" in zh and "缺失流水号: 3" in zh
    assert "Cash expected in drawer: ¥22.90" in en and "Missing numbers: 3" in en


@pytest.fixture
def client(shop: Shop, day_close: DayCloseService) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.staff_store = shop.staff
    app.state.day_close = day_close
    for router in [*staff_routers(), *dayclose_routers()]:
        app.include_router(router)
    with TestClient(app) as c:
        yield c


def auth(client: TestClient, username: str) -> dict[str, Any]:
    token = client.post("/api/auth/login", json={"username": username, "password": PASSWORDS[username]}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_day_close_over_http(client: TestClient, shop: Shop, refunds: RefundService) -> None:
    fixed_day(shop, refunds)
    assert client.post("/api/dayclose/2026-03-02/close", headers=auth(client, "ann")).status_code == 403
    sam = auth(client, "sam")  # a supervisor reads the report but may not close the day
    assert client.post("/api/dayclose/2026-03-02/close", headers=sam).status_code == 403
    closed = client.post("/api/dayclose/2026-03-02/close", headers=auth(client, "mia")).json()
    assert closed["closed"] is True and closed["labels"]["cash_expected"] == {"en": "Cash expected in drawer",
                                                                              "zh": "钱箱应有现金"}
    text = client.get("/api/dayclose/2026-03-02", params={"format": "text", "lang": "zh"}, headers=sam)
    assert text.headers["content-type"].startswith("text/plain") and "实收: ¥76.21" in text.text
