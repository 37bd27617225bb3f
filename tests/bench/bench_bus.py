"""Benchmark of the sale path: simulated kiosks -> private Mosquitto -> edge ingest -> acks.

    python tests/bench/bench_bus.py [--kiosks 20] [--kiosk-procs 4] [--burst 250] [--rounds 5]
                                    [--paced-seconds 10] [--rate 5]

The edge (ingest + SQLite ledger, WAL, synchronous=FULL) runs in this process, as on the edge
node; the kiosks run in ``--kiosk-procs`` separate processes (each a real sale journal and a
real MqttKioskBus over the TLS kiosk listener), as kiosks are separate machines in a shop.

1. burst: every kiosk's journal already holds ``--burst`` recorded sales (recording happens
   at shoppers' pace in a shop, and is not measured here); then every kiosk's bus starts at
   once. Measured: sales per second from the moment the first kiosk's link is up until the
   last kiosk journal has no pending sale, i.e. publish -> edge validated, committed ->
   application ack -> applied in the kiosk journal, for every sale. (The bare run's clock
   starts with its publishers connected; the time from the start signal, the 20 TLS
   connects included, is printed beside.)
2. bare ceiling: plain paho QoS 1 publish -> receive through the same broker and the same
   TLS kiosk listener, the same number of publishers in the same processes, one subscriber
   in this process (``event`` topics nobody else consumes), the same number of messages,
   no application work.
   After an unmeasured warm-up (20 sales per kiosk through both paths: first imports, TLS
   contexts, statement caches), burst and bare alternate for ``--rounds`` rounds (bare first
   in even rounds; the journals are filled again before each round); the headline figures
   are the medians, and each round's ratio is printed, so a burst of other work on the
   machine shows as a spread rather than moving the result.
3. paced: every kiosk *records live* ``--rate`` sales/s for ``--paced-seconds``; p50/p99
   from the journal commit (the moment the sale is handed to the bus) to the application
   ack, both stamped in the kiosk journal.
Lost = journal sales missing from the ledger; duplicated = ledger rows beyond one per sale.
CPU seconds per process group are printed per sale, and an fsync probe of the same disk runs
beside the burst and the paced run (other work on the machine shows there). Readable figures
first; the LAST line is one JSON object.

For experiments: ``$EDGE_OPTS`` / ``$KIOSK_OPTS`` (JSON) are passed as keyword arguments to
EdgeMqttIngest / MqttKioskBus (e.g. ``EDGE_OPTS='{"receive_maximum": 100}'``);
``$BENCH_PROFILE=/tmp/p`` writes cProfile statistics of every thread to ``/tmp/p.edge.pstats``
and ``/tmp/p.kiosks-<pid>.pstats``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
import psutil  # noqa: E402

from broker.config import StoreBrokerConfig  # noqa: E402
from broker.contract import kiosk_filter, kiosk_topic  # noqa: E402
from broker.endpoint import MqttEndpoint  # noqa: E402
from broker.launcher import LocalBroker  # noqa: E402
from edge.bus import EdgeMqttIngest  # noqa: E402
from edge.ingest import IngestCore  # noqa: E402
from edge.ledger import Ledger  # noqa: E402
from edge.runtime import tune_gc  # noqa: E402
from broker.paho_client import build_client  # noqa: E402
from kiosk.bus import MqttKioskBus  # noqa: E402
from kiosk.outbox import SaleOutbox  # noqa: E402
from kiosk.simulated_seller import random_sale_draft  # noqa: E402
from retail.clock import SystemClock  # noqa: E402

STORE = "s1"
EDGE_OPTS = json.loads(os.environ.get("EDGE_OPTS", "{}"))


def profile_threads() -> Any:
    """With ``$BENCH_PROFILE`` set: cProfile every thread started from now on (and this one);
    the returned function writes the merged statistics to ``$BENCH_PROFILE.<tag>.pstats``."""
    import cProfile
    import pstats

    profiles: list[cProfile.Profile] = []
    original = threading.Thread.run

    def run(self: threading.Thread) -> None:
        prof = cProfile.Profile(time.thread_time)  # CPU, not wall time: the machine may be busy
        profiles.append(prof)
        prof.enable()
        try:
            original(self)
        finally:
            prof.disable()

    threading.Thread.run = run  # type: ignore[method-assign]
    main = cProfile.Profile(time.thread_time)
    profiles.append(main)
    main.enable()

    def dump(tag: str) -> None:
        main.disable()
        stats = pstats.Stats(profiles[0])
        for prof in profiles[1:]:
            try:
                stats.add(prof)
            except TypeError:  # a thread that never ran
                pass
        stats.dump_stats(f"{os.environ['BENCH_PROFILE']}.{tag}.pstats")

    return dump


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


# ---------------------------------------------------------------------------------------------
# the kiosk worker process: several kiosks, driven by one-line commands on stdin


def _endpoint(d: dict[str, Any]) -> MqttEndpoint:
    return MqttEndpoint(d["host"], d["port"], d["username"], d["password"],
                        ca_file=Path(d["ca_file"]) if d["ca_file"] else None,
                        cert_file=Path(d["cert_file"]) if d["cert_file"] else None,
                        key_file=Path(d["key_file"]) if d["key_file"] else None)


def worker(config: dict[str, Any]) -> int:
    """One kiosk process: answers ``record``, ``start``, ``stop``, ``sell``, ``bare_connect``,
    ``bare_go`` and ``quit``."""
    dump = profile_threads() if os.environ.get("BENCH_PROFILE") else None
    clock = SystemClock()
    data = Path(config["data"])
    kiosks = config["kiosks"]
    boxes = [SaleOutbox(data / f"{k['id']}.sqlite3", store_id=STORE, kiosk_id=k["id"], clock=clock) for k in kiosks]
    kopts = json.loads(os.environ.get("KIOSK_OPTS", "{}"))

    def new_buses() -> list[MqttKioskBus]:
        return [MqttKioskBus(_endpoint(k["endpoint"]), box, clock=clock, resend_after_s=10.0, **kopts)
                for k, box in zip(kiosks, boxes)]

    buses = new_buses()

    def reply(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def drained() -> float:
        """When the last of this process's journals had no pending sale (polled every 10 ms,
        one journal at a time: the others are only looked at once it is drained, so the
        watching costs little CPU)."""
        left = list(boxes)
        while True:
            while left and not left[0].has_pending():
                left.pop(0)
            if not left:
                return time.monotonic()
            time.sleep(0.01)

    def record(index: int, n: int, seed: int, rate: float) -> None:
        rng = random.Random(seed * 1000 + index)
        box = boxes[index]
        start = time.monotonic()
        for i in range(n):
            if rate:
                due = start + i / rate + rng.uniform(0, 0.5 / rate)
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            box.record_sale(random_sale_draft(rng, store_id=STORE, kiosk_id=box.kiosk_id, clock=clock))

    def each(target: Any, *args: Any) -> None:
        threads = [threading.Thread(target=target, args=(i, *args)) for i in range(len(boxes))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    bare: list[tuple[str, mqtt.Client]] = []
    reply("ready")
    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "record":  # fill the journals before the bus starts (not measured)
            for i in range(len(boxes)):
                record(i, int(args[0]), int(args[1]), 0.0)
            reply("recorded")
        elif cmd == "start":  # replies when drained, and when the first of its buses was connected
            linked: list[float] = []

            def stamp(bus: MqttKioskBus) -> None:
                if bus.wait_connected(60):
                    linked.append(time.monotonic())

            watchers = [threading.Thread(target=stamp, args=(bus,)) for bus in buses]
            for t in watchers:
                t.start()
            for bus in buses:
                bus.start()
            end = drained()
            for t in watchers:
                t.join()
            reply(f"drained {end:.6f} {min(linked, default=end):.6f}")
        elif cmd == "stop":  # the buses go; the next "start" is a fresh burst
            for bus in buses:
                bus.close()
            buses = new_buses()
            reply("stopped")
        elif cmd == "sell":  # live recording at a shopper's pace, the bus running
            each(record, int(args[0]), int(args[1]), float(args[2]))
            reply(f"drained {drained():.6f}")
        elif cmd == "bare_connect":
            for k in kiosks:
                client = build_client(_endpoint(k["endpoint"]), f"bench-bare-{k['id']}")
                client.max_inflight_messages_set(20)
                client.connect(k["endpoint"]["host"], k["endpoint"]["port"])
                client.loop_start()
                bare.append((k["id"], client))
            time.sleep(0.5)
            reply("connected")
        elif cmd == "bare_go":
            per, payload = int(args[0]), b"x" * int(args[1])

            def pub(index: int) -> None:
                kid, client = bare[index]
                topic = kiosk_topic(STORE, kid, "event")
                for _ in range(per):
                    info = client.publish(topic, payload, qos=1)
                    while info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                        time.sleep(0.001)
                        info = client.publish(topic, payload, qos=1)

            each(pub)
            reply("sent")
        elif cmd == "quit":
            break
    for _, client in bare:
        client.disconnect()
        client.loop_stop()
    for bus in buses:
        bus.close()
    for box in boxes:
        box.close()
    if dump is not None:
        dump(f"kiosks-{os.getpid()}")
    return 0


class KioskProcess:
    """The bench's handle on one kiosk worker process."""

    def __init__(self, folder: Path, kiosks: list[tuple[str, MqttEndpoint]]) -> None:
        def ep(e: MqttEndpoint) -> dict[str, Any]:
            return {"host": e.host, "port": e.port, "username": e.username, "password": e.password,
                    "ca_file": str(e.ca_file) if e.ca_file else None,
                    "cert_file": str(e.cert_file) if e.cert_file else None,
                    "key_file": str(e.key_file) if e.key_file else None}

        self.ids = [kid for kid, _ in kiosks]
        self.paths = [folder / f"{kid}.sqlite3" for kid in self.ids]
        config = {"data": str(folder), "kiosks": [{"id": kid, "endpoint": ep(e)} for kid, e in kiosks]}
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(config)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.ps = psutil.Process(self.proc.pid)
        self.expect("ready")

    def send(self, command: str) -> None:
        if self.proc.stdin is None:
            raise RuntimeError("kiosk worker has no stdin")
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def expect(self, word: str) -> str:
        if self.proc.stdout is None:
            raise RuntimeError("kiosk worker has no stdout")
        line = self.proc.stdout.readline().strip()
        if not line.startswith(word):
            raise RuntimeError(f"kiosk worker said {line!r}, expected {word!r}")
        return line

    def cpu(self) -> float:
        t = self.ps.cpu_times()
        return t.user + t.system

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def each(procs: list[KioskProcess], command: str, word: str) -> list[str]:
    for p in procs:
        p.send(command)
    return [p.expect(word) for p in procs]


