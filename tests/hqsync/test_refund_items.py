"""Against a real HQ process: a refund made at the edge desk reaches HQ exactly once, is marked
sent in the outbox, and comes off the store's revenue at HQ."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from edge.hqsync import HqSync, HqSyncSettings, HttpHqClient
from edge.hqsync.items import OutboxRow, body_hash, encode_refund
from edge.refunds import RefundService
from edge.refunds.rules import ReturnLine
from tests.hqsync.helpers import LiveHq
from tests.refunds import shop as refund_shop
from tests.refunds.shop import Shop, close_shop, line, open_shop


@pytest.fixture
def store_id(monkeypatch: pytest.MonkeyPatch) -> str:
    """A store of its own on the shared HQ: the refund test shop sells under it."""
    sid = f"r{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(refund_shop, "STORE", sid)
    return sid


@pytest.fixture
def shop(tmp_path: Path, store_id: str) -> Iterator[Shop]:
    s = open_shop(tmp_path)
    yield s
    close_shop(s)


def _outbox(path: Path) -> list[tuple[str, str, bool]]:
    conn = sqlite3.connect(str(path))
    try:
        return [(k, r, s is not None) for k, r, s in conn.execute("SELECT kind, ref, sent_at FROM hq_outbox ORDER BY id")]
    finally:
        conn.close()


def _unsend(path: Path, kind: str) -> None:
    """As if HQ's answer to the refund's batch was lost: the row is unsent again."""
    conn = sqlite3.connect(str(path))
    try:
        with conn:
            conn.execute("UPDATE hq_outbox SET sent_at = NULL WHERE kind = ?", (kind,))
    finally:
        conn.close()


def _revenue(live_hq: LiveHq, store_id: str, day: date) -> int:
    r = httpx.get(f"{live_hq.url}/api/v1/summaries/stores/{store_id}", params={"period": "day", "date": day.isoformat()},
                  headers=live_hq.admin, timeout=30)
    r.raise_for_status()
    return int(r.json()["current"]["revenue_minor"])


def test_a_refund_row_is_sent_to_hq_once_and_marked_sent(live_hq: LiveHq, shop: Shop, store_id: str) -> None:
    client = HttpHqClient(live_hq.url, token=live_hq.create_store(store_id), timeout_s=30, connect_timeout_s=2)
    sale = shop.sell(lines=[line("tea-500", 2), line("water", 3)])
    with RefundService(shop.path, clock=shop.clock, members=shop.members, store_id=store_id) as refunds:
        refund = refunds.refund("RF-1", sale.sale_id, [ReturnLine(1, 1)], actor=shop.principal("sam"), reason="dented")
    assert refund.total.minor > 0
    assert _outbox(shop.path) == [("sale", _outbox(shop.path)[0][1], False), ("refund", "refund/RF-1", False)]

    with HqSync(shop.path, client, store_id=store_id, clock=shop.clock, settings=HqSyncSettings()) as sync:
        first = sync.run_once()
        assert (first.accepted, first.duplicate, first.rejected, first.conflict) == (2, 0, 0, 0)
        assert sync.held() == {} and sync.pending_count() == 0
        assert [(k, sent) for k, _, sent in _outbox(shop.path)] == [("sale", True), ("refund", True)]

        _unsend(shop.path, "refund")  # a lost answer: the refund goes again and HQ keeps it once
        again = sync.run_once()
        assert (again.accepted, again.duplicate) == (0, 1)
        assert [(k, sent) for k, _, sent in _outbox(shop.path)] == [("sale", True), ("refund", True)]
    client.close()

    assert _revenue(live_hq, store_id, sale.business_date) == sale.totals.total_minor - refund.total.minor


def test_a_refund_row_becomes_hqs_refund_item_keyed_by_its_ref() -> None:
    body = {"schema": "tillpi.refund/1", "refund_id": "RF-9", "kiosk_id": "kiosk-01", "business_date": "2026-03-02",
            "currency": "CNY", "total_minor": 500}
    item = encode_refund(OutboxRow(7, "refund", "refund/RF-9", json.dumps(body).encode()))
    assert item == {"kind": "refund", "event_id": "refund:RF-9", "kiosk_id": "kiosk-01", "business_date": "2026-03-02",
                    "body_hash": body_hash(body), "body": body}
