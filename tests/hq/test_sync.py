"""Up-sync: every sale kept exactly once, whatever the edge sends and however often."""

from __future__ import annotations

import dataclasses
import random
import threading
from datetime import date
from typing import Any

import pytest

from broker.contract import Sale, SaleDraft, encode
from hq.api import sync as sync_api
from hq.schemas import SyncBatchResult
from tests.hq.helpers import Harness, batch, make_sale, sale_item

WAIT_S = 60.0  # how long a step may take before the test gives up (never a speed check)


def _statuses(result: dict) -> list[str]:
    return [i["status"] for i in result["items"]]


def _recon(hq: Harness, edge: dict, day: str = "2026-03-15") -> list[dict]:
    r = hq.client.get("/api/v1/sync/reconciliation", params={"start": day}, headers=edge)
    assert r.status_code == 200, r.text
    return r.json()["rows"]


def test_same_batch_three_times_keeps_each_sale_once(hq: Harness) -> None:
    edge = hq.create_store("s1")
    bodies = [make_sale("s1", "k1", seq) for seq in range(1, 6)]
    payload = batch("s1", bodies, batch_id="batch-1")
    first = hq.send(edge, payload)
    second = hq.send(edge, payload)
    third = hq.send(edge, payload)
    assert _statuses(first) == ["accepted"] * 5
    assert _statuses(second) == ["duplicate"] * 5
    assert third["duplicates"] == 5 and third["times_received"] == 3
    rows = _recon(hq, edge)
    assert rows == [{"kiosk_id": "k1", "business_date": "2026-03-15", "count": 5,
                     "total_minor": sum(b["totals"]["total_minor"] for b in bodies), "highest_seq": 5}]


def test_shuffled_and_overlapping_batches_count_every_sale_once(hq: Harness) -> None:
    edge = hq.create_store("s1")
    bodies = [make_sale("s1", f"k{k}", seq, lines=[("sku-a", seq, 100 + k)]) for k in (1, 2) for seq in range(1, 21)]
    rng = random.Random(7)
    for attempt in range(4):
        sample = rng.sample(bodies, 25)
        rng.shuffle(sample)
        hq.send(edge, batch("s1", sample, batch_id=f"b{attempt}"))
    hq.send(edge, batch("s1", list(reversed(bodies)), batch_id="b-all"))
    rows = {r["kiosk_id"]: r for r in _recon(hq, edge)}
    for k in (1, 2):
        mine = [b for b in bodies if b["kiosk_id"] == f"k{k}"]
        assert rows[f"k{k}"]["count"] == 20
        assert rows[f"k{k}"]["total_minor"] == sum(b["totals"]["total_minor"] for b in mine)
        assert rows[f"k{k}"]["highest_seq"] == 20


def test_same_key_with_another_body_is_a_conflict_and_the_original_is_kept(hq: Harness) -> None:
    edge = hq.create_store("s1")
    original = make_sale("s1", "k1", 1, lines=[("sku-a", 1, 500)])
    changed = make_sale("s1", "k1", 1, lines=[("sku-a", 9, 500)])
    assert original["sale_id"] == changed["sale_id"]
    assert _statuses(hq.send(edge, batch("s1", [original]))) == ["accepted"]
    result = hq.send(edge, batch("s1", [changed]))
    assert _statuses(result) == ["conflict"]
    assert _recon(hq, edge)[0]["total_minor"] == 500
    conflicts = hq.client.get("/api/v1/sync/conflicts", headers=edge).json()
    assert [(c["id"], c["kept_hash"], c["received_hash"]) for c in conflicts] == [
        (original["sale_id"], original["body_hash"], changed["body_hash"])]


def test_repeats_inside_one_batch_are_answered_per_item(hq: Harness) -> None:
    edge = hq.create_store("s1")
    a = make_sale("s1", "k1", 1)
    a_changed = make_sale("s1", "k1", 1, lines=[("sku-z", 1, 1)])
    result = hq.send(edge, batch("s1", [a, a, a_changed]))
    assert _statuses(result) == ["accepted", "duplicate", "conflict"]
    assert _recon(hq, edge)[0]["count"] == 1


