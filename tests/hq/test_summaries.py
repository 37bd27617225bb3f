"""Summaries against figures worked out by hand, CSV export and the dashboard page."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest

from hq.services.periods import DateRange, periods
from tests.hq.helpers import Harness, batch, make_sale

MAR = date(2026, 3, 15)


def _at(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=timezone.utc)


@pytest.fixture
def shop(hq: Harness) -> Harness:
    """Two stores. s1 sells in March and February; s2 only in March. By hand:

    s1 March:    k1#1  apple 2x350 = 700, card                          (units 2)
                 k1#2  apple 1x350 + bread 1x800 = 1150, less 150 saving = 1000,
                       cash 2000 with 1000 change                        (units 2)
                 k2#1  milk 3x500 = 1500, mobile                         (units 3)
        -> revenue 3200, transactions 3, units 7, basket 1067 (3200/3 = 1066.67 -> 1067)
           payments: mobile 1500, card 700, cash 1000
           products: milk 1500, apple 700+350-150 = 900, bread 800
    s1 February: k1#3  bread 2x800 = 1600, card on 2026-02-10
    s2 March:    k1#1  apple 10x350 = 3500, card
    """
    hq.client.post("/api/v1/catalogue/changes", json={"products": [
        {"sku": "apple", "name_en": "Apple", "name_zh": "苹果", "category": "fruit"},
        {"sku": "bread", "name_en": "Bread", "name_zh": "面包", "category": "bakery"},
        {"sku": "milk", "name_en": "Milk", "name_zh": "牛奶", "category": "dairy"}]}, headers=hq.admin)
    e1 = hq.create_store("s1", name="First")
    e2 = hq.create_store("s2", name="Second")
    hq.send(e1, batch("s1", [
        make_sale("s1", "k1", 1, lines=[("apple", 2, 350)], when=_at(MAR)),
        make_sale("s1", "k1", 2, lines=[("apple", 1, 350), ("bread", 1, 800)], savings=150,
                  payments=[("cash", 2000)], change=1000, when=_at(MAR, 11)),
        make_sale("s1", "k2", 1, lines=[("milk", 3, 500)], payments=[("mobile", 1500)], when=_at(date(2026, 3, 2))),
        make_sale("s1", "k1", 3, lines=[("bread", 2, 800)], when=_at(date(2026, 2, 10))),
    ]))
    hq.send(e2, batch("s2", [make_sale("s2", "k1", 1, lines=[("apple", 10, 350)], when=_at(date(2026, 3, 31)))]))
    return hq


def test_store_month_beside_the_previous_month(shop: Harness) -> None:
    s = shop.client.get("/api/v1/summaries/stores/s1", params={"period": "month", "date": "2026-03-20"},
                        headers=shop.admin).json()
    cur, prev = s["current"], s["previous"]
    assert (cur["start"], cur["end"], prev["start"], prev["end"]) == ("2026-03-01", "2026-03-31", "2026-02-01", "2026-02-28")
    assert (cur["revenue_minor"], cur["transactions"], cur["units"], cur["average_basket_minor"]) == (3200, 3, 7, 1067)
    assert cur["savings_minor"] == 150
    assert [(p["method"], p["amount_minor"], p["share_bp"]) for p in cur["payment_mix"]] == [
        ("mobile", 1500, 4688), ("cash", 1000, 3125), ("card", 700, 2188)]
    assert [(p["sku"], p["units"], p["revenue_minor"]) for p in cur["top_products"]] == [
        ("milk", 3, 1500), ("apple", 3, 900), ("bread", 1, 800)]
    assert [c["category"] for c in cur["top_categories"]] == ["dairy", "fruit", "bakery"]
    assert (prev["revenue_minor"], prev["transactions"]) == (1600, 1)
    assert s["change"] == {"revenue_minor": 1600, "revenue_bp": 10000, "units": 5, "transactions": 2,
                           "average_basket_minor": 1067 - 1600}


def test_chain_month_adds_up_the_stores(shop: Harness) -> None:
    s = shop.client.get("/api/v1/summaries/chain", params={"period": "month", "date": "2026-03-01"},
                        headers=shop.admin).json()
    assert (s["current"]["revenue_minor"], s["current"]["transactions"]) == (6700, 4)
    assert [(x["store_id"], x["revenue_minor"], x["previous_revenue_minor"]) for x in s["stores"]] == [
        ("s2", 3500, 0), ("s1", 3200, 1600)]
    assert s["current"]["top_products"][0] == {"sku": "apple", "name": "name of apple", "category": "fruit",
                                               "units": 13, "weight_g": 0, "revenue_minor": 4400}


def test_day_week_year_and_range_periods(shop: Harness) -> None:
    get = lambda **p: shop.client.get("/api/v1/summaries/stores/s1", params=p, headers=shop.admin).json()  # noqa: E731
    day = get(period="day", date="2026-03-15")
    assert (day["current"]["revenue_minor"], day["previous"]["start"]) == (1700, "2026-03-14")
    week = get(period="week", date="2026-03-04")  # ISO week Mon 2 .. Sun 8 March
    assert (week["current"]["start"], week["current"]["revenue_minor"]) == ("2026-03-02", 1500)
    year = get(period="year", date="2026-06-01")
    assert (year["current"]["revenue_minor"], year["current"]["transactions"]) == (4800, 4)
    rng = get(period="range", start="2026-02-01", end="2026-03-14")
    assert (rng["current"]["revenue_minor"], rng["previous"]["end"]) == (3100, "2026-01-31")
    assert shop.client.get("/api/v1/summaries/stores/s1", params={"period": "range", "start": "2026-03-01"},
                           headers=shop.admin).status_code == 400


def test_periods_before_each_period() -> None:
    assert periods("month", date(2026, 1, 31))[1] == DateRange(date(2025, 12, 1), date(2025, 12, 31))
    assert periods("month", date(2024, 3, 1))[1] == DateRange(date(2024, 2, 1), date(2024, 2, 29))
    assert periods("week", date(2026, 3, 8)) == (DateRange(date(2026, 3, 2), date(2026, 3, 8)),
                                                  DateRange(date(2026, 2, 23), date(2026, 3, 1)))
    assert periods("range", start=date(2026, 3, 10), end=date(2026, 3, 12))[1] == DateRange(date(2026, 3, 7), date(2026, 3, 9))


def test_csv_export_has_a_row_per_store_and_a_total(shop: Harness) -> None:
    r = shop.client.get("/api/v1/summaries/export.csv", params={"period": "month", "date": "2026-03-01"},
                        headers=shop.admin)
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["store_id"], x["revenue"], x["transactions"], x["previous_revenue"], x["revenue_change"]) for x in rows] == [
        ("s1", "32.00", "3", "16.00", "16.00"), ("s2", "35.00", "1", "0.00", "35.00"), ("*", "67.00", "4", "16.00", "51.00")]
    assert rows[0]["average_basket"] == "10.67"


def test_csv_export_for_a_store_manager_is_limited_to_their_store(shop: Harness) -> None:
    mgr = shop.create_user("mia", "store_manager", ["s2"])
    r = shop.client.get("/api/v1/summaries/export.csv", params={"period": "month", "date": "2026-03-01"}, headers=mgr)
    assert [x["store_id"] for x in csv.DictReader(io.StringIO(r.text))] == ["s2", "*"]
    assert shop.client.get("/api/v1/summaries/export.csv", params={"store_id": "s1"}, headers=mgr).status_code == 403


def test_rollups_agree_with_sql_over_the_sale_lines(shop: Harness, hq_db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from hq.models import DailyPayment, DailyProduct, DailySales
    from hq.services.ingest import rebuild_rollups

    def snapshot() -> tuple:
        with hq_db.session() as s:
            return tuple(sorted(tuple(r) for r in s.execute(select(*m.__table__.c))) for m in
                         (DailySales, DailyProduct, DailyPayment))

    before = snapshot()
    with hq_db.write() as s:
        rebuild_rollups(s)
    assert snapshot() == before
    assert len(before[0]) == 4  # s1: 2 and 15 March, 10 February; s2: 31 March


def test_dashboard_shows_the_chain_in_english_and_chinese(shop: Harness, screenshot_dir) -> None:  # type: ignore[no-untyped-def]
    r = shop.client.get("/dashboard", params={"period": "month", "date": "2026-03-01"}, headers=shop.admin)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "Revenue by store" in r.text and "¥67.00" in r.text and "<svg" in r.text
    assert r.text.count('class="bar"') == 2
    zh = shop.client.get("/dashboard", params={"period": "month", "date": "2026-03-01", "lang": "zh"}, headers=shop.admin)
    assert "各门店销售额" in zh.text and "销售额" in zh.text and 'lang="zh-CN"' in zh.text
    store = shop.client.get("/dashboard", params={"store_id": "s1", "date": "2026-03-01"}, headers=shop.admin)
    assert "Revenue by day" in store.text and store.text.count('class="bar"') == 31
    assert "http://" not in r.text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched from outside
    (screenshot_dir / "dashboard-en.html").write_text(r.text, encoding="utf-8")
    (screenshot_dir / "dashboard-zh.html").write_text(zh.text, encoding="utf-8")


def test_dashboard_login_by_form_sets_a_session_cookie(shop: Harness) -> None:
    c = shop.client
    assert c.get("/dashboard", follow_redirects=False).headers["location"].startswith("/login")
    bad = c.post("/login", content="username=admin&password=nope", headers={"content-type": "application/x-www-form-urlencoded"})
    assert bad.status_code == 401
    ok = c.post("/login", content="username=admin&password=admin-password-1",
                headers={"content-type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    assert ok.status_code == 303 and "tillpi_hq_session" in ok.cookies
    page = c.get("/dashboard", params={"date": "2026-03-01"})
    assert page.status_code == 200 and "Revenue by store" in page.text


def test_dashboard_escapes_store_names(hq: Harness) -> None:
    hq.client.post("/api/v1/stores", json={"store_id": "s9", "name": "<script>x</script>"}, headers=hq.admin)
    r = hq.client.get("/dashboard", headers=hq.admin)
    assert "<script>" not in r.text and "&lt;script&gt;" in r.text
