"""Benchmark: a kiosk's device fault -> the alarm shown on the staff console, p95.

    python tests/bench/bench_alarms.py [--kiosks 20] [--interval 5] [--seconds 60] [--faults 40]

A private Mosquitto and the whole edge service (ingest, monitor, alarm engine on SQLite with
full sync, web app under uvicorn) run here. ``--kiosks`` kiosks (paho clients over the TLS
kiosk listener, with their own logins) publish a retained health snapshot every
``--interval`` seconds, staggered. At random moments one kiosk whose printer is fine reports
``paper_out``; its next snapshot is fine again (the alarm clears 10 s later). Measured: from
just before the faulty snapshot is published to the moment a console client receives the
server-sent event whose open-alarm list shows that alarm active. The console client is a
Python SSE reader (httpx streaming ``/api/console/events``, as a browser's EventSource does),
signed in as staff. Readable figures first; the LAST line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from broker.config import StoreBrokerConfig  # noqa: E402
from broker.contract import DeviceReport, Health, KioskState, encode, health_expiry_s, kiosk_topic  # noqa: E402
from broker.endpoint import MqttEndpoint  # noqa: E402
from broker.launcher import LocalBroker  # noqa: E402
from edge.service import EdgeService  # noqa: E402
from edge.settings import EdgeSettings  # noqa: E402

STORE = "s1"
TARGET_MS = 1000.0


class Kiosk:
    """A kiosk's bus as far as health goes: a paho client with the kiosk's own login."""

    def __init__(self, kiosk_id: str, endpoint: MqttEndpoint, interval_s: int) -> None:
        self.id = kiosk_id
        self.interval_s = interval_s
        self.faulty = False
        self.faults = 0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=kiosk_id, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.ca_file is not None:
            self.client.tls_set(ca_certs=str(endpoint.ca_file),
                                certfile=str(endpoint.cert_file) if endpoint.cert_file else None,
                                keyfile=str(endpoint.key_file) if endpoint.key_file else None)
        self.connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: self.connected.set()
        self.client.connect(endpoint.host, endpoint.port, keepalive=15)
        self.client.loop_start()
        self._lock = threading.Lock()

    def publish_state(self) -> None:
        state = KioskState(kiosk_id=self.id, status="online", session=1, software_version="bench",
                           at=datetime.now(timezone.utc))
        self.client.publish(kiosk_topic(STORE, self.id, "state"), encode(state), qos=1, retain=True)

    def publish_health(self) -> None:
        with self._lock:
            now = datetime.now(timezone.utc)
            since = now - timedelta(minutes=30)
            printer = DeviceReport(device="printer", status="fault" if self.faulty else "ok",
                                   code="paper_out" if self.faulty else "", since=since)
            health = Health(kiosk_id=self.id, at=now, interval_s=self.interval_s, clock_synced=True, outbox_pending=0,
                            cpu_temp_c=55.0, devices=[printer, DeviceReport(device="scanner", status="ok", since=since),
                                                      DeviceReport(device="scale", status="ok", since=since)])
            props = Properties(PacketTypes.PUBLISH)
            props.MessageExpiryInterval = health_expiry_s(self.interval_s)
            self.client.publish(kiosk_topic(STORE, self.id, "health"), encode(health), qos=1, retain=True,
                                properties=props)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class ConsoleReader:
    """A console client: reads the SSE stream and notes when each alarm key is first seen active."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.ready = threading.Event()
        self.active: dict[str, float] = {}  # key -> perf_counter when first seen active
        self.open_keys: set[str] = set()
        self.events = 0
        self._lock = threading.Lock()
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        with httpx.Client(timeout=httpx.Timeout(10.0, read=None)) as client:
            with client.stream("GET", self.base + "/api/console/events", headers=headers) as r:
                for line in r.iter_lines():
                    if self._stop:
                        return
                    if not line.startswith("data: "):
                        continue
                    seen_at = time.perf_counter()
                    event = json.loads(line[6:])
                    self.events += 1
                    if event["type"] in ("snapshot", "alarms"):
                        with self._lock:
                            self.open_keys = {a["key"] for a in event["alarms"]}
                            for a in event["alarms"]:
                                if a["state"] == "active" and a["condition"] == "paper_out":
                                    self.active.setdefault(a["key"] + "#" + a["id"], seen_at)
                        self.ready.set()

    def seen_since(self, key: str, t0: float) -> float | None:
        with self._lock:
            hits = [t for k, t in self.active.items() if k.startswith(key + "#") and t >= t0]
        return min(hits) if hits else None

    def is_open(self, key: str) -> bool:
        with self._lock:
            return key in self.open_keys

    def stop(self) -> None:
        self._stop = True


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiosks", type=int, default=20)
    ap.add_argument("--interval", type=int, default=5, help="seconds between a kiosk's health snapshots")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--faults", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="bench-alarms-") as tmp:
        folder = Path(tmp)
        broker = LocalBroker(StoreBrokerConfig(store_id=STORE, data_dir=folder / "broker", kiosk_bind="127.0.0.1"))
        broker.prepare()
        ids = [f"kiosk-{i:02d}" for i in range(1, args.kiosks + 1)]
        for kid in ids:
            broker.registry.add_kiosk(kid)
        broker.start()
        ep = broker.edge_endpoint()
        settings = EdgeSettings(store_id=STORE, data_dir=folder / "edge", broker_host=ep.host, broker_port=ep.port,
                                broker_username=ep.username, broker_password=ep.password,
                                badge_secret=b"bench-badge-secret-0123456789", card_secret=b"bench-card-secret-0123456789",
                                web_host="127.0.0.1", web_port=0, development=True, fast_hashing=True)
        kiosks: list[Kiosk] = []
        try:
            with EdgeService(settings) as edge:
                edge.staff_store.create(name="Bench", role="owner", username="bench", password="bench-pass-123", actor=None)
                edge.monitor_link.wait_connected(20)
                token = httpx.post(edge.url + "/api/auth/login",
                                   json={"username": "bench", "password": "bench-pass-123"}).json()["token"]
                reader = ConsoleReader(edge.url, token)
                if not reader.ready.wait(20):
                    raise SystemExit("the console stream did not start")
                kiosks = [Kiosk(kid, broker.kiosk_endpoint(kid), args.interval) for kid in ids]
                for k in kiosks:
                    k.connected.wait(20)
                    k.publish_state()

                # schedule: staggered health every interval; faults at random moments
                start = time.perf_counter()
                end = start + args.seconds
                next_health = {k.id: start + args.interval * i / len(kiosks) for i, k in enumerate(kiosks)}
                fault_times = sorted(start + 5 + rng.random() * (args.seconds - 10) for _ in range(args.faults))
                pending: list[tuple[Kiosk, float]] = []
                samples: list[float] = []
                missed = 0
                skipped = 0
                health_sent = 0
                while True:
                    now = time.perf_counter()
                    if now >= end and not pending:
                        break
                    if now < end:
                        for k in kiosks:
                            if now >= next_health[k.id]:
                                k.publish_health()
                                health_sent += 1
                                if k.faulty:
                                    k.faulty = False  # one faulty snapshot; the next one is fine
                                next_health[k.id] += args.interval
                        while fault_times and now >= fault_times[0]:
                            fault_times.pop(0)
                            busy = {p[0].id for p in pending}
                            free = [k for k in kiosks if k.id not in busy and not k.faulty and k.faults < 3
                                    and not reader.is_open(f"{k.id}/printer/paper_out")]
                            if not free:
                                skipped += 1
                                continue
                            k = rng.choice(free)
                            k.faults += 1
                            k.faulty = True
                            t0 = time.perf_counter()
                            k.publish_health()
                            health_sent += 1
                            next_health[k.id] = t0 + args.interval
                            pending.append((k, t0))
                    still = []
                    for k, t0 in pending:
                        seen = reader.seen_since(f"{k.id}/printer/paper_out", t0)
                        if seen is not None:
                            samples.append((seen - t0) * 1000.0)
                        elif time.perf_counter() - t0 > 10:
                            missed += 1
                        else:
                            still.append((k, t0))
                    pending = still
                    time.sleep(0.002)
                reader.stop()
                sse_events = reader.events
        finally:
            for k in kiosks:
                k.close()
            broker.close()

    if not samples:
        print("no fault reached the console", flush=True)
        print(json.dumps({"event_to_console_p95_ms": None, "kiosks": args.kiosks, "samples": 0, "missed": missed}))
        return 1
    p50, p95, worst = pct(samples, 0.5), pct(samples, 0.95), max(samples)
    print(f"kiosks: {args.kiosks}, health every {args.interval} s for {args.seconds:.0f} s "
          f"({health_sent} snapshots, {health_sent / args.seconds:.1f}/s)")
    print(f"faults injected and seen on the console: {len(samples)} (missed {missed}, skipped {skipped}); "
          f"SSE events received: {sse_events}")
    print(f"device event -> console (SSE client in Python): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
          f"max {worst:.1f} ms, mean {statistics.fmean(samples):.1f} ms (target p95 <= {TARGET_MS:.0f} ms: "
          f"{'met' if p95 <= TARGET_MS else 'NOT met'})")
    print(json.dumps({"event_to_console_p95_ms": round(p95, 1), "kiosks": args.kiosks, "p50_ms": round(p50, 1),
                      "max_ms": round(worst, 1), "samples": len(samples), "missed": missed,
                      "target_ms": TARGET_MS}))
    return 0 if missed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
