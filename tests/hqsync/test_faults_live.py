"""Fault tests of the HQ sync against a REAL HQ process: a 26-hour outage with two edge
restarts, HQ killed mid-batch, an answer lost after HQ committed, rejected and conflicting
items. Exact counts: every sale at HQ exactly once."""

from __future__ import annotations

import threading
import uuid
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from broker.contract import Sale
from edge.hqsync import HqSync, HqSyncSettings, HttpHqClient, SyncReport, TokenFile
from edge.hqsync.items import OutboxRow, encode_sale
from edge.ledger import Ledger
from retail.clock import FakeClock
from tests.hq.test_sync_faults import _wait_for_transaction
from tests.hqsync.helpers import LiveHq, Shop, expected_reconciliation
from tests.hqsync.proxy import LossyProxy

pytestmark = [pytest.mark.fault, pytest.mark.slow]

SETTINGS = HqSyncSettings(batch_size=50, backoff_initial_s=5, backoff_max_s=600, timeout_s=30, connect_timeout_s=2)


def _store(live_hq: LiveHq, tmp_path: Path) -> tuple[str, Path]:
    sid = f"f{uuid.uuid4().hex[:8]}"
    token_file = tmp_path / "data" / "hq_token"
    TokenFile(token_file).write(live_hq.create_store(sid))
    return sid, token_file


def _hq_figures(client: HttpHqClient, days: list[date]) -> dict[tuple[str, date], tuple[int, int, int]]:
    rows = client.reconciliation(min(days), max(days))
    return {(r.kiosk_id, r.business_date): (r.count, r.total_minor, r.highest_seq) for r in rows}


def test_a_26_hour_outage_with_two_edge_restarts_delivers_every_sale_exactly_once(live_hq: LiveHq, tmp_path: Path) -> None:
    sid, token_file = _store(live_hq, tmp_path)
    clock = FakeClock(datetime(2026, 3, 14, 22, 0, tzinfo=timezone.utc))
    ledger_path = tmp_path / "data" / "ledger.sqlite3"
    ledger = Ledger(ledger_path, clock=clock)
    shop = Shop(ledger, sid, clock, seed=26)
    client = HttpHqClient(live_hq.url, token_file=token_file, timeout_s=30, connect_timeout_s=2)
    sync = HqSync(ledger_path, client, store_id=sid, clock=clock, settings=SETTINGS)
    states: list[str] = []
    restarts = 0
    live_hq.proc.stop()  # HQ goes away for 26 hours
    try:
        for quarter in range(26 * 4):
            shop.sell("k1")
            if quarter % 3 == 0:
                shop.sell("k2")
            if quarter % 4 == 3:
                states.append(sync.run_once().state)
            if quarter in (35, 70):  # the edge restarts twice during the outage
                sync.close()
                ledger.close()
                ledger = Ledger(ledger_path, clock=clock)
                shop.reopen(ledger)
                sync = HqSync(ledger_path, client, store_id=sid, clock=clock, settings=SETTINGS)
                restarts += 1
            clock.advance(minutes=15)
        assert set(states) <= {"unavailable", "backoff"} and "unavailable" in states
        assert ledger.hq_outbox_count() == len(shop.sold)
        live_hq.proc.start()  # HQ is back
        clock.advance(SETTINGS.backoff_max_s)
        report = sync.run_once()
        days = sorted({s.business_date for s in shop.sold})
        reconciled = [sync.reconcile(d) for d in days]
    finally:
        sync.close()
        ledger.close()
        if live_hq.proc.proc is None or live_hq.proc.proc.poll() is not None:
            live_hq.proc.start()
    assert restarts == 2 and len(days) == 2  # 22:00 on the 14th to 23:45 on the 15th
    assert (report.state, report.accepted, report.pending) == ("drained", len(shop.sold), 0)
    assert _hq_figures(client, days) == expected_reconciliation(shop.sold)
    assert all(r.agrees for r in reconciled), [r.mismatches for r in reconciled]
    assert client.cursor() == {"k1": shop.seq["k1"], "k2": shop.seq["k2"]}
    client.close()


