"""Sync against a real HQ process that is killed (SIGKILL) mid-batch and restarted.

An edge that was cut off from HQ for 26 hours (its sales' timestamps span 26 hours and three
business days) sends its backlog in batches; HQ is killed twice while a batch is in flight and
started again; the edge resends whatever was not answered, and at the end resends everything
once more. Nothing may be lost or doubled: reconciliation must equal what was sent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from hq.cli import main as hq_cli
from tests.hq.helpers import batch, make_sale

pytestmark = [pytest.mark.fault, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SECRET = "fault-test-secret-0123456789abcdef"
READY_WAIT_S = 60.0  # how long a start may take before the test gives up (never a speed check)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HqProcess:
    """``python -m hq.cli run`` as a child process on a free port."""

    def __init__(self, db_url: str, log_path: Path) -> None:
        self.db_url = db_url
        self.log_path = log_path
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "TILLPI_HQ_SECRET_KEY": SECRET, "TILLPI_HQ_ENVIRONMENT": "test"}
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hq.cli", "run", "--db", self.db_url, "--port", str(self.port), "--log-level", "warning"],
            cwd=REPO, env=env, stdout=log, stderr=log)
        log.close()
        self.starts += 1
        deadline = time.monotonic() + READY_WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"HQ exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"HQ did not start: {self.log_path.read_text()[-2000:]}")

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _wait_for_transaction(db_url: str, proc: HqProcess, started: threading.Event, done: threading.Event) -> str:
    """Return when the batch is inside an HQ transaction: on PostgreSQL, HQ's connection holds
    a transaction id; on SQLite, HQ holds the write lock (our ``BEGIN IMMEDIATE`` is refused)."""
    started.wait(10)
    if db_url.startswith("postgresql"):
        import psycopg

        plain = db_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as conn:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not done.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction') "
                    "AND backend_xid IS NOT NULL").fetchone()
                if row and row[0]:
                    return "in transaction"
                time.sleep(0.002)
        return "not seen"
    import sqlite3

    conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not done.is_set():
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
            except sqlite3.OperationalError:
                return "in transaction"
            time.sleep(0.001)
    finally:
        conn.close()
    return "not seen"


def test_outage_of_26_hours_with_two_kills_loses_and_doubles_nothing(hq_db_url: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TILLPI_HQ_SECRET_KEY", SECRET)
    monkeypatch.setenv("TILLPI_HQ_ENVIRONMENT", "test")
    assert hq_cli(["create-store", "--db", hq_db_url, "s1", "--name", "Shop one"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}

    # The backlog: two kiosks selling every 4 minutes for 26 hours, 23:00 on 14 March to 01:00 on the 16th.
    start = datetime(2026, 3, 14, 23, 0, tzinfo=timezone.utc)
    sales: list[dict[str, Any]] = []
    for n in range(26 * 15):
        when = start + timedelta(minutes=4 * n)
        for k in ("k1", "k2"):
            sales.append(make_sale("s1", k, n + 1, when=when, lines=[("sku-a", 1 + n % 3, 250 + n % 7), ("sku-b", 1, 99)]))
    batches = [batch("s1", sales[i:i + 60], batch_id=f"outbox-{i // 60:03d}") for i in range(0, len(sales), 60)]
    expected: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in sales:
        e = expected[(s["kiosk_id"], s["business_date"])]
        e[0] += 1
        e[1] += s["totals"]["total_minor"]
        e[2] = max(e[2], s["seq"])
    assert len({d for _, d in expected}) == 3

    hq = HqProcess(hq_db_url, tmp_path / "hq.log")
    kills: list[str] = []
    try:
        hq.start()
        pending = list(batches)
        acknowledged: set[str] = set()
        kill_at = {3, 8}  # batch positions during which HQ is killed
        position = 0
        with httpx.Client(timeout=30) as http:
            while pending:
                b = pending.pop(0)
                position += 1
                if position in kill_at:
                    started, done = threading.Event(), threading.Event()
                    outcome: dict[str, Any] = {}

                    def send(b: dict[str, Any] = b) -> None:
                        started.set()
                        try:
                            outcome["response"] = http.post(f"{hq.base}/api/v1/sync/batches", json=b, headers=headers)
                        except httpx.HTTPError as exc:
                            outcome["error"] = exc
                        finally:
                            done.set()

                    t = threading.Thread(target=send)
                    t.start()
                    where = _wait_for_transaction(hq_db_url, hq, started, done)
                    hq.kill9()
                    t.join(30)
                    answered = "response" in outcome and outcome["response"].status_code == 200
                    kills.append(f"{b['batch_id']}: {where}, {'answered' if answered else 'no answer'}")
                    if answered:
                        acknowledged.add(b["batch_id"])
                    else:
                        pending.insert(0, b)  # the edge keeps it and resends
                    hq.start()
                    continue
                r = http.post(f"{hq.base}/api/v1/sync/batches", json=b, headers=headers)
                assert r.status_code == 200, r.text
                acknowledged.add(b["batch_id"])
            # the edge is unsure of everything and sends it all again: all duplicates
            repeat = [http.post(f"{hq.base}/api/v1/sync/batches", json=b, headers=headers).json() for b in batches]
            assert sum(x["accepted"] for x in repeat) == 0
            assert sum(x["duplicates"] for x in repeat) == len(sales)
            recon = http.get(f"{hq.base}/api/v1/sync/reconciliation",
                             params={"start": "2026-03-14", "end": "2026-03-16"}, headers=headers).json()
            cursor = http.get(f"{hq.base}/api/v1/sync/cursor", headers=headers).json()
    finally:
        hq.stop()

    got = {(r["kiosk_id"], r["business_date"]): [r["count"], r["total_minor"], r["highest_seq"]] for r in recon["rows"]}
    assert got == dict(expected), kills
    assert {k["kiosk_id"]: k["highest_seq"] for k in cursor["kiosks"]} == {"k1": 390, "k2": 390}
    assert hq.starts == 3 and len(kills) == 2
    assert any("in transaction" in k for k in kills), kills  # the scenario really cut a transaction
    print("kills:", kills)
