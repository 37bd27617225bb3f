"""HqSync against the simulated HQ: batching, resends, back-off, auth stop, rejected and
conflicting items, held kinds, pruning — driven by a fake clock, never by sleeping."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from broker.contract import Sale
from edge.hqsync import HqSync, HqSyncConfigError, HqSyncSettings, SimulatedHq, SimulatedHqClient
from edge.hqsync.items import ENCODERS, OutboxRow
from edge.ledger import Ledger
from retail.clock import FakeClock
from tests.hqsync.helpers import Shop

START = datetime(2026, 3, 14, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def ledger(tmp_path: Path, clock: FakeClock) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3", clock=clock) as led:
        yield led


@pytest.fixture
def shop(ledger: Ledger, clock: FakeClock) -> Shop:
    return Shop(ledger, "s1", clock)


@pytest.fixture
def hq(clock: FakeClock) -> SimulatedHq:
    return SimulatedHq(clock=clock)


@pytest.fixture
def client(hq: SimulatedHq) -> SimulatedHqClient:
    return SimulatedHqClient(hq, hq.create_store("s1"))


def _sync(ledger: Ledger, client: SimulatedHqClient, clock: FakeClock, **kw: object) -> HqSync:
    return HqSync(ledger.path, client, store_id="s1", clock=clock, **kw)  # type: ignore[arg-type]


def _outbox(path: Path, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_the_outbox_goes_in_id_order_in_batches_and_only_acknowledged_rows_are_marked_sent(
        ledger: Ledger, shop: Shop, client: SimulatedHqClient, hq: SimulatedHq, clock: FakeClock) -> None:
    for n in range(7):
        shop.sell("k1" if n % 2 else "k2")
    with _sync(ledger, client, clock, batch_size=3) as sync:
        report = sync.run_once()
    assert (report.state, report.batches, report.accepted, report.pending) == ("drained", 3, 7, 0)
    assert ledger.hq_outbox_count() == 0
    assert {s["sale_id"] for s in hq.sales("s1")} == {s.sale_id for s in shop.sold}
    assert [r[0] for r in _outbox(ledger.path, "SELECT row_ids FROM hqsync_batches ORDER BY created_at, batch_id")] != []


def test_a_lost_answer_is_resent_as_the_same_batch_and_counted_once(
        ledger: Ledger, shop: Shop, client: SimulatedHqClient, hq: SimulatedHq, clock: FakeClock) -> None:
    for _ in range(4):
        shop.sell("k1")
    client.lose_response_once()
    with _sync(ledger, client, clock) as sync:
        lost = sync.run_once()
        assert lost.state == "unavailable" and ledger.hq_outbox_count() == 4
    clock.advance(60)
    with _sync(ledger, client, clock) as sync:  # an edge restart in between
        again = sync.run_once()
    assert (again.state, again.accepted, again.duplicate) == ("drained", 0, 4)
    assert hq.times_received("s1", again.batch_ids[0]) == 2
    assert len(hq.sales("s1")) == 4 and ledger.hq_outbox_count() == 0


def test_hq_away_backs_off_exponentially_on_the_injected_clock(
        ledger: Ledger, shop: Shop, client: SimulatedHqClient, hq: SimulatedHq, clock: FakeClock) -> None:
    shop.sell("k1")
    client.go_down()
    settings = HqSyncSettings(backoff_initial_s=2, backoff_max_s=16)
    with _sync(ledger, client, clock, settings=settings) as sync:
        delays = []
        for _ in range(6):
            r = sync.run_once()
            assert r.state == "unavailable"
            delays.append(r.retry_in_s)
            assert sync.run_once().state == "backoff"  # too early: HQ is not even asked
            clock.advance(r.retry_in_s)
        asked = hq.requests
        client.come_back()
        assert sync.run_once().state == "drained"
    assert delays == [2, 4, 8, 16, 16, 16]
    assert asked == 0 and len(hq.sales("s1")) == 1


def test_a_refused_token_raises_one_alarm_and_stops_until_the_token_changes(
        ledger: Ledger, shop: Shop, client: SimulatedHqClient, hq: SimulatedHq, clock: FakeClock) -> None:
    shop.sell("k1")
    hq.revoke_tokens("s1")
    with _sync(ledger, client, clock) as sync:
        assert sync.run_once().state == "auth_stopped"
        asked = hq.requests
        clock.advance(3600)
        assert sync.run_once().state == "auth_stopped"
        assert hq.requests == asked
    with _sync(ledger, client, clock) as sync:  # a restart does not hammer HQ with the same token
        assert sync.run_once().state == "auth_stopped"
        client.use_token(hq.issue_token("s1"))
        assert sync.run_once().state == "drained"
    assert [a.kind for a in ledger.alarm_events()] == ["hq_auth"]
    assert len(hq.sales("s1")) == 1


def test_a_rejected_item_does_not_block_the_rest_and_is_parked_after_n_tries(
        ledger: Ledger, shop: Shop, client: SimulatedHqClient, hq: SimulatedHq, clock: FakeClock) -> None:
    shop.sell("k1")
    bad = shop.sell("k1", currency="USD")
    shop.sell("k1")
    with _sync(ledger, client, clock, settings=HqSyncSettings(reject_attempts=3)) as sync:
        first = sync.run_once()
        assert (first.accepted, first.rejected, first.pending) == (2, 1, 1)
        shop.sell("k2")
        second = sync.run_once()
        third = sync.run_once()
        fourth = sync.run_once()
        parked = sync.parked()
    assert (second.accepted, second.rejected, third.rejected, third.parked) == (1, 1, 1, 1)
    assert (fourth.batches, fourth.pending) == (0, 0)
    assert [p["ref"] for p in parked] == [f"k1/{bad.sale_id}"]
    assert str(parked[0]["reason"]).startswith("wrong_currency") and parked[0]["attempts"] == 3
    assert ledger.hq_outbox_count() == 1  # kept for inspection, unsent
    assert [a.kind for a in ledger.alarm_events()] == ["hq_rejected"]
    assert len(hq.sales("s1")) == 3


def test_a_conflict_marks_the_row_sent_and_raises_an_alarm(
        ledger: Ledger, shop: Shop, client: SimulatedHqClient, hq: SimulatedHq, clock: FakeClock) -> None:
    sale = shop.sell("k1")
    other = Sale.from_draft(sale.draft().model_copy(update={"change_minor": sale.change_minor, "catalogue_version": "other"}), 1)
    client.send_batch({"batch_id": "elsewhere", "store_id": "s1",
                       "items": [ENCODERS["sale"](OutboxRow(0, "sale", "", other.model_dump_json(by_alias=True).encode()))]})
    with _sync(ledger, client, clock) as sync:
        report = sync.run_once()
    assert (report.conflict, ledger.hq_outbox_count()) == (1, 0)
    assert [(a.kind, a.key) for a in ledger.alarm_events()] == [("hq_conflict", f"sale/k1/{sale.sale_id}")]


def test_kinds_hq_does_not_take_are_held_with_one_alarm_and_do_not_block(
        ledger: Ledger, shop: Shop, client: SimulatedHqClient, clock: FakeClock) -> None:
    with ledger.transaction() as db:
        for n in range(2):
            db.execute("INSERT INTO hq_outbox (kind, ref, payload, created_at) VALUES ('gift_card', ?, ?, ?)",
                       (f"gift_card/{n}", json.dumps({"card_id": n}).encode(), START.isoformat()))
    shop.sell("k1")
    with _sync(ledger, client, clock) as sync:
        report = sync.run_once()
        sync.run_once()
        held = sync.held()
    assert (report.accepted, held) == (1, {"gift_card": 2})
    assert [(a.kind, a.key) for a in ledger.alarm_events()] == [("hq_unsupported", "gift_card")]


def test_a_batch_hq_refuses_whole_is_split_until_the_culprit_is_found(
        ledger: Ledger, shop: Shop, client: SimulatedHqClient, hq: SimulatedHq, clock: FakeClock) -> None:
    for _ in range(5):
        shop.sell("k1")
    with ledger.transaction() as db:
        db.execute("INSERT INTO hq_outbox (kind, ref, payload, created_at) VALUES ('odd', 'odd/1', x'7b7d', ?)", (START.isoformat(),))
    for _ in range(2):
        shop.sell("k2")
    encoders = {**ENCODERS, "odd": lambda row: {"kind": "odd", "event_id": row.ref}}
    with _sync(ledger, client, clock, encoders=encoders, batch_size=8) as sync:
        report = sync.run_once()
        state = sync.item_state(6)
    assert (report.accepted, report.rejected) == (7, 1)
    assert state is not None and state["status"] == "rejected" and "422" in str(state["reason"])
    assert len(hq.sales("s1")) == 7


def test_sent_rows_older_than_the_setting_are_pruned(ledger: Ledger, shop: Shop, client: SimulatedHqClient,
                                                     clock: FakeClock) -> None:
    shop.sell("k1")
    with _sync(ledger, client, clock, settings=HqSyncSettings(prune_after_days=7)) as sync:
        sync.run_once()
        clock.advance(days=3)
        shop.sell("k1")
        sync.run_once()
        clock.advance(days=5)
        shop.sell("k1")  # unsent rows are never pruned
        assert sync.prune_sent() == 1
    assert _outbox(ledger.path, "SELECT COUNT(*), SUM(sent_at IS NULL) FROM hq_outbox")[0] == (2, 1)


def test_the_background_thread_sends_what_arrives(ledger: Ledger, shop: Shop, client: SimulatedHqClient,
                                                  hq: SimulatedHq, clock: FakeClock) -> None:
    done = threading.Event()
    sync = _sync(ledger, client, clock, settings=HqSyncSettings(tick_s=0.01, push_interval_s=1))
    original = sync.run_once

    def watched():  # type: ignore[no-untyped-def]
        r = original()
        if r.accepted:
            done.set()
        return r

    sync.run_once = watched  # type: ignore[method-assign]
    shop.sell("k1")
    with sync.start():
        assert done.wait(30)
    sync.close()
    assert len(hq.sales("s1")) == 1


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(HqSyncConfigError):
        HqSyncSettings(batch_size=0)
    with pytest.raises(HqSyncConfigError):
        HqSyncSettings(backoff_initial_s=10, backoff_max_s=1)
    with pytest.raises(HqSyncConfigError):
        HqSyncSettings(hq_url="ftp://hq")


def test_a_sale_goes_to_hq_with_its_body_read_from_the_ledger_or_from_an_older_outbox_copy(
        ledger: Ledger, shop: Shop, client: SimulatedHqClient, hq: SimulatedHq, clock: FakeClock) -> None:
    sold = shop.sell("k1")
    # this software keeps one copy of the body, in the ledger's sales; an edge upgraded with
    # unsent rows from an earlier version has the copy in the outbox row itself
    assert _outbox(ledger.path, "SELECT length(payload) FROM hq_outbox WHERE kind = 'sale'") == [(0,)]
    older = shop.sell("k2")
    with ledger.transaction() as db:
        db.execute("UPDATE hq_outbox SET payload = (SELECT body FROM sales WHERE sale_id = ?) WHERE ref = ?",
                   (older.sale_id, f"k2/{older.sale_id}"))
        db.execute("UPDATE sales SET body = '{}' WHERE sale_id = ?", (older.sale_id,))  # only the copy is right
    with _sync(ledger, client, clock) as sync:
        assert sync.run_once().accepted == 2
    got = {s["sale_id"]: s for s in hq.sales("s1")}
    assert got[sold.sale_id]["body_hash"] == sold.body_hash
    assert got[older.sale_id]["body_hash"] == older.body_hash
