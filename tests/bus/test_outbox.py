"""The kiosk's sale journal: gapless numbering, durability, acknowledgements, migrations."""

from __future__ import annotations

import random
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from broker.contract import SaleAck
from kiosk.outbox import OutboxIdentityError, OutboxSchemaError, SaleOutbox
from kiosk.outbox.migrations import STEPS
from kiosk.simulated_seller import random_sale_draft
from retail.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox(tmp_path: Path, clock: FakeClock):
    with SaleOutbox(tmp_path / "journal.sqlite3", store_id="s1", kiosk_id="kiosk-01", clock=clock) as box:
        yield box


def draft(rng: random.Random, clock: FakeClock, kiosk: str = "kiosk-01"):
    return random_sale_draft(rng, store_id="s1", kiosk_id=kiosk, clock=clock)


def ack(sale, status: str = "accepted") -> SaleAck:
    return SaleAck(kiosk_id=sale.kiosk_id, sale_id=sale.sale_id, seq=sale.seq, status=status, reason="test")


def test_sequence_numbers_are_gapless_even_from_several_threads(outbox: SaleOutbox, clock: FakeClock) -> None:
    drafts = [draft(random.Random(i), clock) for i in range(80)]
    seqs: list[int] = []

    def sell(part: list) -> None:
        seqs.extend(outbox.record_sale(d).seq for d in part)

    threads = [threading.Thread(target=sell, args=(drafts[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seqs) == list(range(1, 81))
    assert outbox.last_seq == 80 and outbox.pending_count() == 80


def test_a_recorded_sale_is_committed_before_record_sale_returns(tmp_path: Path, outbox: SaleOutbox, clock: FakeClock) -> None:
    sale = outbox.record_sale(draft(random.Random(1), clock))
    other = sqlite3.connect(tmp_path / "journal.sqlite3")
    row = other.execute("SELECT seq, body_hash, state FROM sales WHERE sale_id = ?", (sale.sale_id,)).fetchone()
    other.close()
    assert row == (1, sale.body_hash, "pending")


def test_pragmas_are_wal_and_full_sync(tmp_path: Path, outbox: SaleOutbox) -> None:
    conn = outbox._db()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_accepted_and_duplicate_acks_mark_done_and_rejected_is_kept_with_an_alarm(outbox: SaleOutbox, clock: FakeClock) -> None:
    rng = random.Random(2)
    a, b, c = (outbox.record_sale(draft(rng, clock)) for _ in range(3))
    outcomes = outbox.apply_acks([ack(a), ack(b, "duplicate"), ack(c, "rejected")])
    assert [o.changed for o in outcomes] == [True, True, True]
    assert outbox.states() == {a.sale_id: "done", b.sale_id: "done", c.sale_id: "rejected"}
    assert outbox.alarm_events() == [("sale_rejected", c.sale_id, "seq 3: test")]
    assert outbox.pending_count() == 0
    assert not outbox.apply_acks([ack(a)])[0].changed  # a repeated ack changes nothing


def test_acks_for_unknown_sales_or_wrong_seq_are_ignored(outbox: SaleOutbox, clock: FakeClock) -> None:
    sale = outbox.record_sale(draft(random.Random(3), clock))
    wrong = SaleAck(kiosk_id="kiosk-01", sale_id=sale.sale_id, seq=99, status="accepted")
    assert not outbox.apply_acks([wrong])[0].changed
    assert outbox.states()[sale.sale_id] == "pending"


def test_recording_the_same_sale_twice_returns_the_stored_one(outbox: SaleOutbox, clock: FakeClock) -> None:
    d = draft(random.Random(4), clock)
    assert outbox.record_sale(d) == outbox.record_sale(d)
    assert outbox.last_seq == 1
    other = draft(random.Random(5), clock).model_copy(update={"sale_id": d.sale_id})
    with pytest.raises(OutboxIdentityError):
        outbox.record_sale(other)


def test_a_sale_of_another_kiosk_is_refused(outbox: SaleOutbox, clock: FakeClock) -> None:
    with pytest.raises(OutboxIdentityError):
        outbox.record_sale(draft(random.Random(6), clock, kiosk="kiosk-02"))


def test_reopen_from_makes_done_sales_pending_again(outbox: SaleOutbox, clock: FakeClock) -> None:
    rng = random.Random(8)
    sales = [outbox.record_sale(draft(rng, clock)) for _ in range(5)]
    outbox.apply_acks([ack(s) for s in sales[:4]] + [ack(sales[4], "rejected")])
    assert outbox.reopen_from(3) == 2
    assert [e.seq for e in outbox.pending()] == [3, 4]


def test_session_and_identity_persist_across_reopen(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "j.sqlite3"
    with SaleOutbox(path, store_id="s1", kiosk_id="kiosk-01", clock=clock) as box:
        assert box.next_session() == 1
        assert box.next_session() == 2
        assert box.command_is_new("c1", "resync") and not box.command_is_new("c1", "resync")
    with SaleOutbox(path, store_id="s1", kiosk_id="kiosk-01", clock=clock) as box:
        assert box.session == 2 and box.next_session() == 3
        assert not box.command_is_new("c1", "resync")
    with pytest.raises(OutboxIdentityError):
        SaleOutbox(path, store_id="s1", kiosk_id="kiosk-02", clock=clock)


def test_a_version_1_journal_with_sales_is_upgraded_keeping_them(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in STEPS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO meta VALUES ('store_id', 's1'), ('kiosk_id', 'kiosk-01'), ('last_seq', '1')")
    conn.execute("INSERT INTO sales (seq, sale_id, body, body_hash, business_date, total_minor, currency, recorded_at)"
                 " VALUES (1, 'old', x'7b7d', 'h', '2026-01-05', 100, 'CNY', '2026-01-05T09:00:00+00:00')")
    conn.close()
    with SaleOutbox(path, store_id="s1", kiosk_id="kiosk-01", clock=clock) as box:
        assert box.schema_version == len(STEPS)
        assert box.states() == {"old": "pending"}
        assert box.record_sale(draft(random.Random(9), clock)).seq == 2


def test_a_journal_from_newer_software_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "new.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(STEPS) + 1}")
    conn.close()
    with pytest.raises(OutboxSchemaError):
        SaleOutbox(path, store_id="s1", kiosk_id="kiosk-01", clock=clock)


def test_prune_deletes_only_old_done_sales_and_numbering_continues(outbox: SaleOutbox, clock: FakeClock) -> None:
    rng = random.Random(10)
    sales = [outbox.record_sale(draft(rng, clock)) for _ in range(3)]
    outbox.apply_acks([ack(sales[0]), ack(sales[1], "rejected")])
    clock.advance(days=8)
    assert outbox.prune_done(clock.now() - timedelta(days=7)) == 1
    assert set(outbox.states()) == {sales[1].sale_id, sales[2].sale_id}
    assert outbox.record_sale(draft(rng, clock)).seq == 4


def test_close_is_idempotent(tmp_path: Path, clock: FakeClock) -> None:
    box = SaleOutbox(tmp_path / "x.sqlite3", store_id="s1", kiosk_id="kiosk-01", clock=clock)
    box.close()
    box.close()
    assert box.closed


def test_entries_reads_the_asked_rows_with_their_exact_bytes_and_states_and_skips_unknown_seqs(
    outbox: SaleOutbox, clock: FakeClock
) -> None:
    sales = [outbox.record_sale(draft(random.Random(100 + i), clock)) for i in range(5)]
    outbox.apply_acks([ack(sales[1])])
    found = outbox.entries([5, 2, 4, 99, 2])
    assert sorted(found) == [2, 4, 5]
    assert found[2].state == "done" and found[4].state == "pending"
    assert found[5].body == outbox.entry(5).body and found[5].sale_id == sales[4].sale_id


def test_entries_reads_more_rows_than_one_query_may_bind(outbox: SaleOutbox, clock: FakeClock) -> None:
    rng = random.Random(7)
    for _ in range(1203):
        outbox.record_sale(draft(rng, clock))
    found = outbox.entries(range(1, 1300))
    assert sorted(found) == list(range(1, 1204))


def test_has_pending_is_true_until_the_last_pending_sale_is_acknowledged(outbox: SaleOutbox, clock: FakeClock) -> None:
    assert not outbox.has_pending()
    first = outbox.record_sale(draft(random.Random(1), clock))
    second = outbox.record_sale(draft(random.Random(2), clock))
    outbox.apply_acks([ack(first)])
    assert outbox.has_pending()
    outbox.apply_acks([ack(second, "rejected")])
    assert not outbox.has_pending()


def _traced(box: SaleOutbox) -> list[str]:
    statements: list[str] = []
    box._db().set_trace_callback(statements.append)
    return statements


def test_a_sale_commits_with_full_sync_and_a_done_mark_without_waiting_for_the_disk(outbox: SaleOutbox, clock: FakeClock) -> None:
    statements = _traced(outbox)
    sale = outbox.record_sale(draft(random.Random(11), clock))
    recorded = list(statements)
    assert not any("synchronous" in s for s in recorded), "recording a sale must keep synchronous=FULL"
    statements.clear()
    outbox.apply_acks([ack(sale)])
    sync = [s for s in statements if "synchronous" in s]
    assert sync == ["PRAGMA synchronous=NORMAL", "PRAGMA synchronous=FULL"]
    assert statements.index("PRAGMA synchronous=NORMAL") < statements.index("COMMIT") < statements.index("PRAGMA synchronous=FULL")
    assert outbox._db().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again for the next sale
    assert outbox.states() == {sale.sale_id: "done"}


def test_sync_acks_keeps_done_marks_fully_synced(tmp_path: Path, clock: FakeClock) -> None:
    with SaleOutbox(tmp_path / "j.sqlite3", store_id="s1", kiosk_id="kiosk-01", clock=clock, sync_acks=True) as box:
        sale = box.record_sale(draft(random.Random(12), clock))
        statements = _traced(box)
        box.apply_acks([ack(sale)])
        assert not any("synchronous" in s for s in statements)
        assert box.states() == {sale.sale_id: "done"}


def test_two_acks_for_one_sale_in_a_batch_count_as_a_change_and_a_repeat(outbox: SaleOutbox, clock: FakeClock) -> None:
    sale = outbox.record_sale(draft(random.Random(13), clock))
    outcomes = outbox.apply_acks([ack(sale), ack(sale, "duplicate")])
    assert [o.changed for o in outcomes] == [True, False]
    count = outbox._db().execute("SELECT ack_count, ack_status FROM sales WHERE seq = 1").fetchone()
    assert count == (2, "duplicate")


def test_pending_seqs_lists_pending_numbers_in_order_without_the_excluded(outbox: SaleOutbox, clock: FakeClock) -> None:
    rng = random.Random(14)
    sales = [outbox.record_sale(draft(rng, clock)) for _ in range(6)]
    outbox.apply_acks([ack(sales[1])])
    assert outbox.pending_seqs(3, exclude={1}) == [3, 4, 5]
    assert outbox.pending_seqs(10) == [1, 3, 4, 5, 6]
    assert outbox.pending_seqs(0) == []


def test_the_sale_bus_leaves_staff_commands_unclaimed_for_the_kiosk_service(tmp_path) -> None:  # noqa: ANN001
    """The sale bus and the kiosk service's control link share the journal's repeat check;
    an ``approve`` seen first by the sale bus must still be new to the control link."""
    import uuid
    from datetime import timedelta

    from broker.contract import Command
    from broker.endpoint import MqttEndpoint
    from kiosk.bus.mqtt import MqttKioskBus
    from kiosk.outbox.journal import SaleOutbox
    from retail.clock import FakeClock

    clock = FakeClock()
    with SaleOutbox(tmp_path / "j.sqlite", store_id="s1", kiosk_id="kiosk-01", clock=clock) as outbox:
        bus = MqttKioskBus(MqttEndpoint("127.0.0.1", 9, "kiosk-01", "x"), outbox, clock=clock)
        approve = Command(command_id=str(uuid.uuid4()), kiosk_id="kiosk-01", kind="approve", request_id="r1",
                          staff_id="S1", approve=True, issued_at=clock.now(),
                          expires_at=clock.now() + timedelta(minutes=2))
        bus._handle_command(approve)
        assert outbox.command_is_new(approve.command_id, approve.kind)