# ---------------------------------------------------------------------------------------------
# the shop


class Shop:
    def __init__(self, folder: Path, kiosks: int, procs: int) -> None:
        self.clock = SystemClock()
        self.broker = LocalBroker(StoreBrokerConfig(store_id=STORE, data_dir=folder / "broker", kiosk_bind="127.0.0.1",
                                                     max_queued_messages=100_000))
        self.broker.prepare()
        self.ids = [f"kiosk-{i:02d}" for i in range(1, kiosks + 1)]
        for kid in self.ids:
            self.broker.registry.add_kiosk(kid)
        self.broker.start()
        self.mosquitto = psutil.Process(self.broker.pid)
        self.bare_connected = False
        self.ledger = Ledger(folder / "edge" / "ledger.sqlite3", clock=self.clock)
        self.edge = EdgeMqttIngest(self.broker.edge_endpoint(), IngestCore(self.ledger, store_id=STORE, clock=self.clock),
                                   store_id=STORE, clock=self.clock, **EDGE_OPTS).start()
        self.edge.wait_connected(20)
        tune_gc()  # this process is the edge: tuned as ``tillpi edge run`` tunes its process
        (folder / "kiosks").mkdir()
        groups = [self.ids[i::procs] for i in range(procs)]
        self.procs: list[KioskProcess] = []
        for group in groups:
            if group:
                self.procs.append(KioskProcess(folder / "kiosks", [(kid, self.broker.kiosk_endpoint(kid)) for kid in group]))

    def journal_paths(self) -> list[tuple[str, Path]]:
        return [(kid, path) for p in self.procs for kid, path in zip(p.ids, p.paths)]

    def journal_rows(self, sql: str, args: tuple[Any, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for kid, path in self.journal_paths():
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # a read-only look at the journal
            out[kid] = conn.execute(sql, args).fetchall()
            conn.close()
        return out

    def cpu(self) -> dict[str, float]:
        me = psutil.Process().cpu_times()
        m = self.mosquitto.cpu_times()
        return {"edge": me.user + me.system, "mosquitto": m.user + m.system, "kiosks": sum(p.cpu() for p in self.procs)}

    def audit(self) -> tuple[int, int]:
        lost = duplicated = 0
        for kid, rows in self.journal_rows("SELECT sale_id FROM sales").items():
            journal = {r[0] for r in rows}
            stored = self.ledger.sales(kid)
            ids = [s.sale_id for s in stored]
            lost += len(journal - set(ids))
            duplicated += len(ids) - len(set(ids))
            seqs = [s.seq for s in stored]
            duplicated += len(seqs) - len(set(seqs))
        return lost, duplicated

    def close(self) -> None:
        for p in self.procs:
            p.close()
        self.edge.close()
        self.ledger.close()
        self.broker.close()


class FsyncProbe:
    """Writes and fsyncs 4 KiB every 50 ms in the bench's folder while it runs: how long the
    disk takes to sync *now* (the sale path syncs the kiosk journal and the edge ledger, so a
    busy disk shows in its latency; this says how busy)."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / "fsync-probe.bin"
        self._stop = threading.Event()
        self.samples: list[float] = []
        self._thread = threading.Thread(target=self._run, name="fsync-probe", daemon=True)

    def __enter__(self) -> FsyncProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while not self._stop.wait(0.05):
                os.write(fd, b"x" * 4096)
                t = time.perf_counter()
                os.fsync(fd)
                self.samples.append(1000 * (time.perf_counter() - t))
        finally:
            os.close(fd)

    def line(self) -> str:
        if not self.samples:
            return "fsync : no sample"
        return (f"fsync : {len(self.samples)} probes of this disk meanwhile: p50 {percentile(self.samples, 50):.1f} ms, "
                f"p99 {percentile(self.samples, 99):.1f} ms, max {max(self.samples):.1f} ms")


def cpu_line(before: dict[str, float], after: dict[str, float], n: int) -> str:
    parts = [f"{k} {1000 * (after[k] - before[k]) / n:.3f}" for k in before]
    total = sum(after[k] - before[k] for k in before)
    return f"CPU ms per message: {', '.join(parts)}; total {1000 * total / n:.3f}"


def measure_burst(shop: Shop, total: int, folder: Path) -> float:
    """Start every kiosk's bus on full journals; sales per second until all are drained."""
    cpu0 = shop.cpu()
    batches0, processed0 = shop.edge.batches, shop.edge.processed
    start = time.monotonic()
    with FsyncProbe(folder) as probe:
        answers = [line.split() for line in each(shop.procs, "start", "drained")]
    end, linked = max(float(a[1]) for a in answers), min(float(a[2]) for a in answers)
    elapsed = end - linked
    cpu1 = shop.cpu()
    rate = total / elapsed
    batches, processed = shop.edge.batches - batches0, shop.edge.processed - processed0
    print(f"  burst : {total} journalled sales published, committed by the edge and acked back into the "
          f"journals in {elapsed:.2f} s -> {rate:,.0f} sales/s ({end - start:.2f} s from the start signal, "
          f"the kiosks' TLS connects included)", flush=True)
    print(f"          {cpu_line(cpu0, cpu1, total)}", flush=True)
    print(f"          edge: {processed} messages in {batches} ledger transactions (mean {processed / max(batches, 1):.1f})",
          flush=True)
    print(f"          {probe.line()}", flush=True)
    return rate


def bare_rate(shop: Shop, total: int, payload_size: int) -> tuple[float, int]:
    """Plain paho QoS 1 publish -> receive through the same broker and listener."""
    done = threading.Event()
    count = [0]
    lock = threading.Lock()

    def on_message(client, userdata, msg) -> None:  # noqa: ANN001
        with lock:
            count[0] += 1
            if count[0] == total:
                done.set()

    sub = build_client(shop.broker.edge_endpoint(), "bench-bare-sub")
    ready = threading.Event()
    sub.on_message = on_message
    sub.on_subscribe = lambda *a: ready.set()
    sub.on_connect = lambda c, *a: c.subscribe(kiosk_filter(STORE, "event"), qos=1)
    sub.connect(shop.broker.host, shop.broker.edge_port)
    sub.loop_start()
    ready.wait(10)
    if not shop.bare_connected:
        each(shop.procs, "bare_connect", "connected")
        shop.bare_connected = True
    per = total // len(shop.ids)
    start = time.perf_counter()
    each(shop.procs, f"bare_go {per} {payload_size}", "sent")
    ok = done.wait(timeout=120)
    elapsed = time.perf_counter() - start
    sub.disconnect()
    sub.loop_stop()
    if not ok:
        print(f"  bare: only {count[0]} of {total} received", flush=True)
    return count[0] / elapsed, count[0]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        logging.basicConfig(level=logging.ERROR)
        return worker(json.loads(argv[1]))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiosks", type=int, default=20)
    parser.add_argument("--kiosk-procs", type=int, default=4, help="processes the kiosks are spread over")
    parser.add_argument("--burst", type=int, default=250, help="sales per kiosk in the burst run")
    parser.add_argument("--rounds", type=int, default=5, help="burst and bare runs, alternating; medians reported")
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=5.0, help="sales per second per kiosk in the paced run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    dump = profile_threads() if os.environ.get("BENCH_PROFILE") else None
    with tempfile.TemporaryDirectory(prefix="bench-bus-") as tmp:
        shop = Shop(Path(tmp), args.kiosks, max(1, min(args.kiosk_procs, args.kiosks)))
        try:
            total = args.kiosks * args.burst
            print(f"bench-bus: {args.kiosks} kiosks in {len(shop.procs)} processes (TLS), private Mosquitto, "
                  f"edge ingest in this process (SQLite WAL, synchronous=FULL)", flush=True)
            rates: list[float] = []
            bares: list[float] = []
            # warm-up, not measured: every process connects and runs the sale path once (first
            # imports, TLS contexts, statement caches), as a shop's kiosks and edge have long since
            each(shop.procs, "record 20 0", "recorded")
            each(shop.procs, "start", "drained")
            bare_rate(shop, 20 * len(shop.ids), 1366)
            print("warm-up: 20 sales per kiosk through the sale path and the bare loop (not measured)", flush=True)
            for rnd in range(1, args.rounds + 1):
                each(shop.procs, "stop", "stopped")
                t = time.perf_counter()
                each(shop.procs, f"record {args.burst} {rnd}", "recorded")
                print(f"round {rnd}: {total} sales recorded in the kiosk journals in {time.perf_counter() - t:.1f} s "
                      f"(not measured)", flush=True)
                sizes = [len(r[0]) for rows in shop.journal_rows("SELECT body FROM sales").values() for r in rows]
                payload_size = round(statistics.fmean(sizes))
                # bare first in even rounds, so neither run always follows the other
                for run in (("bare", "burst") if rnd % 2 == 0 else ("burst", "bare")):
                    if run == "burst":
                        rates.append(measure_burst(shop, total, Path(tmp)))
                    else:
                        cpu0 = shop.cpu()
                        bare, received = bare_rate(shop, total, payload_size)
                        cpu1 = shop.cpu()
                        bares.append(bare)
                        print(f"  bare  : paho QoS 1 publish->receive of {payload_size}-byte messages, same broker, "
                              f"listener and publisher processes: {bare:,.0f} msg/s", flush=True)
                        print(f"          {cpu_line(cpu0, cpu1, max(received, 1))}", flush=True)
                print(f"  round {rnd}: sale path = {100 * rates[-1] / bares[-1]:.0f} % of bare "
                      f"(load average {os.getloadavg()[0]:.1f})", flush=True)
            acked_per_s, bare = statistics.median(rates), statistics.median(bares)
            ratios = sorted(100 * r / b for r, b in zip(rates, bares))
            print(f"burst : median of {args.rounds} rounds {acked_per_s:,.0f} sales/s; bare median {bare:,.0f} msg/s; "
                  f"sale path = {100 * acked_per_s / bare:.0f} % of bare (per round: "
                  f"{', '.join(f'{r:.0f} %' for r in ratios)})", flush=True)

            marks = {kid: max((r[0] for r in rows), default=0)
                     for kid, rows in shop.journal_rows("SELECT seq FROM sales").items()}
            per = int(args.rate * args.paced_seconds)
            cpu0 = shop.cpu()
            with FsyncProbe(Path(tmp)) as probe:
                each(shop.procs, f"sell {per} {args.rounds + 1} {args.rate}", "drained")
            cpu1 = shop.cpu()
            lat: list[float] = []
            for kid, rows in shop.journal_rows("SELECT seq, recorded_at, acked_at FROM sales WHERE acked_at IS NOT NULL").items():
                lat.extend((datetime.fromisoformat(a) - datetime.fromisoformat(r)).total_seconds() * 1000
                           for seq, r, a in rows if seq > marks[kid])
            p50, p99 = percentile(lat, 50), percentile(lat, 99)
            print(f"paced : {args.kiosks} kiosks x {args.rate:g} sales/s recorded live for {args.paced_seconds:g} s = "
                  f"{len(lat)} sales; commit->ack p50 {p50:.1f} ms, p95 {percentile(lat, 95):.1f} ms, p99 {p99:.1f} ms, "
                  f"max {max(lat) if lat else float('nan'):.1f} ms, mean {statistics.fmean(lat) if lat else float('nan'):.1f} ms",
                  flush=True)
            print(f"        {cpu_line(cpu0, cpu1, max(len(lat), 1))} (recording the sales included)", flush=True)
            print(f"{probe.line()}", flush=True)
            lost, duplicated = shop.audit()
            print(f"audit : {shop.ledger.sale_count()} sales in the ledger; lost {lost}, duplicated {duplicated}", flush=True)
            targets = acked_per_s >= 0.5 * bare and p99 <= 50 and lost == 0 and duplicated == 0
            print(f"targets (>= 50 % of bare, p99 <= 50 ms, 0 lost, 0 duplicated): {'met' if targets else 'NOT met'}"
                  f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)", flush=True)
        finally:
            shop.close()
    if dump is not None:
        dump("edge")
    print(json.dumps({"acked_per_s": round(acked_per_s, 1), "bare_per_s": round(bare, 1), "p50_ms": round(p50, 2),
                      "p99_ms": round(p99, 2), "lost": lost, "duplicated": duplicated}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