def test_invalid_items_are_rejected_alone_and_the_rest_is_kept(hq: Harness) -> None:
    edge = hq.create_store("s1")
    good = make_sale("s1", "k1", 1)
    tampered = make_sale("s1", "k1", 2)
    tampered["totals"]["total_minor"] += 1  # body no longer matches its hash
    inconsistent = make_sale("s1", "k1", 3)
    inconsistent["totals"]["total_minor"] += 1
    inconsistent["body_hash"] = None
    from tests.hq.helpers import canonical_hash
    inconsistent["body_hash"] = canonical_hash(inconsistent)
    other_store = make_sale("s2", "k1", 4)
    wrong_currency = make_sale("s1", "k1", 5, currency="EUR")
    payload = batch("s1", [good, tampered, inconsistent, other_store, wrong_currency])
    result = hq.send(edge, payload)
    assert _statuses(result) == ["accepted", "rejected", "rejected", "rejected", "rejected"]
    reasons = [i["reason"].split(":")[0] for i in result["items"][1:]]
    assert reasons == ["hash_mismatch", "invalid", "wrong_store", "wrong_currency"]
    assert _recon(hq, edge)[0]["count"] == 1


def test_float_money_is_rejected(hq: Harness) -> None:
    edge = hq.create_store("s1")
    body = make_sale("s1", "k1", 1, lines=[("sku-a", 1, 500)])
    body["totals"]["total_minor"] = 500.0
    from tests.hq.helpers import canonical_hash
    body["body_hash"] = canonical_hash(body)
    result = hq.send(edge, batch("s1", [body]))
    assert result["items"][0]["status"] == "rejected"


def test_a_sale_made_by_the_bus_contract_is_accepted_with_its_own_hash(hq: Harness) -> None:
    edge = hq.create_store("s1")
    body = make_sale("s1", "k1", 1, savings=50, payments=[("cash", 1000)], change=1000 - 650)
    draft_data = {k: v for k, v in body.items() if k not in ("schema", "seq", "body_hash")}
    sale = Sale.from_draft(SaleDraft.model_validate_json(__import__("json").dumps(draft_data)), seq=1)
    import json as _json
    wire = _json.loads(encode(sale))
    result = hq.send(edge, {"batch_id": "contract-1", "store_id": "s1", "items": [
        {"kind": "sale", "kiosk_id": "k1", "sale_id": sale.sale_id, "seq": 1, "body_hash": sale.body_hash, "body": wire}]})
    assert _statuses(result) == ["accepted"]
    mix = hq.client.get("/api/v1/summaries/stores/s1", params={"period": "day", "date": "2026-03-15"},
                        headers=hq.admin).json()["current"]["payment_mix"]
    assert mix == [{"method": "cash", "payments": 1, "amount_minor": 650, "share_bp": 10000}]


def test_an_edge_cannot_send_for_another_store(hq: Harness) -> None:
    edge1 = hq.create_store("s1")
    hq.create_store("s2")
    r = hq.client.post("/api/v1/sync/batches", json=batch("s2", [make_sale("s2", "k1", 1)]), headers=edge1)
    assert r.status_code == 403


def test_sync_needs_an_edge_token(hq: Harness) -> None:
    hq.create_store("s1")
    payload = batch("s1", [make_sale("s1", "k1", 1)])
    assert hq.client.post("/api/v1/sync/batches", json=payload).status_code == 401
    assert hq.client.post("/api/v1/sync/batches", json=payload, headers={"Authorization": "Bearer tpe_nope"}).status_code == 401
    assert hq.client.post("/api/v1/sync/batches", json=payload, headers=hq.admin).status_code == 403


def test_cursor_keeps_the_highest_seq_per_kiosk_and_the_last_batch(hq: Harness) -> None:
    edge = hq.create_store("s1")
    hq.send(edge, batch("s1", [make_sale("s1", "k1", s) for s in (5, 6)], batch_id="late"))
    hq.send(edge, batch("s1", [make_sale("s1", "k1", s) for s in (1, 2)] + [make_sale("s1", "k2", 3)], batch_id="early"))
    cur = hq.client.get("/api/v1/sync/cursor", headers=edge).json()
    assert cur["last_batch_id"] == "early"
    assert [(k["kiosk_id"], k["highest_seq"]) for k in cur["kiosks"]] == [("k1", 6), ("k2", 3)]


