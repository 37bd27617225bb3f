"""Benchmark: the edge back office — catalogue import, replica distribution, sales reports.

Run with ``make bench-backoffice`` (or ``python tests/bench/bench_backoffice.py``). Prints
readable figures, then as its last line one JSON object:
``{"import_s": ..., "snapshot_s": ..., "price_change_ms": ..., "report_p95_ms": ...}``.

* **import_s** — a generated 50,000-row CSV: preview (every row validated) + confirm (one
  transaction), into a fresh edge database.
* **snapshot_s** — over MQTT: 20 kiosks (``kiosk.catalogue_sync``, each with its own MQTT
  connection over TLS and its own SQLite replica file, spread over a few processes) are
  connected to a private Mosquitto started for the run; the edge's
  :class:`~edge.catalogue.publisher.CataloguePublisher` starts and publishes the
  50,000-product snapshot; the figure is the time until the last kiosk holds the verified,
  persisted replica. All 20 kiosks share this machine's cores (on a shop floor each has its
  own Pi), so this is an upper bound; the per-kiosk median is printed too.
* **price_change_ms** — over MQTT: p95 over 20 price changes of the time from storing the
  new price to the last of the 20 kiosks holding it (publisher poll, delta, broker, kiosk
  apply + digest check + SQLite commit).
* The in-process figures of the earlier version (encode + apply without a broker) and the
  cost of building one kiosk's :class:`~kiosk.catalogue_replica.CatalogueReplica` (pinyin
  search keys) from the 50,000 products are printed for reference.
* **report_p95_ms** — a year of a busy shop (~1,000,000 sale lines in ~250,000 sales,
  generated into the ledger's ``sales``/``sale_lines`` tables): sales by day, hour, category,
  payment and top sellers over a day, a week and a month, plus sales by month over the year.
  Category, top-seller and month reports read the daily roll-ups of :mod:`edge.reports.sales`;
  their one-time first build is printed apart.

Targets: snapshot ≤ 10 s, price change ≤ 2 s, reports p95 ≤ 200 ms. Fixed seed.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import multiprocessing as mp  # noqa: E402
import os  # noqa: E402
import queue as queue_mod  # noqa: E402

from broker.config import StoreBrokerConfig  # noqa: E402
from broker.launcher import LocalBroker  # noqa: E402
from edge.catalogue import replica_format as rf  # noqa: E402
from edge.catalogue.publisher import CataloguePublisher, MqttCatalogueBus  # noqa: E402
from edge.catalogue.distribution import CatalogueDistributor  # noqa: E402
from edge.catalogue.importing import ImportService  # noqa: E402
from edge.catalogue.model import Category  # noqa: E402
from edge.catalogue.store import CatalogueStore  # noqa: E402
from edge.db import connect  # noqa: E402
from edge.ledger.migrations import migrate  # noqa: E402
from edge.reports import sales as reports  # noqa: E402
from retail.barcodes import gtin_check_digit  # noqa: E402
from retail.clock import FakeClock  # noqa: E402
from retail.money import Money  # noqa: E402

CATEGORIES = [(f"c{i:02d}", f"Category {i}", f"类别{i}") for i in range(40)]
METHODS = ["card", "mobile", "mobile", "mobile", "cash", "stored_value"]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def make_csv(rng: random.Random, n: int) -> bytes:
    lines = ["sku,gtins,plu,name_en,name_zh,category,price,cost_price,tax_class,sold_by,min_age,active"]
    for i in range(n):
        body = f"69{i:010d}"
        weighed = i % 12 == 0
        price = rng.randint(50, 20000)
        cost = price * 6 // 10
        plu = str(10000 + i // 12) if weighed else ""
        lines.append(
            f"P{i:06d},{body}{gtin_check_digit(body)},{plu},Product {i},商品{i}号,{CATEGORIES[i % 40][0]},"
            f"{price // 100}.{price % 100:02d},{cost // 100}.{cost % 100:02d},"
            f"{'reduced' if i % 3 == 0 else 'standard'},{'weight' if weighed else 'unit'},{18 if i % 97 == 0 else 0},1"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def bench_import(path: Path, rng: random.Random, n: int) -> tuple[CatalogueStore, float]:
    store = CatalogueStore(path, clock=FakeClock())
    for code, en, zh in CATEGORIES:
        store.put_category(Category(code, en, zh))
    data = make_csv(rng, n)
    service = ImportService(store)
    t0 = time.perf_counter()
    preview = service.preview(data, "csv")
    t1 = time.perf_counter()
    if not preview.ok:
        raise SystemExit(f"generated CSV has errors: {preview.errors[:5]}")
    result = service.confirm(preview.token)
    t2 = time.perf_counter()
    print(f"import {n:,} rows ({len(data) / 1e6:.1f} MB CSV): preview {t1 - t0:.2f} s, confirm {t2 - t1:.2f} s, total {t2 - t0:.2f} s -> version {result.version}")
    return store, t2 - t0


def bench_snapshot_inprocess(store: CatalogueStore, kiosks: int) -> tuple[float, list[rf.ReplicaState], CatalogueDistributor]:
    dist = CatalogueDistributor(store)
    t0 = time.perf_counter()
    chunks = dist.snapshot()
    encode = time.perf_counter() - t0
    size = sum(len(c) for c in chunks)
    states, applies = [], []
    for _ in range(kiosks):
        t = time.perf_counter()
        state = rf.empty_state()
        for c in chunks:
            state = rf.apply(state, c)
        applies.append(time.perf_counter() - t)
        states.append(state)
    if not all(s.complete and len(s.products) == len(states[0].products) for s in states):
        raise SystemExit("a kiosk did not end with the full catalogue")
    t = time.perf_counter()
    items = rf.to_items(states[0])
    to_items = time.perf_counter() - t
    print(
        f"snapshot: {len(chunks)} chunks, {size / 1e6:.2f} MB compressed, encode {encode:.2f} s; "
        f"kiosk apply mean {statistics.mean(applies):.2f} s, max {max(applies):.2f} s, "
        f"{kiosks} kiosks in turn {sum(applies):.1f} s; to {len(items):,} CatalogueItems {to_items:.2f} s"
    )
    from kiosk.catalogue_replica import CatalogueReplica

    t = time.perf_counter()
    CatalogueReplica(items, version=str(states[0].version))
    print(f"  one kiosk building its CatalogueReplica (search keys, pinyin) from {len(items):,} items: {time.perf_counter() - t:.1f} s")
    return encode + max(applies), states, dist


def bench_price_changes(store: CatalogueStore, dist: CatalogueDistributor, states: list[rf.ReplicaState], rng: random.Random, changes: int) -> float:
    dist.delta(states[0].version)  # warm the distributor's digest cache, as a running edge has it
    latencies, all_kiosks = [], []
    n = store.count()
    for _ in range(changes):
        sku = f"P{rng.randrange(n):06d}"
        t0 = time.perf_counter()
        store.update_price(sku, Money(rng.randint(50, 20000), store.currency))
        delta = dist.delta(states[0].version)
        states[0] = rf.apply(states[0], delta)
        latencies.append(time.perf_counter() - t0)
        t1 = time.perf_counter()
        for i in range(1, len(states)):
            states[i] = rf.apply(states[i], delta)
        all_kiosks.append(time.perf_counter() - t1 + latencies[-1])
    if any(s.version != store.version() for s in states):
        raise SystemExit("a kiosk missed a price change")
    p95 = percentile(latencies, 95) * 1000
    print(
        f"price change -> delta -> kiosk: median {statistics.median(latencies) * 1000:.1f} ms, p95 {p95:.1f} ms; "
        f"all {len(states)} kiosks p95 {percentile(all_kiosks, 95) * 1000:.1f} ms ({changes} changes)"
    )
    return p95


STORE = "bench"


def _kiosk_process(endpoints: list[tuple[str, object]], data_dir: str, events: "mp.Queue[tuple]", stop: "mp.Event") -> None:  # type: ignore[type-arg]
    """One process hosting several kiosks; reports (kiosk, what, version, monotonic time)."""
    from kiosk.catalogue_sync import CatalogueSync, MqttCatalogueSync, SqliteReplicaStore
    from retail.clock import SystemClock

    links = []
    for kiosk_id, endpoint in endpoints:
        store = SqliteReplicaStore(Path(data_dir) / kiosk_id / "catalogue.sqlite3")

        def report(state: rf.ReplicaState, kiosk_id: str = kiosk_id) -> None:
            events.put((kiosk_id, "version", state.version, time.monotonic()))

        sync = CatalogueSync(store, store_id=STORE, kiosk_id=kiosk_id, clock=SystemClock(), on_state=report)
        link = MqttCatalogueSync(endpoint, sync).start()  # type: ignore[arg-type]
        links.append((link, store))
    for link, _ in links:
        if link.wait_connected(30):
            events.put((link.sync.kiosk_id, "connected", 0, time.monotonic()))
    stop.wait()
    for link, store in links:
        link.close()
        store.close()


class KioskFleet:
    """``n`` kiosks over ``procs`` processes, connected to ``broker``."""

    def __init__(self, broker: LocalBroker, n: int, procs: int, data_dir: Path) -> None:
        ctx = mp.get_context("spawn")
        self.events = ctx.Queue()
        self.stop = ctx.Event()
        self.versions: dict[str, tuple[int, float]] = {}
        ids = [f"kiosk-{i:02d}" for i in range(1, n + 1)]
        endpoints = [(k, broker.kiosk_endpoint(k)) for k in ids]
        self.procs = [
            ctx.Process(target=_kiosk_process, args=(endpoints[p::procs], str(data_dir), self.events, self.stop), daemon=True)
            for p in range(procs)
        ]
        for proc in self.procs:
            proc.start()
        connected: set[str] = set()
        deadline = time.monotonic() + 60
        while len(connected) < n:
            kiosk, what, _, _ = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if what == "connected":
                connected.add(kiosk)
        self.n = n

    def wait_all(self, version: int, timeout: float = 120.0) -> list[float]:
        """Monotonic times at which each kiosk first reached ``version``."""
        deadline = time.monotonic() + timeout
        while sum(1 for v, _ in self.versions.values() if v >= version) < self.n:
            try:
                kiosk, what, v, at = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue_mod.Empty:
                raise SystemExit(f"kiosks did not reach version {version} within {timeout} s") from None
            if what == "version" and v > self.versions.get(kiosk, (0, 0.0))[0]:
                self.versions[kiosk] = (v, at)
        return [at for v, at in self.versions.values()]

    def close(self) -> None:
        self.stop.set()
        for proc in self.procs:
            proc.join(timeout=15)
            if proc.is_alive():
                proc.terminate()


def bench_mqtt(store: CatalogueStore, tmp: Path, rng: random.Random, kiosks: int, changes: int, procs: int) -> tuple[float, float]:
    """The MQTT leg: snapshot to ``kiosks`` kiosks, then ``changes`` price changes."""
    config = StoreBrokerConfig(store_id=STORE, data_dir=tmp / "broker", kiosk_bind="127.0.0.1")
    broker = LocalBroker(config, die_with_parent=True)
    broker.prepare()
    for i in range(1, kiosks + 1):
        broker.registry.add_kiosk(f"kiosk-{i:02d}")
    with broker:
        fleet = KioskFleet(broker, kiosks, procs, tmp / "kiosks")
        bus = MqttCatalogueBus(broker.edge_endpoint(), store_id=STORE)
        publisher = CataloguePublisher(store, bus, store_id=STORE, clock=FakeClock(), poll_s=0.05)
        try:
            version = store.version()
            t0 = time.monotonic()
            publisher.start()
            times = fleet.wait_all(version)
            snapshot_s = max(times) - t0
            per_kiosk = sorted(t - t0 for t in times)
            status = publisher.status()
            print(
                f"snapshot over MQTT (TLS) to {kiosks} kiosks in {procs} processes on {os.cpu_count()} cores: "
                f"last kiosk {snapshot_s:.2f} s, median kiosk {statistics.median(per_kiosk):.2f} s, first {per_kiosk[0]:.2f} s "
                f"({status.snapshots} snapshot published)"
            )
            latencies = []
            n = store.count()
            for _ in range(changes):
                sku = f"P{rng.randrange(n):06d}"
                t = time.monotonic()
                version = store.update_price(sku, Money(rng.randint(50, 20000), store.currency))
                times = fleet.wait_all(version)
                latencies.append(max(times) - t)
            p95 = percentile(latencies, 95) * 1000
            print(
                f"price change -> visible on all {kiosks} kiosks over MQTT: median {statistics.median(latencies) * 1000:.0f} ms, "
                f"p95 {p95:.0f} ms, max {max(latencies) * 1000:.0f} ms ({changes} changes, publisher poll 50 ms; "
                f"{publisher.status().deltas} deltas)"
            )
        finally:
            publisher.close()
            bus.close()
            fleet.close()
    return snapshot_s, p95


def generate_year(path: Path, rng: random.Random, lines_target: int, skus: int) -> tuple[date, int, int]:
    db = connect(path)
    migrate(db)
    first = date(2025, 1, 1)
    sales_per_day = lines_target // 4 // 365
    t0 = time.perf_counter()
    sale_id = 0
    line_count = 0
    db.execute("BEGIN IMMEDIATE")
    for d in range(365):
        day = first + timedelta(days=d)
        sales_rows, line_rows = [], []
        for k in range(sales_per_day):
            sale_id += 1
            hour = rng.choice((8, 9, 10, 11, 12, 12, 13, 16, 17, 17, 18, 18, 19, 20, 21))
            n_lines = rng.randint(1, 7)
            lines = []
            total = 0
            for ln in range(1, n_lines + 1):
                sku = f"P{min(int(rng.paretovariate(1.2)) * 7 % skus, skus - 1):06d}"
                price = rng.randint(100, 5000)
                qty = rng.randint(1, 3)
                total += price * qty
                lines.append((sale_id, ln, sku, None, sku, qty, None, price, price * qty, 0, price * qty, 1300, price * qty * 13 // 113))
            finished = datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=timezone(timedelta(hours=8)))
            method = rng.choice(METHODS)
            body = json.dumps({"finished_at": finished.isoformat(), "payments": [{"method": method, "amount_minor": total}]})
            sales_rows.append((sale_id, f"k{k % 8}", f"sale-{sale_id}", sale_id, "h", body, day.isoformat(), total, "CNY", finished.isoformat()))
            line_rows += lines
        db.executemany(
            "INSERT INTO sales (id, kiosk_id, sale_id, seq, body_hash, body, business_date, total_minor, currency, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            sales_rows,
        )
        db.executemany("INSERT INTO sale_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", line_rows)
        line_count += len(line_rows)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    print(f"generated a year: {sale_id:,} sales, {line_count:,} sale lines in {time.perf_counter() - t0:.1f} s")
    return first, sale_id, line_count


def bench_reports(path: Path, first: date, rng: random.Random, rounds: int) -> float:
    db = connect(path)
    t = time.perf_counter()
    reports.refresh_rollups(db)
    print(f"first daily roll-up of the year: {time.perf_counter() - t:.1f} s (later refreshes fold in new sales only)")
    funcs = [reports.sales_by_day, reports.sales_by_hour, reports.sales_by_category, reports.sales_by_payment, reports.top_sellers]
    per: dict[str, list[float]] = {}
    for _ in range(rounds):
        for span_name, span in (("day", 0), ("week", 6), ("month", 30)):
            start = first + timedelta(days=rng.randrange(365 - span))
            for f in funcs:
                t = time.perf_counter()
                rows = f(db, start, start + timedelta(days=span))
                per.setdefault(f"{f.__name__}/{span_name}", []).append(time.perf_counter() - t)
                if not rows:
                    raise SystemExit(f"{f.__name__} returned nothing")
        t = time.perf_counter()
        reports.sales_by_month(db, first, first + timedelta(days=364))
        per.setdefault("sales_by_month/year", []).append(time.perf_counter() - t)
    db.close()
    every = [v for values in per.values() for v in values]
    for name, values in sorted(per.items()):
        print(f"  {name:28s} median {statistics.median(values) * 1000:7.1f} ms  p95 {percentile(values, 95) * 1000:7.1f} ms")
    p95 = percentile(every, 95) * 1000
    print(f"reports: {len(every)} queries, p95 {p95:.1f} ms")
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--kiosks", type=int, default=20)
    parser.add_argument("--price-changes", type=int, default=50, help="in-process reference run")
    parser.add_argument("--mqtt-price-changes", type=int, default=20)
    parser.add_argument("--kiosk-processes", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--sale-lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    print(f"tillpi back-office benchmark on {platform.machine()} / Python {platform.python_version()}")
    rng = random.Random(20260105)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "edge.db"
        store, import_s = bench_import(path, rng, args.products)
        bench_snapshot_inprocess_s, states, dist = bench_snapshot_inprocess(store, args.kiosks)
        print(f"  (in process, no broker: encode + slowest kiosk {bench_snapshot_inprocess_s:.2f} s)")
        bench_price_changes(store, dist, states, rng, args.price_changes)
        snapshot_s, price_ms = bench_mqtt(store, Path(tmp), rng, args.kiosks, args.mqtt_price_changes, args.kiosk_processes)
        store.close()
        first, _, _ = generate_year(path, rng, args.sale_lines, args.products)
        report_ms = bench_reports(path, first, rng, args.rounds)
    targets = {"snapshot_s": 10.0, "price_change_ms": 2000.0, "report_p95_ms": 200.0}
    result = {"import_s": round(import_s, 2), "snapshot_s": round(snapshot_s, 2), "price_change_ms": round(price_ms, 1), "report_p95_ms": round(report_ms, 1)}
    for key, limit in targets.items():
        print(f"{key}: {result[key]} (target <= {limit}) {'OK' if result[key] <= limit else 'OVER'}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
