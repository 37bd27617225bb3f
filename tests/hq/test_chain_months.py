"""The chain's month rollup (``chain_monthly_products``) stays exactly the sum of the stores'
daily product rows, whatever ingest goes through, on SQLite and on PostgreSQL; and a chain
summary read from it equals one read from the daily rows."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from alembic import command
from sqlalchemy import event, insert, select

from hq.db import Database
from hq.migrations import alembic_config
from hq.models import ChainMonthlyProduct, DailyProduct, Store
from hq.schemas import SummaryOut, SyncBatchIn
from hq.services import ingest, summaries
from hq.services.periods import periods
from tests.hq.helpers import Harness, batch, canonical_hash, make_sale, sale_item

START = datetime(2026, 2, 26, 9, 0, tzinfo=timezone.utc)


def _month_rows(db: Database) -> list[tuple[Any, ...]]:
    with db.session() as s:
        return sorted(tuple(r) for r in s.execute(select(
            ChainMonthlyProduct.month, ChainMonthlyProduct.sku, ChainMonthlyProduct.category, ChainMonthlyProduct.name,
            ChainMonthlyProduct.units, ChainMonthlyProduct.weight_g, ChainMonthlyProduct.revenue_minor)))


def _daily_rows_summed(db: Database) -> list[tuple[Any, ...]]:
    """What the month rows must be: the daily rows summed per (month, sku, category), the
    greatest name."""
    out: dict[tuple[date, str, str], list[Any]] = {}
    with db.session() as s:
        for d, sku, category, name, units, weight_g, revenue in s.execute(select(
                DailyProduct.business_date, DailyProduct.sku, DailyProduct.category, DailyProduct.name,
                DailyProduct.units, DailyProduct.weight_g, DailyProduct.revenue_minor)):
            acc = out.setdefault((d.replace(day=1), sku, category), [name, 0, 0, 0])
            acc[0] = max(acc[0], name)
            acc[1] += units
            acc[2] += weight_g
            acc[3] += revenue
    return sorted((*k, *v) for k, v in out.items())


def _renamed(body: dict[str, Any], name: str) -> dict[str, Any]:
    body["lines"][0]["name"] = name
    body["body_hash"] = canonical_hash({k: v for k, v in body.items() if k != "body_hash"})
    return body


def _refund_item(store_id: str, refund_id: str, day: str, total: int) -> dict[str, Any]:
    body = {"schema": "tillpi.refund/1", "refund_id": refund_id, "store_id": store_id, "kiosk_id": "k1",
            "sale_id": "9b2f0c1e-0000-4000-8000-000000000001", "business_date": day, "currency": "CNY",
            "total_minor": total, "tax_minor": 0}
    return {"kind": "refund", "event_id": f"refund:{refund_id}", "kiosk_id": "k1", "business_date": day,
            "body_hash": canonical_hash(body), "body": body}


def test_month_rows_are_the_daily_rows_summed_through_repeats_conflicts_rejects_and_refunds(
        hq: Harness, hq_db: Database) -> None:
    hq.client.post("/api/v1/catalogue/changes", json={"products": [
        {"sku": "sku-apple", "name_en": "Apple", "name_zh": "苹果", "category": "fruit"}]}, headers=hq.admin)
    edges = {"s1": hq.create_store("s1"), "s2": hq.create_store("s2")}
    for store, edge in edges.items():
        # five days across the end of February into March, in two kiosks
        bodies = [make_sale(store, f"k{seq % 2}", seq, when=START + timedelta(hours=23 * seq),
                            lines=[("sku-apple", 1 + seq % 3, 120), ("sku-tea" if seq % 2 else "sku-milk", 2, 75 + seq)])
                  for seq in range(1, 6)]
        first = hq.send(edge, batch(store, bodies[:3] + bodies[:1], batch_id="b1"))
        assert (first["accepted"], first["duplicates"]) == (3, 1)
        later = _renamed(make_sale(store, "k1", 21, when=START + timedelta(hours=23), lines=[("sku-tea", 1, 80)]),
                         "zz another name of the same tea, the same day")
        changed = make_sale(store, "k1", 1, lines=[("sku-apple", 9, 999)])
        broken = dict(bodies[4], totals={**bodies[4]["totals"], "total_minor": 1})
        second = hq.send(edge, {"batch_id": "b2", "store_id": store, "items": [
            *[sale_item(b) for b in bodies[2:4] + [later, changed, broken]],
            _refund_item(store, f"{store}-r1", "2026-02-27", 150)]})
        assert [i["status"] for i in second["items"]] == [
            "duplicate", "accepted", "accepted", "conflict", "rejected", "accepted"]
        again = hq.send(edge, batch(store, bodies[:3], batch_id="b1"))
        assert again["duplicates"] == 3
    months = _month_rows(hq_db)
    assert {m for m, *_ in months} == {date(2026, 2, 1), date(2026, 3, 1)}
    assert ("fruit", "sku-apple") in {(c, sku) for _, sku, c, *_ in months}
    assert months == _daily_rows_summed(hq_db)
    assert not any("zz another name" in name for *_, name, _, _, _ in months)  # the day's row kept its first name
    with hq_db.write() as s:
        ingest.rebuild_rollups(s)
    rebuilt = _month_rows(hq_db)
    assert rebuilt == _daily_rows_summed(hq_db)
    assert [r[:3] + r[4:] for r in rebuilt] == [r[:3] + r[4:] for r in months]  # names: rebuild takes the greatest


def test_a_category_changed_mid_day_counts_where_the_days_row_counts_it(hq: Harness, hq_db: Database) -> None:
    edge = hq.create_store("s1")
    day = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
    hq.send(edge, batch("s1", [make_sale("s1", "k1", 1, when=day, lines=[("sku-tea", 2, 100)])]))
    r = hq.client.post("/api/v1/catalogue/changes", json={"products": [
        {"sku": "sku-tea", "name_en": "Tea", "name_zh": "茶", "category": "drinks"}]}, headers=hq.admin)
    assert r.status_code in (200, 201), r.text
    hq.send(edge, batch("s1", [make_sale("s1", "k1", 2, when=day + timedelta(hours=2), lines=[("sku-tea", 3, 100)]),
                               make_sale("s1", "k1", 3, when=day + timedelta(days=1), lines=[("sku-tea", 5, 100)])]))
    by_category = {category: units for _, sku, category, _, units, _, _ in _month_rows(hq_db) if sku == "sku-tea"}
    assert by_category == {ingest.UNCATEGORISED: 5, "drinks": 5}
    assert _month_rows(hq_db) == _daily_rows_summed(hq_db)


def test_concurrent_batches_of_many_stores_add_up_in_the_shared_month_rows(hq_db: Database) -> None:
    stores = [f"c{i}" for i in range(6)]
    with hq_db.write() as s:
        s.execute(insert(Store), [dict(store_id=sid, name=sid, region="r", currency="CNY", created_at=START)
                                  for sid in stores])
    batches = {sid: [SyncBatchIn.model_validate(batch(sid, [
        make_sale(sid, "k1", n * 10 + i + 1, when=START + timedelta(days=(n + i) % 5),
                  lines=[(f"sku-{(i + j) % 7}", 1 + j, 100 + 10 * j) for j in range(3)])
        for i in range(10)], batch_id=f"{sid}-{n}")) for n in range(4)] for sid in stores}
    errors: list[BaseException] = []

    def edge(sid: str) -> None:
        try:
            for b in batches[sid]:
                assert ingest.apply_batch(hq_db, b, START).accepted == 10
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=edge, args=(sid,)) for sid in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    months = _month_rows(hq_db)
    assert sum(units for *_, units, _, _ in months) == 6 * 4 * 10 * (1 + 2 + 3)
    assert months == _daily_rows_summed(hq_db)


def _reads_month_rows(db: Database, summary: Callable[[], SummaryOut]) -> tuple[SummaryOut, bool]:
    """The summary, and whether it read ``chain_monthly_products``."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        out = summary()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    return out, any("chain_monthly_products" in t for t in statements)


