"""Shared helpers of the bus tests: sale factories, waiting on conditions, the edge app."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any, Callable

from broker.contract import Sale
from edge.bus import EdgeMqttIngest
from edge.ingest import IngestCore
from edge.ledger import Ledger
from kiosk.simulated_seller import random_sale_draft
from retail.clock import Clock, SystemClock

STORE = "s1"


def make_sale(rng: random.Random, seq: int, *, kiosk_id: str = "kiosk-01", clock: Clock | None = None) -> Sale:
    draft = random_sale_draft(rng, store_id=STORE, kiosk_id=kiosk_id, clock=clock or SystemClock())
    return Sale.from_draft(draft, seq)


def tampered(sale: Sale, **changes: Any) -> bytes:
    """The sale's JSON with fields changed and the hash recomputed (so only the change is wrong)."""
    import hashlib

    data = json.loads(sale.model_dump_json(by_alias=True))
    for key, value in changes.items():
        target = data
        *path, last = key.split(".")
        for part in path:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    data.pop("body_hash")
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    data["body_hash"] = hashlib.sha256(canonical).hexdigest()
    return json.dumps(data).encode()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate`` until true; fail with ``what`` after a generous ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {what}")
        time.sleep(interval)


class EdgeApp:
    """The edge application in-process: a ledger that stays, an MQTT ingest that can stop."""

    def __init__(self, broker: Any, data: Path, *, resync_cooldown_s: float = 30.0) -> None:
        self.clock = SystemClock()
        self.broker = broker
        self.ledger = Ledger(data / "ledger.sqlite3", clock=self.clock)
        self.core = IngestCore(self.ledger, store_id=STORE, clock=self.clock, resync_cooldown_s=resync_cooldown_s)
        self.bus: EdgeMqttIngest | None = None

    def start(self) -> EdgeApp:
        self.bus = EdgeMqttIngest(self.broker.edge_endpoint(), self.core, store_id=STORE, clock=self.clock).start()
        if not self.bus.wait_connected(20):
            raise AssertionError("edge ingest did not connect")
        return self

    def stop(self) -> None:
        if self.bus is not None:
            self.bus.close()
            self.bus = None

    def close(self) -> None:
        self.stop()
        self.ledger.close()
