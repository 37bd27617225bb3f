"""Builders for the HQ-sync tests: a live HQ process, sales through the real edge ingest."""

from __future__ import annotations

import contextlib
import io
import os
import random
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import httpx

from broker.contract import Sale, encode, kiosk_topic
from edge.ingest import Inbound, IngestCore
from edge.ledger import Ledger
from hq.cli import main as hq_cli
from kiosk.simulated_seller import random_sale_draft
from retail.clock import FakeClock
from tests.hq.test_sync_faults import SECRET, HqProcess

ADMIN = ("hq-admin", "admin-password-1")


@contextlib.contextmanager
def _hq_env() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("TILLPI_HQ_SECRET_KEY", "TILLPI_HQ_ENVIRONMENT")}
    os.environ["TILLPI_HQ_SECRET_KEY"] = SECRET
    os.environ["TILLPI_HQ_ENVIRONMENT"] = "test"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class LiveHq:
    """A real ``python -m hq.cli run`` process and its admin tools (the CLI, an admin login)."""

    proc: HqProcess
    db_url: str
    admin: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.proc.base

    def cli(self, *args: str, stdin: str | None = None) -> str:
        out = io.StringIO()
        old_stdin = sys.stdin
        try:
            if stdin is not None:
                sys.stdin = io.StringIO(stdin)
            with _hq_env(), contextlib.redirect_stdout(out):
                code = hq_cli([args[0], "--db", self.db_url, *args[1:]])
        finally:
            sys.stdin = old_stdin
        if code != 0:
            raise RuntimeError(f"hq cli {args} exited {code}: {out.getvalue()}")
        return out.getvalue()

    def create_store(self, store_id: str, *, region: str = "east") -> str:
        """Create a store; return its edge token."""
        return self.cli("create-store", store_id, "--name", f"Shop {store_id}", "--region", region).strip().splitlines()[-1]

    def create_store_with_code(self, store_id: str, *, region: str = "east") -> str:
        return self.cli("create-store", store_id, "--name", f"Shop {store_id}", "--region", region,
                        "--enrolment-code").strip().splitlines()[-1]

    def login_admin(self) -> None:
        self.cli("create-user", ADMIN[0], "--role", "admin", "--password-stdin", stdin=ADMIN[1] + "\n")
        r = httpx.post(f"{self.url}/api/v1/login", json={"username": ADMIN[0], "password": ADMIN[1]}, timeout=30)
        r.raise_for_status()
        self.admin = {"Authorization": f"Bearer {r.json()['token']}"}

    def publish(self, changes: dict[str, Any]) -> int:
        r = httpx.post(f"{self.url}/api/v1/catalogue/changes", json=changes, headers=self.admin, timeout=30)
        if r.status_code != 201:
            raise RuntimeError(r.text)
        return int(r.json()["version"])

    def get(self, path: str, token: str, **params: Any) -> Any:
        r = httpx.get(f"{self.url}/api/v1{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        r.raise_for_status()
        return r.json()


class Shop:
    """Kiosks selling through the real edge ingest into a real ledger (sales at the clock's time)."""

    def __init__(self, ledger: Ledger, store_id: str, clock: FakeClock, *, seed: int = 7, currency: str = "CNY") -> None:
        self.ledger = ledger
        self.store_id = store_id
        self.clock = clock
        self.core = IngestCore(ledger, store_id=store_id, clock=clock)
        self.rng = random.Random(seed)
        self.seq: dict[str, int] = defaultdict(int)
        self.currency = currency
        self.sold: list[Sale] = []

    def sell(self, kiosk_id: str, *, currency: str | None = None) -> Sale:
        draft = random_sale_draft(self.rng, store_id=self.store_id, kiosk_id=kiosk_id, clock=self.clock,
                                  currency=currency or self.currency)
        self.seq[kiosk_id] += 1
        sale = Sale.from_draft(draft, self.seq[kiosk_id])
        outcome = self.core.process([Inbound(kiosk_topic(self.store_id, kiosk_id, "sale"), encode(sale))])[0]
        if outcome.decision != "accepted":
            raise RuntimeError(f"the edge did not accept the sale: {outcome}")
        self.sold.append(sale)
        return sale

    def sell_many(self, kiosk_id: str, count: int) -> list[Sale]:
        """``count`` sales delivered to the ingest as one batch (one ledger transaction)."""
        sales = []
        for _ in range(count):
            draft = random_sale_draft(self.rng, store_id=self.store_id, kiosk_id=kiosk_id, clock=self.clock,
                                      currency=self.currency)
            self.seq[kiosk_id] += 1
            sales.append(Sale.from_draft(draft, self.seq[kiosk_id]))
        topic = kiosk_topic(self.store_id, kiosk_id, "sale")
        outcomes = self.core.process([Inbound(topic, encode(s)) for s in sales])
        if any(o.decision != "accepted" for o in outcomes):
            raise RuntimeError("the edge did not accept every sale")
        self.sold.extend(sales)
        return sales

    def reopen(self, ledger: Ledger) -> None:
        """The edge restarted: the same kiosks go on selling into the reopened ledger."""
        self.ledger = ledger
        self.core = IngestCore(ledger, store_id=self.store_id, clock=self.clock)


def expected_reconciliation(sales: list[Sale]) -> dict[tuple[str, date], tuple[int, int, int]]:
    acc: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in sales:
        a = acc[(s.kiosk_id, s.business_date)]
        a[0] += 1
        a[1] += s.totals.total_minor
        a[2] = max(a[2], s.seq)
    return {k: (v[0], v[1], v[2]) for k, v in acc.items()}


def outbox_unsent(path: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(str(path))
    try:
        return int(conn.execute("SELECT COUNT(*) FROM hq_outbox WHERE sent_at IS NULL").fetchone()[0])
    finally:
        conn.close()