def test_a_chain_summary_over_whole_months_reads_the_month_rows_and_equals_one_from_the_daily_rows(
        hq: Harness, hq_db: Database) -> None:
    for store in ("s1", "s2", "s3"):
        edge = hq.create_store(store)
        hq.send(edge, batch(store, [
            make_sale(store, "k1", seq, when=datetime(2026, 1, 20, 10, tzinfo=timezone.utc) + timedelta(days=3 * seq),
                      lines=[(f"sku-{(seq * 5 + j) % 13}", 1 + (seq + j) % 4, 50 + 7 * j) for j in range(1 + seq % 3)])
            for seq in range(1, 21)]))
    with hq_db.session() as s:
        every_store = [sid for sid, in s.execute(select(Store.store_id))]
        for kind, anchor in (("month", date(2026, 2, 14)), ("year", date(2026, 2, 14)), ("month", date(2026, 3, 1))):
            cur, prev = periods(kind, anchor)  # type: ignore[arg-type]
            from_months, read_months = _reads_month_rows(
                hq_db, lambda: summaries.chain_summary(s, kind, cur, prev, currency="CNY"))
            from_days, read_months_too = _reads_month_rows(
                hq_db, lambda: summaries.chain_summary(s, kind, cur, prev, currency="CNY", stores=every_store))
            assert read_months and not read_months_too
            assert from_months.current.top_products, kind
            assert from_months.current == from_days.current
            assert from_months.previous == from_days.previous
        week, week_before = periods("week", date(2026, 2, 14))
        _, read_months = _reads_month_rows(
            hq_db, lambda: summaries.chain_summary(s, "week", week, week_before, currency="CNY"))
        assert not read_months


def test_the_migration_fills_the_month_rows_from_the_daily_rows_already_stored(hq_db: Database) -> None:
    cfg = alembic_config()
    with hq_db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    with hq_db.write() as s:
        s.execute(insert(DailyProduct), [
            dict(store_id=f"s{n % 3}", business_date=date(2026, 1 + n % 2, 1 + n % 28), sku=f"sku-{n % 5}",
                 name=f"name {n % 4}", category=f"cat-{n % 5 % 2}", units=n, weight_g=0, revenue_minor=10 * n)
            for n in range(60)])
    hq_db.migrate()
    months = _month_rows(hq_db)
    assert len(months) == 10
    assert months == _daily_rows_summed(hq_db)
