"""Benchmark of the sale path: 20 simulated kiosks -> private Mosquitto -> edge ingest -> acks.

    python tests/bench/bench_bus.py [--kiosks 20] [--burst 250] [--paced-seconds 10] [--rate 5]

1. burst: every kiosk records ``--burst`` sales as fast as it can; committed-and-acked sales
   per second (first record to last application ack).
2. bare ceiling: plain paho QoS 1 publish -> receive through the same broker (same TLS kiosk
   listener, ``event`` topics nobody else consumes), the same number of messages.
3. paced: every kiosk sells ``--rate`` sales/s for ``--paced-seconds``; p50/p99 from the
   journal commit (the moment the sale is handed to the bus) to the application ack.
Lost = journal sales missing from the ledger; duplicated = ledger rows beyond one per sale.
Readable figures first; the LAST line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from broker.config import StoreBrokerConfig  # noqa: E402
from broker.contract import kiosk_filter, kiosk_topic  # noqa: E402
from broker.launcher import LocalBroker  # noqa: E402
from edge.bus import EdgeMqttIngest  # noqa: E402
from edge.ingest import IngestCore  # noqa: E402
from edge.ledger import Ledger  # noqa: E402
from kiosk.bus import MqttKioskBus, build_client  # noqa: E402
from kiosk.outbox import SaleOutbox  # noqa: E402
from kiosk.simulated_seller import random_sale_draft  # noqa: E402
from retail.clock import SystemClock  # noqa: E402

STORE = "s1"


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


class Shop:
    def __init__(self, folder: Path, kiosks: int) -> None:
        self.clock = SystemClock()
        self.broker = LocalBroker(StoreBrokerConfig(store_id=STORE, data_dir=folder / "broker", kiosk_bind="127.0.0.1",
                                                     max_queued_messages=100_000))
        self.broker.prepare()
        self.ids = [f"kiosk-{i:02d}" for i in range(1, kiosks + 1)]
        for kid in self.ids:
            self.broker.registry.add_kiosk(kid)
        self.broker.start()
        self.ledger = Ledger(folder / "edge" / "ledger.sqlite3", clock=self.clock)
        self.edge = EdgeMqttIngest(self.broker.edge_endpoint(), IngestCore(self.ledger, store_id=STORE, clock=self.clock),
                                   store_id=STORE, clock=self.clock).start()
        self.edge.wait_connected(20)
        self.outboxes = [SaleOutbox(folder / "kiosks" / f"{kid}.sqlite3", store_id=STORE, kiosk_id=kid, clock=self.clock)
                         for kid in self.ids]
        self.buses = [MqttKioskBus(self.broker.kiosk_endpoint(kid), box, clock=self.clock, resend_after_s=10.0).start()
                      for kid, box in zip(self.ids, self.outboxes)]
        for bus in self.buses:
            bus.wait_connected(30)

    def pending(self) -> int:
        return sum(box.pending_count() for box in self.outboxes)

    def sell(self, per_kiosk: int, rate: float | None, seed: int) -> None:
        def run(index: int) -> None:
            rng = random.Random(seed * 1000 + index)
            box = self.outboxes[index]
            start = time.monotonic()
            for n in range(per_kiosk):
                if rate:
                    due = start + n / rate + rng.uniform(0, 0.5 / rate)
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                box.record_sale(random_sale_draft(rng, store_id=STORE, kiosk_id=box.kiosk_id, clock=self.clock))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(self.outboxes))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def latencies_ms(self, from_seq: dict[str, int]) -> list[float]:
        out: list[float] = []
        for box in self.outboxes:
            conn = sqlite3.connect(box._path)  # read-only look at the journal's timestamps
            rows = conn.execute("SELECT recorded_at, acked_at FROM sales WHERE seq > ? AND acked_at IS NOT NULL",
                                (from_seq[box.kiosk_id],)).fetchall()
            conn.close()
            out.extend((datetime.fromisoformat(a) - datetime.fromisoformat(r)).total_seconds() * 1000 for r, a in rows)
        return out

    def audit(self) -> tuple[int, int]:
        lost = duplicated = 0
        for box in self.outboxes:
            journal = set(box.states())
            stored = [s.sale_id for s in self.ledger.sales(box.kiosk_id)]
            lost += len(journal - set(stored))
            duplicated += len(stored) - len(set(stored))
            seqs = [s.seq for s in self.ledger.sales(box.kiosk_id)]
            duplicated += len(seqs) - len(set(seqs))
        return lost, duplicated

    def close(self) -> None:
        for bus in self.buses:
            bus.close()
        self.edge.close()
        for box in self.outboxes:
            box.close()
        self.ledger.close()
        self.broker.close()


def bare_rate(shop: Shop, total: int) -> float:
    """Plain paho QoS 1 publish -> receive through the same broker and listener."""
    received = threading.Semaphore(0)
    count = [0]
    lock = threading.Lock()

    def on_message(client, userdata, msg) -> None:  # noqa: ANN001
        with lock:
            count[0] += 1
            if count[0] == total:
                received.release()

    sub = build_client(shop.broker.edge_endpoint(), "bench-bare-sub")
    ready = threading.Event()
    sub.on_message = on_message
    sub.on_subscribe = lambda *a: ready.set()
    sub.on_connect = lambda c, *a: c.subscribe(kiosk_filter(STORE, "event"), qos=1)
    sub.connect(shop.broker.host, shop.broker.edge_port)
    sub.loop_start()
    ready.wait(10)
    publishers = []
    for kid in shop.ids:
        client = build_client(shop.broker.kiosk_endpoint(kid), f"bench-bare-{kid}")
        client.max_inflight_messages_set(20)
        client.connect(shop.broker.kiosk_host, shop.broker.kiosk_port)
        client.loop_start()
        publishers.append((kid, client))
    time.sleep(0.5)
    payload = b"x" * 1200  # about the size of a sale
    per = total // len(publishers)

    def pub(kid: str, client: mqtt.Client) -> None:
        topic = kiosk_topic(STORE, kid, "event")
        for _ in range(per):
            info = client.publish(topic, payload, qos=1)
            while info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                time.sleep(0.001)
                info = client.publish(topic, payload, qos=1)

    start = time.perf_counter()
    threads = [threading.Thread(target=pub, args=p) for p in publishers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = received.acquire(timeout=120)
    elapsed = time.perf_counter() - start
    for _, client in publishers:
        client.disconnect()
        client.loop_stop()
    sub.disconnect()
    sub.loop_stop()
    if not ok:
        print(f"  bare: only {count[0]} of {per * len(publishers)} received", flush=True)
    return count[0] / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiosks", type=int, default=20)
    parser.add_argument("--burst", type=int, default=250, help="sales per kiosk in the burst run")
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=5.0, help="sales per second per kiosk in the paced run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    with tempfile.TemporaryDirectory(prefix="bench-bus-") as tmp:
        shop = Shop(Path(tmp), args.kiosks)
        try:
            total = args.kiosks * args.burst
            print(f"bench-bus: {args.kiosks} kiosks, private Mosquitto, edge ingest with SQLite WAL/full sync", flush=True)
            start = time.perf_counter()
            shop.sell(args.burst, None, seed=1)
            recorded = time.perf_counter() - start
            done = wait_for(lambda: shop.pending() == 0, 300)
            elapsed = time.perf_counter() - start
            acked_per_s = total / elapsed if done else (total - shop.pending()) / elapsed
            print(f"burst : {total} sales recorded in {recorded:.2f} s, all acked in {elapsed:.2f} s "
                  f"-> {acked_per_s:,.0f} committed-and-acked sales/s{'' if done else ' (NOT DRAINED)'}", flush=True)
            burst_lat = shop.latencies_ms({kid: 0 for kid in shop.ids})
            print(f"        publish->ack under burst load: p50 {percentile(burst_lat, 50):.1f} ms, "
                  f"p99 {percentile(burst_lat, 99):.1f} ms", flush=True)

            bare = bare_rate(shop, total)
            print(f"bare  : paho QoS 1 publish->receive ceiling {bare:,.0f} msg/s "
                  f"(sale path = {100 * acked_per_s / bare:.0f} % of it)", flush=True)

            marks = {box.kiosk_id: box.last_seq for box in shop.outboxes}
            per = int(args.rate * args.paced_seconds)
            shop.sell(per, args.rate, seed=2)
            wait_for(lambda: shop.pending() == 0, 120)
            lat = shop.latencies_ms(marks)
            p50, p99 = percentile(lat, 50), percentile(lat, 99)
            print(f"paced : {args.kiosks} kiosks x {args.rate:g} sales/s for {args.paced_seconds:g} s = {len(lat)} sales; "
                  f"commit->ack p50 {p50:.1f} ms, p95 {percentile(lat, 95):.1f} ms, p99 {p99:.1f} ms, "
                  f"max {max(lat) if lat else float('nan'):.1f} ms, mean {statistics.fmean(lat) if lat else float('nan'):.1f} ms",
                  flush=True)
            lost, duplicated = shop.audit()
            print(f"audit : {shop.ledger.sale_count()} sales in the ledger; lost {lost}, duplicated {duplicated}", flush=True)
            targets = acked_per_s >= 0.5 * bare and p99 <= 50 and lost == 0 and duplicated == 0
            print(f"targets (>= 50 % of bare, p99 <= 50 ms, 0 lost, 0 duplicated): {'met' if targets else 'NOT met'}", flush=True)
        finally:
            shop.close()
    print(json.dumps({"acked_per_s": round(acked_per_s, 1), "bare_per_s": round(bare, 1), "p50_ms": round(p50, 2),
                      "p99_ms": round(p99, 2), "lost": lost, "duplicated": duplicated}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
