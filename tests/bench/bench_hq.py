"""HQ benchmark: sale ingest from 50 simulated edges, and summary latency over a year of data.

    python tests/bench/bench_hq.py [--sales N] [--via service|http] [--stores 100]

* Ingest: 50 edge threads each send batches of 100 sales, one at a time. ``--via service``
  (the default) hands them to a pool of HQ worker threads (``--workers``) that call the ingest
  service (``hq.services.ingest.ingest_batch`` in a write transaction, as the
  sync endpoint does, JSON batches parsed by the same pydantic schema); ``--via http`` posts to a
  real ``python -m hq.cli run`` (uvicorn, one worker process) instead. Into a throwaway
  PostgreSQL (fsync off, like the tests) and into SQLite (WAL, synchronous=FULL).
* Summaries: a year of rollups for 100 stores (about 50 products a day each) is generated in
  bulk straight into the rollup tables; then the p95 latency of a store-month and of a
  chain-month summary (current beside previous month), on PostgreSQL.

Targets: >= 5,000 sales/s into PostgreSQL; store summary p95 <= 50 ms; chain summary p95 <= 300 ms.
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, text  # noqa: E402

from hq.db import Database  # noqa: E402
from hq.models import DailyPayment, DailyProduct, DailySales, Store  # noqa: E402
from hq.schemas import SyncBatchIn  # noqa: E402
from hq.services import ingest, summaries  # noqa: E402
from hq.services.periods import periods  # noqa: E402
from hq.settings import Settings  # noqa: E402
from tests.fixtures.postgres import ThrowawayPostgres  # noqa: E402
from tests.hq.helpers import batch, make_sale  # noqa: E402

EDGES = 50
BATCH = 100
SECRET = "bench-secret-0123456789abcdef0123"


def _settings(url: str) -> Settings:
    return Settings(database_url=url, environment="test", secret_key=SECRET, pool_size=EDGES)


def _make_batches(store_ids: list[str], per_edge: int) -> dict[str, list[dict[str, Any]]]:
    start = datetime(2026, 3, 1, 8, tzinfo=timezone.utc)
    out: dict[str, list[dict[str, Any]]] = {}
    for sid in store_ids:
        sales = []
        for n in range(per_edge):
            when = start + timedelta(minutes=n)
            sales.append(make_sale(sid, f"k{n % 4}", n // 4 + 1, when=when,
                                   lines=[(f"sku-{(n * 7 + j) % 300}", 1 + j, 100 + j * 37) for j in range(3)]))
        out[sid] = [batch(sid, sales[i:i + BATCH], batch_id=f"{sid}-{i // BATCH}") for i in range(0, len(sales), BATCH)]
    return out


def _create_stores(db: Database, store_ids: list[str]) -> None:
    with db.write() as s:
        s.execute(insert(Store), [dict(store_id=sid, name=sid, region="r", currency="CNY",
                                       created_at=datetime.now(timezone.utc)) for sid in store_ids])


def ingest_service(url: str, per_edge: int, workers: int) -> tuple[float, int]:
    """50 edge threads queue their batches; ``workers`` HQ worker threads take them in turn
    (as a server's worker pool would) and run each through the ingest service."""
    import queue

    with Database(_settings(url)) as db:
        db.migrate()
        store_ids = [f"e{i:02d}" for i in range(EDGES)]
        _create_stores(db, store_ids)
        work = _make_batches(store_ids, per_edge)
        payloads = {sid: [json.dumps(b) for b in bs] for sid, bs in work.items()}
        errors: list[BaseException] = []
        accepted = [0]
        lock = threading.Lock()
        inbox: queue.Queue[tuple[str, str, threading.Event] | None] = queue.Queue(maxsize=workers * 2)

        def hq_worker() -> None:
            while (job := inbox.get()) is not None:
                sid, raw, answered = job
                try:
                    b = SyncBatchIn.model_validate_json(raw)
                    for attempt in range(5):
                        try:
                            with db.write() as s:
                                r = ingest.ingest_batch(s, s.get(Store, sid), b, datetime.now(timezone.utc))
                            break
                        except Exception:  # noqa: BLE001 - deadlock/locked retry as the endpoint does
                            if attempt == 4:
                                raise
                    with lock:
                        accepted[0] += r.accepted
                except BaseException as exc:  # noqa: BLE001
                    errors.append(exc)
                finally:
                    answered.set()

        def edge(sid: str) -> None:
            for raw in payloads[sid]:  # an edge sends its next batch once the last is answered
                answered = threading.Event()
                inbox.put((sid, raw, answered))
                answered.wait()

        pool = [threading.Thread(target=hq_worker) for _ in range(workers)]
        edges = [threading.Thread(target=edge, args=(sid,)) for sid in store_ids]
        t0 = time.perf_counter()
        for t in pool + edges:
            t.start()
        for t in edges:
            t.join()
        for _ in pool:
            inbox.put(None)
        for t in pool:
            t.join()
        elapsed = time.perf_counter() - t0
        if errors:
            raise errors[0]
        return elapsed, accepted[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ingest_http(url: str, per_edge: int, workers: int) -> tuple[float, int]:
    import httpx

    from hq.services import stores as store_svc

    with Database(_settings(url)) as db:
        db.migrate()
        store_ids = [f"e{i:02d}" for i in range(EDGES)]
        _create_stores(db, store_ids)
        tokens = {}
        with db.write() as s:
            for sid in store_ids:
                tokens[sid], _ = store_svc.rotate_token(s, SECRET, sid, datetime.now(timezone.utc), grace_s=0)
    work = _make_batches(store_ids, per_edge)
    port = _free_port()
    env = {**os.environ, "TILLPI_HQ_SECRET_KEY": SECRET, "TILLPI_HQ_ENVIRONMENT": "test",
           "TILLPI_HQ_POOL_SIZE": str(EDGES)}
    proc = subprocess.Popen([sys.executable, "-m", "hq.cli", "run", "--db", url, "--port", str(port),
                             "--log-level", "warning"], cwd=REPO, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        accepted = [0]
        lock = threading.Lock()
        errors: list[BaseException] = []

        def edge(sid: str) -> None:
            try:
                with httpx.Client(base_url=base, timeout=120,
                                  headers={"Authorization": f"Bearer {tokens[sid]}"}) as c:
                    for b in work[sid]:
                        r = c.post("/api/v1/sync/batches", json=b)
                        r.raise_for_status()
                        with lock:
                            accepted[0] += r.json()["accepted"]
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=edge, args=(sid,)) for sid in store_ids]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        if errors:
            raise errors[0]
        return elapsed, accepted[0]
    finally:
        proc.terminate()
        proc.wait(30)


def _bulk(conn: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """COPY on PostgreSQL, executemany elsewhere."""
    if conn.dialect.name != "postgresql":
        conn.execute(insert(model), rows)
        return
    cols = list(rows[0])
    with conn.connection.driver_connection.cursor() as cur:
        with cur.copy(f"COPY {model.__tablename__} ({', '.join(cols)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row([r[c] for c in cols])


def generate_year(db: Database, stores: int, products_per_day: int, year: int = 2025) -> int:
    """A year of daily rollups for ``stores`` stores, inserted in bulk."""
    rng = random.Random(1)
    store_ids = [f"st{i:03d}" for i in range(stores)]
    _create_stores(db, store_ids)
    methods = ["card", "mobile", "cash"]
    rows = 0
    day0 = date(year, 1, 1)
    days = [day0 + timedelta(days=i) for i in range(366 if year % 4 == 0 else 365)]
    with db.engine.begin() as conn:
        for sid in store_ids:
            ds, dp, dpay = [], [], []
            for d in days:
                prods = rng.sample(range(2000), products_per_day)
                rev_total = units_total = 0
                for p in prods:
                    u = rng.randint(1, 40)
                    rev = u * (100 + p % 900)
                    rev_total += rev
                    units_total += u
                    dp.append(dict(store_id=sid, business_date=d, sku=f"sku-{p:04d}", name=f"Product {p}",
                                   category=f"cat-{p % 40}", units=u, weight_g=0, revenue_minor=rev))
                tx = max(units_total // 4, 1)
                ds.append(dict(store_id=sid, business_date=d, transactions=tx, revenue_minor=rev_total,
                               units=units_total, savings_minor=rev_total // 50, tax_minor=rev_total * 13 // 113))
                left = rev_total
                for i, m in enumerate(methods):
                    amt = left if i == len(methods) - 1 else rev_total * (5 - 2 * i) // 10
                    left -= amt
                    dpay.append(dict(store_id=sid, business_date=d, method=m, payments=tx // 3 + 1, amount_minor=amt))
            _bulk(conn, DailySales, ds)
            _bulk(conn, DailyProduct, dp)
            _bulk(conn, DailyPayment, dpay)
            rows += len(ds) + len(dp) + len(dpay)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return rows


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)


def summary_latency(db: Database, stores: int, rounds: int) -> tuple[float, float, float, float]:
    store_ms, chain_ms = [], []
    rng = random.Random(2)
    with db.session() as s:
        for i in range(rounds):
            month = 2 + i % 11
            cur, prev = periods("month", date(2025, month, 15))
            store = s.get(Store, f"st{rng.randrange(stores):03d}")
            t0 = time.perf_counter()
            out = summaries.store_summary(s, store, "month", cur, prev)  # type: ignore[arg-type]
            store_ms.append((time.perf_counter() - t0) * 1000)
            if out.current.transactions <= 0:
                raise RuntimeError("store summary found no data")
            t0 = time.perf_counter()
            summaries.chain_summary(s, "month", cur, prev, currency="CNY")
            chain_ms.append((time.perf_counter() - t0) * 1000)
    return p95(store_ms), statistics.median(store_ms), p95(chain_ms), statistics.median(chain_ms)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sales", type=int, default=30_000, help="sales to ingest per backend (split over 50 edges)")
    ap.add_argument("--via", choices=["service", "http"], default="service")
    ap.add_argument("--stores", type=int, default=100)
    ap.add_argument("--products-per-day", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--workers", type=int, default=4, help="HQ worker threads (service mode)")
    args = ap.parse_args(argv)
    per_edge = max(args.sales // EDGES, 1)
    run = ingest_service if args.via == "service" else ingest_http
    result: dict[str, float] = {}
    with ThrowawayPostgres() as pg, tempfile.TemporaryDirectory(prefix="tillpi-bench-") as tmp:
        print(f"ingest via {args.via}: {EDGES} edges x {per_edge} sales in batches of {BATCH}, 3 lines each"
              + (f", {args.workers} HQ worker threads" if args.via == "service" else ", one uvicorn process"))
        elapsed, n = run(pg.create_database("bench_ingest"), per_edge, args.workers)
        result["pg_sales_per_s"] = round(n / elapsed)
        print(f"  PostgreSQL: {n} sales in {elapsed:.2f} s = {n / elapsed:,.0f} sales/s")
        elapsed, n = run(f"sqlite:///{tmp}/bench.db", per_edge, args.workers)
        result["sqlite_sales_per_s"] = round(n / elapsed)
        print(f"  SQLite:     {n} sales in {elapsed:.2f} s = {n / elapsed:,.0f} sales/s")

        print(f"summaries: a year of rollups for {args.stores} stores, {args.products_per_day} products a day")
        with Database(_settings(pg.create_database("bench_summary"))) as db:
            db.migrate()
            t0 = time.perf_counter()
            rows = generate_year(db, args.stores, args.products_per_day)
            print(f"  generated {rows:,} rollup rows in {time.perf_counter() - t0:.1f} s")
            sp95, smed, cp95, cmed = summary_latency(db, args.stores, args.rounds)
        print(f"  store-month summary: p95 {sp95:.1f} ms, median {smed:.1f} ms   (target p95 <= 50 ms)")
        print(f"  chain-month summary: p95 {cp95:.1f} ms, median {cmed:.1f} ms   (target p95 <= 300 ms)")
        result["store_summary_p95_ms"] = round(sp95, 1)
        result["chain_summary_p95_ms"] = round(cp95, 1)
    print(f"  PostgreSQL ingest target >= 5,000 sales/s: {'met' if result['pg_sales_per_s'] >= 5000 else 'NOT met'}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
