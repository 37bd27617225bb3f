"""The fast ingest and summary paths give the same answers as the plain definitions.

* the one-pass canonical text and hash equal the bus contract's definition;
* rollups written by ingest (PostgreSQL: computed in SQL from ``COPY``-staged rows) equal the
  rollups rebuilt from the stored sales, after new, repeated, conflicting and rejected items;
* the two-period summary equals each period computed alone and a brute-force sum of the rows;
* ``hq.cli run --workers 2`` serves the sync API from several processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from hq.db import Database
from hq.models import DailyPayment, DailyProduct, DailySales, Store
from hq.services import ingest, summaries
from hq.services.periods import DateRange, periods
from tests.hq.helpers import Harness, batch, canonical_hash, make_sale

REPO = Path(__file__).resolve().parents[2]
READY_WAIT_S = 60.0  # how long a start may take before the test gives up (never a speed check)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**15, 10**15) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
# keys on both sides of "body_hash" in sorted order, and ones that share its prefix
KEYS = st.sampled_from(["a", "approvals", "body", "body_hasg", "body_hasi", "body_hash_", "business_date",
                        "lines", "z", "Z", "é", "总"]) | st.text(max_size=10)


@settings(max_examples=300, deadline=None)
@given(body=st.dictionaries(KEYS, JSON, max_size=8), with_hash=st.sampled_from([None, "absent", "value"]))
def test_one_pass_canonical_text_and_hash_match_the_contract_definition(body: dict[str, Any], with_hash: str | None) -> None:
    body = dict(body)
    body.pop("body_hash", None)
    if with_hash == "value":
        body["body_hash"] = "ab" * 32
    elif with_hash is None:
        body["body_hash"] = None
    plain = json.dumps({k: v for k, v in body.items() if k != "body_hash"}, sort_keys=True,
                       separators=(",", ":"), ensure_ascii=False)
    digest, text = ingest._canonical_texts(body)
    assert digest == hashlib.sha256(plain.encode("utf-8")).hexdigest()
    assert text == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert ingest.body_hash(body) == digest and ingest.canonical_json(body) == text


def _rollups(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.session() as s:
        return {
            "sales": sorted(tuple(r) for r in s.execute(select(
                DailySales.store_id, DailySales.business_date, DailySales.transactions, DailySales.revenue_minor,
                DailySales.units, DailySales.savings_minor, DailySales.tax_minor))),
            "products": sorted(tuple(r) for r in s.execute(select(
                DailyProduct.store_id, DailyProduct.business_date, DailyProduct.sku, DailyProduct.category,
                DailyProduct.units, DailyProduct.weight_g, DailyProduct.revenue_minor))),
            "payments": sorted(tuple(r) for r in s.execute(select(
                DailyPayment.store_id, DailyPayment.business_date, DailyPayment.method, DailyPayment.payments,
                DailyPayment.amount_minor))),
        }


def _weighed(store: str, kiosk: str, seq: int, when: datetime) -> dict[str, Any]:
    body = make_sale(store, kiosk, seq, lines=[("sku-apple", 1, 300), ("sku-cheese", 1, 990)], when=when,
                     payments=[("cash", 2000)], change=2000 - 1290)
    line = body["lines"][1]  # 330 g of cheese instead of one piece
    line.update(quantity=None, weight_g=330)
    body["body_hash"] = canonical_hash(body)
    return body


def test_ingest_rollups_equal_rollups_rebuilt_from_the_stored_sales(hq: Harness, hq_db: Database) -> None:
    hq.client.post("/api/v1/catalogue/changes", json={"products": [
        {"sku": "sku-apple", "name_en": "Apple", "name_zh": "苹果", "category": "fruit"}]}, headers=hq.admin)
    e1, e2 = hq.create_store("s1"), hq.create_store("s2")
    rng = random.Random(5)
    day = datetime(2026, 3, 14, 22, 0, tzinfo=timezone.utc)
    sent: dict[str, list[dict[str, Any]]] = {"s1": [], "s2": []}
    for store, edge in (("s1", e1), ("s2", e2)):
        bodies = []
        for seq in range(1, 41):
            when = day + timedelta(minutes=7 * seq)
            if seq % 9 == 0:
                bodies.append(_weighed(store, "k1", seq, when))
                continue
            lines = [(f"sku-{rng.choice(['apple', 'bread', 'milk', 'tea'])}", rng.randint(1, 4), rng.randint(50, 900))
                     for _ in range(rng.randint(1, 4))]
            pays = [("card", sum(q * p for _, q, p in lines) - (30 if seq % 5 == 0 else 0))]
            bodies.append(make_sale(store, f"k{seq % 3}", seq, lines=lines, when=when,
                                    savings=30 if seq % 5 == 0 else 0, payments=pays))
        sent[store] = bodies
        first = hq.send(edge, batch(store, bodies[:25] + bodies[:3]))  # with repeats inside the batch
        assert first["accepted"] == 25 and first["duplicates"] == 3
        changed = make_sale(store, "k1", 1, lines=[("sku-tea", 9, 100)])
        broken = dict(bodies[30], totals={**bodies[30]["totals"], "total_minor": 1})
        second = hq.send(edge, batch(store, bodies[20:] + [changed, broken]))
        assert (second["accepted"], second["duplicates"], second["conflicts"], second["rejected"]) == (15, 5, 1, 1)
    written = _rollups(hq_db)
    assert len(written["sales"]) >= 4 and any(r[3] == "fruit" for r in written["products"])
    assert any(r[5] == 330 for r in written["products"])  # the weighed line counted by weight
    with hq_db.write() as s:
        ingest.rebuild_rollups(s)
    assert _rollups(hq_db) == written
    total = sum(b["totals"]["total_minor"] for bs in sent.values() for b in bs)
    assert sum(r[3] for r in written["sales"]) == total
    cash = [r for r in written["payments"] if r[2] == "cash"]
    assert cash and all(r[4] > 0 for r in cash)  # cash counted net of the change given


def _brute(rows: list[dict[str, Any]], stores: list[str] | None, r: DateRange) -> dict[str, Any]:
    mine = [x for x in rows if r.start <= x["business_date"] <= r.end and (stores is None or x["store_id"] in stores)]
    by_sku: dict[str, list[Any]] = {}
    by_cat: dict[str, list[int]] = {}
    for x in mine:
        acc = by_sku.setdefault(x["sku"], ["", "", 0, 0])
        acc[0], acc[1] = max(acc[0], x["name"]), max(acc[1], x["category"])
        acc[2] += x["units"]
        acc[3] += x["revenue_minor"]
        c = by_cat.setdefault(x["category"], [0, 0])
        c[0] += x["units"]
        c[1] += x["revenue_minor"]
    top = sorted(by_sku.items(), key=lambda kv: (-kv[1][3], kv[0]))[:summaries.TOP_N]
    cats = sorted(by_cat.items(), key=lambda kv: (-kv[1][1], kv[0]))[:summaries.TOP_N]
    return {"top": [(s, a[0], a[1], a[2], a[3]) for s, a in top], "cats": [(c, a[0], a[1]) for c, a in cats]}


def test_two_period_summary_equals_each_period_alone_and_a_brute_force_sum(hq_db: Database) -> None:
    rng = random.Random(11)
    stores = ["a1", "a2", "a3"]
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    products: list[dict[str, Any]] = []
    sales: list[dict[str, Any]] = []
    pays: list[dict[str, Any]] = []
    for sid in stores:
        for d in (date(2026, 1, 20) + timedelta(days=i) for i in range(50)):
            rev_day = 0
            for p in rng.sample(range(30), 6):
                rev = rng.randint(0, 5) * 100 * (1 + p % 4)  # ties and zero revenue on purpose
                rev_day += rev
                products.append(dict(store_id=sid, business_date=d, sku=f"p{p:02d}", name=f"name {p} {rng.choice('xy')}",
                                     category=f"c{p % 4}" if p != 7 or d.day % 2 else "c-odd", units=rng.randint(1, 9),
                                     weight_g=0, revenue_minor=rev))
            sales.append(dict(store_id=sid, business_date=d, transactions=3, revenue_minor=rev_day, units=9,
                              savings_minor=1, tax_minor=2))
            pays.append(dict(store_id=sid, business_date=d, method=rng.choice(["card", "cash"]), payments=3,
                             amount_minor=rev_day))
    with hq_db.write() as s:
        s.execute(insert(Store), [dict(store_id=sid, name=sid, region="r", currency="CNY", created_at=now)
                                  for sid in stores])
        s.execute(insert(DailyProduct), products)
        s.execute(insert(DailySales), sales)
        s.execute(insert(DailyPayment), pays)
        ingest.rebuild_chain_months(s)  # daily rows written in bulk: the chain's month rows from them
    cur, prev = periods("month", date(2026, 2, 10))
    with hq_db.session() as s:
        for scope in (None, ["a2"], ["a1", "a3"]):
            chain = summaries.chain_summary(s, "month", cur, prev, currency="CNY", stores=scope)
            assert chain.current == summaries.figures(s, scope, cur)
            assert chain.previous == summaries.figures(s, scope, prev)
            for fig, r in ((chain.current, cur), (chain.previous, prev)):
                want = _brute(products, scope, r)
                assert [(p.sku, p.name, p.category, p.units, p.revenue_minor) for p in fig.top_products] == want["top"]
                assert [(c.category, c.units, c.revenue_minor) for c in fig.top_categories] == want["cats"]
                assert fig.revenue_minor == sum(x["revenue_minor"] for x in sales if r.start <= x["business_date"] <= r.end
                                                and (scope is None or x["store_id"] in scope))
        one = summaries.store_summary(s, s.get(Store, "a2"), "month", cur, prev)
        assert one.current == summaries.figures(s, ["a2"], cur) and one.current.transactions > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_cli_serves_sync_from_several_worker_processes(hq_db_url: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from hq.cli import main as hq_cli

    secret = "workers-test-secret-0123456789abcdef"
    monkeypatch.setenv("TILLPI_HQ_SECRET_KEY", secret)
    monkeypatch.setenv("TILLPI_HQ_ENVIRONMENT", "test")
    assert hq_cli(["create-store", "--db", hq_db_url, "s1", "--name", "Shop one"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    port = _free_port()
    env = {**os.environ, "TILLPI_HQ_SECRET_KEY": secret, "TILLPI_HQ_ENVIRONMENT": "test"}
    with open(tmp_path / "hq.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "hq.cli", "run", "--db", hq_db_url, "--port", str(port),
                                 "--workers", "2", "--log-level", "warning"], cwd=REPO, env=env, stdout=log, stderr=log)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_WAIT_S
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "hq.log").read_text()[-2000:]
            try:
                if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        headers = {"Authorization": f"Bearer {token}"}
        bodies = [make_sale("s1", "k1", seq) for seq in range(1, 31)]
        with httpx.Client(base_url=base, timeout=30, headers=headers) as c:
            answers = [c.post("/api/v1/sync/batches", json=batch("s1", bodies[i:i + 10], batch_id=f"b{i}")).json()
                       for i in range(0, 30, 10)]
            again = c.post("/api/v1/sync/batches", json=batch("s1", bodies, batch_id="all")).json()
            recon = c.get("/api/v1/sync/reconciliation", params={"start": "2026-03-15"}).json()
        assert [a["accepted"] for a in answers] == [10, 10, 10]
        assert again["duplicates"] == 30 and again["accepted"] == 0
        assert recon["rows"] == [{"kiosk_id": "k1", "business_date": "2026-03-15", "count": 30,
                                  "total_minor": sum(b["totals"]["total_minor"] for b in bodies), "highest_seq": 30}]
    finally:
        proc.terminate()
        proc.wait(30)
