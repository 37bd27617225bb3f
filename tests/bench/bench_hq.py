"""HQ benchmark: sale ingest from 50 simulated edges, and summary latency over a year of data.

    python tests/bench/bench_hq.py [--sales N] [--batch 500] [--via both|service|http]
                                   [--procs 3] [--threads 2] [--no-durable] [--stores 100] [--rounds 200]

* Ingest: 50 simulated edges each send their sales in batches (``--batch``, an edge sends up to
  500 per batch), one batch at a time: the next only once the last is answered.
  ``--via service``: ``--procs`` HQ worker processes, each with ``--threads`` threads, take the
  batches as raw JSON, parse them with HQ's pydantic schema and run them through
  :func:`hq.services.ingest.apply_batch` (exactly what the sync endpoint runs, without HTTP and
  authentication, in processes tuned like the server's: :func:`hq.app.tune_gc`). ``--via http``:
  the edges POST to a real ``python -m hq.cli run --workers N`` (uvicorn, ``--procs`` worker
  processes, as a chain runs stateless HQ workers behind a load balancer); the edges are threads
  of this process sending pre-encoded bodies (their CPU time is printed, to show they are not the
  bottleneck).
* PostgreSQL is a throwaway cluster restarted with durability ON: ``fsync=on``,
  ``synchronous_commit=on``, ``full_page_writes=on`` (``--no-durable``: the tests' fsync=off).
  SQLite runs in WAL mode with ``synchronous=FULL``.
* Summaries: a year of rollups for 100 stores (about 50 products a day each) is generated in
  bulk straight into the daily rollup tables, and the chain's month rollup summed from them;
  then the p95 latency of a store-month and of a chain-month summary (current beside previous
  month), over ``--rounds`` random store-months (200), through the summary service on
  PostgreSQL, in this process tuned like a server worker (:func:`hq.app.tune_gc`). Before
  timing, one store-month and one chain-month summary of a month that is never timed run once,
  untimed: a warm-up, as a running HQ has (connection, catalogue caches, query plans).

Targets: >= 5,000 sales/s into PostgreSQL; store summary p95 <= 50 ms; chain summary p95 <= 300 ms.
The headline ``pg_sales_per_s`` is the HTTP figure when HTTP was measured, else the service
figure (``pg_via`` says which). The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
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

from hq.app import tune_gc  # noqa: E402
from hq.db import Database  # noqa: E402
from hq.models import DailyPayment, DailyProduct, DailySales, Store  # noqa: E402
from hq.services import ingest, summaries  # noqa: E402
from hq.services.periods import periods  # noqa: E402
from hq.settings import Settings  # noqa: E402
from tests.fixtures.postgres import ThrowawayPostgres  # noqa: E402
from tests.hq.helpers import batch, make_sale  # noqa: E402

EDGES = 50
SECRET = "bench-secret-0123456789abcdef0123"
DURABLE = ("-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c max_connections=200 "
           "-c shared_buffers=256MB -c max_wal_size=4GB")


def _settings(url: str, pool: int = 4) -> Settings:
    return Settings(database_url=url, environment="test", secret_key=SECRET, pool_size=pool)


def start_postgres(durable: bool) -> ThrowawayPostgres:
    """A throwaway cluster; when ``durable``, restarted with fsync, synchronous commit and full
    page writes on (the fixture starts it with them off, which suits tests only)."""
    pg = ThrowawayPostgres().start()
    if durable:
        root = pg.root
        if root is None:
            raise RuntimeError("the throwaway PostgreSQL did not start")
        opts = f"-p {pg.port} -k {root / 'sock'} -c listen_addresses=127.0.0.1 {DURABLE}"
        subprocess.run(pg._cmd(str(pg.bin_dir / "pg_ctl"), "-D", str(pg.data_dir), "-o", opts, "-l",
                               str(root / "server.log"), "-w", "-t", "60", "restart"), check=True,
                       capture_output=True)
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname="postgres") as conn:
            got = {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in ("fsync", "synchronous_commit", "full_page_writes")}
        if set(got.values()) != {"on"}:
            raise RuntimeError(f"PostgreSQL durability settings not applied: {got}")
    return pg


def _make_batches(store_ids: list[str], per_edge: int, size: int) -> dict[str, list[dict[str, Any]]]:
    start = datetime(2026, 3, 1, 8, tzinfo=timezone.utc)
    out: dict[str, list[dict[str, Any]]] = {}
    for sid in store_ids:
        sales = []
        for n in range(per_edge):
            when = start + timedelta(minutes=n)
            sales.append(make_sale(sid, f"k{n % 4}", n // 4 + 1, when=when,
                                   lines=[(f"sku-{(n * 7 + j) % 300}", 1 + j, 100 + j * 37) for j in range(3)]))
        out[sid] = [batch(sid, sales[i:i + size], batch_id=f"{sid}-{i // size}") for i in range(0, len(sales), size)]
    return out


def _create_stores(db: Database, store_ids: list[str]) -> None:
    with db.write() as s:
        s.execute(insert(Store), [dict(store_id=sid, name=sid, region="r", currency="CNY",
                                       created_at=datetime.now(timezone.utc)) for sid in store_ids])


def _prepare_db(url: str, store_ids: list[str]) -> dict[str, str]:
    """Migrate, create the stores and their edge tokens."""
    from hq.services import stores as store_svc

    tokens = {}
    with Database(_settings(url)) as db:
        db.migrate()
        _create_stores(db, store_ids)
        with db.write() as s:
            for sid in store_ids:
                tokens[sid], _ = store_svc.rotate_token(s, SECRET, sid, datetime.now(timezone.utc), grace_s=0)
    return tokens


def _service_worker(url: str, threads: int, jobs: Any, answers: Any) -> None:
    """One HQ worker process: ``threads`` threads parse and ingest raw JSON batches, in a process
    tuned like a server worker (:func:`hq.app.tune_gc`)."""
    from hq.schemas import SyncBatchIn

    tune_gc()
    with Database(_settings(url, pool=threads)) as db:
        def loop() -> None:
            while (job := jobs.get()) is not None:
                edge, raw = job
                try:
                    r = ingest.apply_batch(db, SyncBatchIn.model_validate_json(raw), datetime.now(timezone.utc))
                    answers.put((edge, r.accepted, None))
                except BaseException as exc:  # noqa: BLE001 - reported to the parent
                    answers.put((edge, 0, repr(exc)))

        pool = [threading.Thread(target=loop) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()


def ingest_service(url: str, per_edge: int, size: int, procs: int, threads: int,
                   pg: ThrowawayPostgres | None = None) -> tuple[float, int, float, CpuMeter | None]:
    """The edges (this process) keep one batch each in flight; ``procs`` worker processes answer."""
    store_ids = [f"e{i:02d}" for i in range(EDGES)]
    _prepare_db(url, store_ids)
    payloads = [[json.dumps(b) for b in bs] for bs in _make_batches(store_ids, per_edge, size).values()]
    ctx = mp.get_context("spawn")
    jobs, answers = ctx.Queue(), ctx.Queue()
    workers = [ctx.Process(target=_service_worker, args=(url, threads, jobs, answers)) for _ in range(procs)]
    for w in workers:
        w.start()
    try:
        # warm up: every worker process imports HQ and connects before the clock starts
        warm = [f"warm{i}" for i in range(procs * threads)]
        _prepare_warmup(url, warm, jobs, answers)
        nxt = [0] * EDGES
        meter = CpuMeter(pg, [w.pid for w in workers if w.pid]) if pg is not None else None
        if meter:
            meter.start()
        cpu0, t0 = time.process_time(), time.perf_counter()
        for e in range(EDGES):
            jobs.put((e, payloads[e][0]))
            nxt[e] = 1
        accepted, outstanding = 0, EDGES
        while outstanding:
            e, n, err = answers.get()
            if err:
                raise RuntimeError(f"HQ worker failed: {err}")
            accepted += n
            outstanding -= 1
            if nxt[e] < len(payloads[e]):
                jobs.put((e, payloads[e][nxt[e]]))
                nxt[e] += 1
                outstanding += 1
        elapsed = time.perf_counter() - t0
        client_cpu = time.process_time() - cpu0
        if meter:
            meter.stop()
    finally:
        for _ in range(procs * threads):
            jobs.put(None)
        for w in workers:
            w.join(60)
            if w.is_alive():
                w.terminate()
    return elapsed, accepted, client_cpu, meter


def _prepare_warmup(url: str, store_ids: list[str], jobs: Any, answers: Any) -> None:
    with Database(_settings(url)) as db:
        _create_stores(db, store_ids)
    for i, sid in enumerate(store_ids):
        jobs.put((i, json.dumps(batch(sid, [make_sale(sid, "k1", 1)], batch_id="warm"))))
    for _ in store_ids:
        _, _, err = answers.get()
        if err:
            raise RuntimeError(f"HQ worker failed: {err}")


class CpuMeter:
    """CPU seconds used by PostgreSQL's processes and by HQ's worker processes over a run, to
    show where the time goes (psutil)."""

    def __init__(self, pg: ThrowawayPostgres, hq_pids: list[int]) -> None:
        import psutil

        self._psutil = psutil
        pid = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
        self._pg_root = psutil.Process(pid)
        self._hq = [psutil.Process(p) for p in hq_pids]
        self._seen: dict[int, float] = {}
        self.pg_s = self.hq_s = 0.0

    def _procs(self) -> tuple[list[Any], list[Any]]:
        pg = [self._pg_root, *self._pg_root.children(recursive=True)]
        hq = [q for p in self._hq for q in (p, *p.children(recursive=True))]
        return pg, hq

    def _sample(self) -> tuple[float, float]:
        out = []
        for group in self._procs():
            total = 0.0
            for p in group:
                try:
                    t = p.cpu_times()
                    self._seen[p.pid] = t.user + t.system
                except self._psutil.Error:
                    pass
            total = sum(self._seen.get(p.pid, 0.0) for p in group)
            out.append(total)
        return out[0], out[1]

    def start(self) -> None:
        self._pg0, self._hq0 = self._sample()

    def stop(self) -> None:
        pg1, hq1 = self._sample()
        self.pg_s, self.hq_s = pg1 - self._pg0, hq1 - self._hq0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ingest_http(url: str, per_edge: int, size: int, procs: int, threads: int,
                pg: ThrowawayPostgres | None = None) -> tuple[float, int, float, CpuMeter | None]:
    import httpx

    store_ids = [f"e{i:02d}" for i in range(EDGES)]
    tokens = _prepare_db(url, store_ids)
    bodies = {sid: [json.dumps(b).encode() for b in bs] for sid, bs in _make_batches(store_ids, per_edge, size).items()}
    port = _free_port()
    env = {**os.environ, "TILLPI_HQ_SECRET_KEY": SECRET, "TILLPI_HQ_ENVIRONMENT": "test",
           # each worker keeps a connection per concurrent request (no connect per request)
           "TILLPI_HQ_POOL_SIZE": str(EDGES // procs + 1)}
    proc = subprocess.Popen([sys.executable, "-m", "hq.cli", "run", "--db", url, "--port", str(port),
                             "--log-level", "warning", "--workers", str(procs)], cwd=REPO, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        # warm up every worker process (each has its own pool and its own first request)
        with httpx.Client(base_url=base, timeout=120) as c:
            for i in range(procs * 8):
                sid = store_ids[i % EDGES]
                c.get("/api/v1/sync/cursor", headers={"Authorization": f"Bearer {tokens[sid]}"}).raise_for_status()
        accepted = [0]
        lock = threading.Lock()
        errors: list[BaseException] = []

        def edge(sid: str) -> None:
            try:
                with httpx.Client(base_url=base, timeout=120, headers={
                        "Authorization": f"Bearer {tokens[sid]}", "Content-Type": "application/json"}) as c:
                    for body in bodies[sid]:
                        r = c.post("/api/v1/sync/batches", content=body)
                        r.raise_for_status()
                        with lock:
                            accepted[0] += r.json()["accepted"]
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads_ = [threading.Thread(target=edge, args=(sid,)) for sid in store_ids]
        meter = CpuMeter(pg, [proc.pid]) if pg is not None else None
        if meter:
            meter.start()
        cpu0, t0 = time.process_time(), time.perf_counter()
        for t in threads_:
            t.start()
        for t in threads_:
            t.join()
        elapsed = time.perf_counter() - t0
        client_cpu = time.process_time() - cpu0
        if meter:
            meter.stop()
        if errors:
            raise errors[0]
        return elapsed, accepted[0], client_cpu, meter
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
    """A year of daily rollups for ``stores`` stores, inserted in bulk, and the chain's month
    rollup summed from them."""
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
    with db.write() as s:  # the chain's month rows, as ingest would have kept them
        ingest.rebuild_chain_months(s)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return rows


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)


def summary_latency(db: Database, stores: int, rounds: int) -> tuple[float, float, float, float]:
    """p95 and median (ms) of a store-month and of a chain-month summary. One untimed warm-up of
    each first, on January (never timed), as a running HQ has had: a connection, its catalogue
    caches and query plans; then each round asks for a random store and a month of February to
    December."""
    store_ms, chain_ms = [], []
    rng = random.Random(2)
    with db.session() as s:
        warm, warm_prev = periods("month", date(2025, 1, 15))
        summaries.store_summary(s, s.get(Store, "st000"), "month", warm, warm_prev)  # type: ignore[arg-type]
        summaries.chain_summary(s, "month", warm, warm_prev, currency="CNY")
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


def _ingest_all(pg: ThrowawayPostgres, tmp: str, args: argparse.Namespace, result: dict[str, Any]) -> None:
    per_edge = max(args.sales // EDGES, 1)
    vias = ["service", "http"] if args.via == "both" else [args.via]
    print(f"ingest: {EDGES} edges x {per_edge} sales in batches of {args.batch}, 3 lines each; "
          f"{args.procs} HQ worker processes ({args.threads} threads each in service mode); "
          f"PostgreSQL fsync={'on' if args.durable else 'off'}, synchronous_commit={'on' if args.durable else 'off'}")
    for via in vias:
        run = ingest_service if via == "service" else ingest_http
        for backend in ("pg", "sqlite"):
            url = pg.create_database(f"bench_{via}") if backend == "pg" else f"sqlite:///{tmp}/bench_{via}.db"
            elapsed, n, client_cpu, meter = run(url, per_edge, args.batch, args.procs, args.threads, pg)
            rate = round(n / elapsed)
            result.setdefault(f"{backend}_sales_per_s_{via}", rate)
            name = "PostgreSQL" if backend == "pg" else "SQLite    "
            cpu = f"; CPU s: edges {client_cpu:.1f}"
            if meter:
                cpu += (f", HQ {meter.hq_s:.1f} ({meter.hq_s / n * 1e6:.0f} us/sale), "
                        f"PostgreSQL {meter.pg_s:.1f} ({meter.pg_s / n * 1e6:.0f} us/sale)")
            print(f"  {via:7s} {name}: {n} sales in {elapsed:.2f} s = {rate:,} sales/s{cpu}")
    via = "http" if "http" in vias else "service"
    result["pg_sales_per_s"] = result[f"pg_sales_per_s_{via}"]
    result["sqlite_sales_per_s"] = result[f"sqlite_sales_per_s_{via}"]
    result["pg_via"] = via


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sales", type=int, default=50_000, help="sales to ingest per run (split over 50 edges)")
    ap.add_argument("--batch", type=int, default=500, help="sales per batch (an edge sends up to 500)")
    ap.add_argument("--via", choices=["both", "service", "http"], default="both")
    ap.add_argument("--procs", type=int, default=3, help="HQ worker processes")
    ap.add_argument("--threads", type=int, default=2, help="threads per HQ worker process (service mode)")
    ap.add_argument("--no-durable", dest="durable", action="store_false",
                    help="PostgreSQL with fsync=off, synchronous_commit=off (as the tests run it)")
    ap.add_argument("--stores", type=int, default=100)
    ap.add_argument("--products-per-day", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=200,
                    help="summaries timed (a p95 of 40 would be little more than the second-worst sample)")
    ap.add_argument("--skip-ingest", action="store_true")
    ap.add_argument("--skip-summaries", action="store_true")
    args = ap.parse_args(argv)
    result: dict[str, Any] = {}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    pg = start_postgres(args.durable)
    try:
        with tempfile.TemporaryDirectory(prefix="tillpi-bench-") as tmp:
            if not args.skip_ingest:
                _ingest_all(pg, tmp, args, result)
            if not args.skip_summaries:
                print(f"summaries: a year of rollups for {args.stores} stores, {args.products_per_day} products a day")
                tune_gc()  # the summary service runs in this process: tuned as a server worker is
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
    finally:
        pg.stop()
    if "pg_sales_per_s" in result:
        print(f"  PostgreSQL ingest target >= 5,000 sales/s ({result['pg_via']}): "
              f"{'met' if result['pg_sales_per_s'] >= 5000 else 'NOT met'}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    result["pg_fsync"] = "on" if args.durable else "off"
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    head = ["pg_sales_per_s", "sqlite_sales_per_s", "store_summary_p95_ms", "chain_summary_p95_ms"]
    print(json.dumps({**{k: result[k] for k in head if k in result},
                      **{k: v for k, v in result.items() if k not in head}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