def test_hq_killed_mid_batch_and_restarted_keeps_every_sale_once(live_hq: LiveHq, tmp_path: Path) -> None:
    sid, token_file = _store(live_hq, tmp_path)
    clock = FakeClock(datetime(2026, 3, 15, 9, 0, tzinfo=timezone.utc))
    ledger = Ledger(tmp_path / "ledger.sqlite3", clock=clock)
    shop = Shop(ledger, sid, clock, seed=2)
    for kiosk in ("k1", "k2", "k3"):
        shop.sell_many(kiosk, 200)
    client = HttpHqClient(live_hq.url, token_file=token_file, timeout_s=30, connect_timeout_s=2)
    sync = HqSync(ledger.path, client, store_id=sid, clock=clock, settings=HqSyncSettings(batch_size=100))
    reports: list[SyncReport] = []
    started, done = threading.Event(), threading.Event()

    def push() -> None:
        started.set()
        try:
            reports.append(sync.run_once())
        finally:
            done.set()

    try:
        t = threading.Thread(target=push)
        t.start()
        where = _wait_for_transaction(live_hq.db_url, live_hq.proc, started, done)
        live_hq.proc.kill9()
        t.join(60)
        cut = reports[0]
        live_hq.proc.start()
        clock.advance(cut.retry_in_s)
        after = sync.run_once()
        day = shop.sold[0].business_date
        reconciled = sync.reconcile(day)
    finally:
        sync.close()
        ledger.close()
        if live_hq.proc.proc is None or live_hq.proc.proc.poll() is not None:
            live_hq.proc.start()
    assert cut.state == "unavailable", where
    assert cut.accepted + after.accepted == 600 and after.accepted > 0
    assert (after.state, after.pending) == ("drained", 0)
    assert _hq_figures(client, [day]) == expected_reconciliation(shop.sold)
    assert reconciled.agrees
    client.close()


def test_an_answer_lost_after_hq_committed_is_resent_as_the_same_batch_and_marked_duplicate(
        live_hq: LiveHq, tmp_path: Path) -> None:
    sid, token_file = _store(live_hq, tmp_path)
    clock = FakeClock(datetime(2026, 3, 15, 9, 0, tzinfo=timezone.utc))
    proxy = LossyProxy(live_hq.url)
    ledger = Ledger(tmp_path / "ledger.sqlite3", clock=clock)
    shop = Shop(ledger, sid, clock, seed=3)
    shop.sell_many("k1", 30)
    client = HttpHqClient(proxy.url, token_file=token_file, timeout_s=30, connect_timeout_s=2)
    try:
        proxy.drop_batches = 1
        with HqSync(ledger.path, client, store_id=sid, clock=clock, settings=SETTINGS) as sync:
            lost = sync.run_once()
            held_at_hq = _hq_figures(client, [shop.sold[0].business_date])
            unsent_after_loss = ledger.hq_outbox_count()
            clock.advance(lost.retry_in_s)
            again = sync.run_once()
    finally:
        proxy.close()
        ledger_unsent = ledger.hq_outbox_count()
        ledger.close()
    assert (lost.state, unsent_after_loss) == ("unavailable", 30)
    assert held_at_hq == expected_reconciliation(shop.sold)  # HQ had committed the batch
    assert (again.state, again.accepted, again.duplicate, ledger_unsent) == ("drained", 0, 30, 0)
    assert proxy.dropped == 1 and len(proxy.batch_ids) == 2 and proxy.batch_ids[0] == proxy.batch_ids[1]
    client.close()


def test_a_rejected_sale_does_not_block_the_rest_and_a_conflict_raises_an_alarm(live_hq: LiveHq, tmp_path: Path) -> None:
    sid, token_file = _store(live_hq, tmp_path)
    clock = FakeClock(datetime(2026, 3, 15, 9, 0, tzinfo=timezone.utc))
    ledger = Ledger(tmp_path / "ledger.sqlite3", clock=clock)
    shop = Shop(ledger, sid, clock, seed=4)
    shop.sell("k1")
    clash = shop.sell("k1")
    bad = shop.sell("k1", currency="USD")
    shop.sell_many("k1", 5)
    client = HttpHqClient(live_hq.url, token_file=token_file)
    # HQ already holds another body under the second sale's key (e.g. from a restored edge)
    other = Sale.from_draft(clash.draft().model_copy(update={"catalogue_version": "restored"}), clash.seq)
    item: dict[str, Any] = encode_sale(OutboxRow(0, "sale", "", other.model_dump_json(by_alias=True).encode()))
    assert client.send_batch({"batch_id": "restored-1", "store_id": sid, "items": [item]}).items[0].status == "accepted"
    try:
        with HqSync(ledger.path, client, store_id=sid, clock=clock, settings=HqSyncSettings(reject_attempts=2)) as sync:
            first = sync.run_once()
            second = sync.run_once()
            parked = sync.parked()
        alarms = [(a.kind, a.key) for a in ledger.alarm_events()]
        unsent = ledger.hq_outbox_count()
    finally:
        ledger.close()
    assert (first.accepted, first.conflict, first.rejected) == (6, 1, 1)
    assert (second.rejected, second.parked, second.pending) == (1, 1, 0)
    assert [p["ref"] for p in parked] == [f"k1/{bad.sale_id}"] and unsent == 1
    assert alarms == [("hq_conflict", f"sale/k1/{clash.sale_id}"), ("hq_rejected", f"sale/k1/{bad.sale_id}")]
    figures = _hq_figures(client, [bad.business_date])
    assert figures[("k1", bad.business_date)][0] == 7  # 6 accepted + HQ's original of the clash
    client.close()