def test_other_sync_kinds_are_kept_once_and_counted(hq: Harness) -> None:
    edge = hq.create_store("s1")
    from tests.hq.helpers import canonical_hash
    alarm = {"code": "bag_scale_fault", "at": "2026-03-15T10:00:00Z"}
    out = {"sku": "sku-a", "stock_out": True}
    items = [
        {"kind": "alarm", "event_id": "a1", "kiosk_id": "k1", "business_date": "2026-03-15",
         "body_hash": canonical_hash(alarm), "body": alarm},
        {"kind": "stock_move", "event_id": "m1", "business_date": "2026-03-15", "body_hash": canonical_hash(out), "body": out},
    ]
    payload = {"batch_id": "ev-1", "store_id": "s1", "items": items}
    assert _statuses(hq.send(edge, payload)) == ["accepted", "accepted"]
    assert _statuses(hq.send(edge, payload)) == ["duplicate", "duplicate"]
    cur = hq.client.get("/api/v1/summaries/stores/s1", params={"period": "day", "date": "2026-03-15"},
                        headers=hq.admin).json()["current"]
    assert (cur["alarms"], cur["stock_outs"]) == (1, 1)


def test_oversized_batches_are_refused(hq: Harness) -> None:
    edge = hq.create_store("s1")
    body = make_sale("s1", "k1", 1)
    payload = {"batch_id": "big", "store_id": "s1", "items": [sale_item(body)] * 2001}
    r = hq.client.post("/api/v1/sync/batches", json=payload, headers=edge)
    assert r.status_code == 413


def test_reconciliation_spans_days_and_filters_by_kiosk(hq: Harness) -> None:
    edge = hq.create_store("s1")
    bodies = [make_sale("s1", "k1", 1, business_date=date(2026, 3, 14)), make_sale("s1", "k1", 2),
              make_sale("s1", "k2", 1)]
    hq.send(edge, batch("s1", bodies))
    r = hq.client.get("/api/v1/sync/reconciliation", params={"start": "2026-03-14", "end": "2026-03-15",
                                                             "kiosk_id": "k1"}, headers=edge)
    assert [(x["business_date"], x["count"], x["highest_seq"]) for x in r.json()["rows"]] == [
        ("2026-03-14", 1, 1), ("2026-03-15", 1, 2)]


class _CountingSlots:
    """The worker's ingest slots, telling how many requests asked for one."""

    def __init__(self, slots: int) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._changed = threading.Condition()
        self._asked = 0

    def __enter__(self) -> _CountingSlots:
        with self._changed:
            self._asked += 1
            self._changed.notify_all()
        self._slots.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._slots.release()

    def wait_until_asked(self, n: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._asked >= n, WAIT_S)


def test_a_worker_stores_only_as_many_batches_at_once_as_it_has_ingest_slots(
        hq: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    edge = hq.create_store("s1")
    slots = _CountingSlots(2)
    app = hq.client.app
    app.state.hq = dataclasses.replace(app.state.hq, ingest_slots=slots)  # type: ignore[attr-defined]
    state = threading.Condition()
    inside = [0, 0]  # now, most at once
    release = threading.Event()

    def held_apply(db: Any, batch_in: Any, now: Any) -> SyncBatchResult:
        with state:
            inside[0] += 1
            inside[1] = max(inside)
            state.notify_all()
        assert release.wait(WAIT_S)
        with state:
            inside[0] -= 1
        return SyncBatchResult(batch_id=batch_in.batch_id, store_id=batch_in.store_id, times_received=1,
                               accepted=0, duplicates=0, conflicts=0, rejected=0, items=[])

    monkeypatch.setattr(sync_api.ingest, "apply_batch", held_apply)
    codes: list[int] = []
    senders = [threading.Thread(target=lambda n=n: codes.append(hq.client.post(
        "/api/v1/sync/batches", json=batch("s1", [make_sale("s1", "k1", n)]), headers=edge).status_code))
        for n in range(1, 6)]
    for t in senders:
        t.start()
    with state:
        assert state.wait_for(lambda: inside[0] == 2, WAIT_S)
    assert slots.wait_until_asked(5)  # all five arrived: two inside, three waiting
    with state:
        assert inside == [2, 2]
    release.set()
    for t in senders:
        t.join()
    assert codes == [200] * 5 and inside[1] == 2
