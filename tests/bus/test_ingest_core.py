"""The edge's ingest core without a broker: idempotency, reuse, gaps, dead letters, stock."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from broker.contract import Sale, decode, decode_acks, encode, kiosk_topic
from edge.ingest import Inbound, IngestCore
from edge.ledger import Ledger
from retail.clock import FakeClock
from tests.bus.helpers import make_sale, tampered

SALE_TOPIC = kiosk_topic("s1", "kiosk-01", "sale")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(tmp_path: Path, clock: FakeClock):
    with Ledger(tmp_path / "ledger.sqlite3", clock=clock) as led:
        yield led


@pytest.fixture
def core(ledger: Ledger, clock: FakeClock) -> IngestCore:
    return IngestCore(ledger, store_id="s1", clock=clock, resync_cooldown_s=30)


def inbound(sale: Sale) -> Inbound:
    return Inbound(kiosk_topic("s1", sale.kiosk_id, "sale"), encode(sale))


def expected_stock(sales: list[Sale]) -> dict[str, tuple[int, int]]:
    units: Counter[str] = Counter()
    grams: Counter[str] = Counter()
    for sale in sales:
        for line in sale.lines:
            units[line.sku] -= line.quantity or 0
            grams[line.sku] -= line.weight_g or 0
    return {sku: (units[sku], grams[sku]) for sku in set(units) | set(grams)}


def test_every_sale_delivered_three_times_shuffled_counts_once(core: IngestCore, ledger: Ledger, clock: FakeClock) -> None:
    rng = random.Random(5)
    sales = [make_sale(rng, seq, clock=clock) for seq in range(1, 41)]
    copies = [inbound(s) for s in sales] * 3
    rng.shuffle(copies)
    outcomes = [o for i in range(0, len(copies), 17) for o in core.process(copies[i:i + 17])]
    assert Counter(o.decision for o in outcomes) == {"accepted": 40, "duplicate": 80}
    first_seen: dict[str, str] = {}
    for o in outcomes:
        first_seen.setdefault(o.sale_id, o.decision)
    assert set(first_seen.values()) == {"accepted"}  # the later copies are the duplicates
    assert ledger.sale_count() == 40
    levels = {sku: (lvl.units, lvl.grams) for sku, lvl in ledger.moves_totals().items()}
    assert levels == expected_stock(sales)
    assert ledger.hq_outbox_count() == 40
    assert ledger.kiosk_sequence("kiosk-01") == (40, 40)
    acks = [o.ack for o in outcomes if o.ack is not None]
    assert Counter(a.status for a in acks) == {"accepted": 40, "duplicate": 80}
    # on the bus: one SaleAcks per kiosk per batch, the batch's acks in arrival order
    batch = copies[:17]
    replies = core.replies(core.process(batch))
    assert [t for t, _ in replies] == ["tillpi/s1/kiosk/kiosk-01/ack"]
    sent = decode("ack", replies[0][1])
    assert [a.sale_id for a in sent.acks] == [json.loads(m.payload)["sale_id"] for m in batch]
    assert {a.status for a in sent.acks} == {"duplicate"}


def test_same_sale_id_with_another_body_keeps_the_original_and_raises_an_alarm(core: IngestCore, ledger: Ledger, clock: FakeClock) -> None:
    rng = random.Random(6)
    original = make_sale(rng, 1, clock=clock)
    impostor = Sale.from_draft(make_sale(rng, 1, clock=clock).draft().model_copy(update={"sale_id": original.sale_id}), 1)
    assert core.process([inbound(original)])[0].decision == "accepted"
    outcome = core.process([inbound(impostor)])[0]
    assert outcome.decision == "rejected"
    assert outcome.ack is not None and outcome.ack.status == "rejected"
    [(topic, payload)] = core.replies([outcome])
    assert topic.endswith("/kiosk-01/ack") and decode_acks(payload) == [outcome.ack]
    assert ledger.sale_body("kiosk-01", original.sale_id) == original
    assert [e.kind for e in ledger.alarm_events()] == ["sale_id_reused"]
    assert ledger.sale_count() == 1


def test_a_sequence_gap_is_recorded_resync_requested_and_cleared_when_filled(core: IngestCore, ledger: Ledger, clock: FakeClock) -> None:
    rng = random.Random(7)
    sales = {seq: make_sale(rng, seq, clock=clock) for seq in range(1, 8)}
    core.process([inbound(sales[s]) for s in (1, 2)])
    outcome = core.process([inbound(sales[5])])[0]
    commands = [decode("cmd", p) for t, p in core.replies([outcome]) if t.endswith("/cmd")]
    assert [(c.kind, c.from_seq, c.kiosk_id) for c in commands] == [("resync", 3, "kiosk-01")]
    assert [(g.first_seq, g.last_seq, g.cleared) for g in ledger.sequence_gaps("kiosk-01")] == [(3, 4, False)]
    # within the cooldown no second command; after it, the still-open gap is asked for again
    assert not [t for t, _ in core.replies(core.process([inbound(sales[6])])) if t.endswith("/cmd")]
    clock.advance(31)
    again = [decode("cmd", p) for t, p in core.replies(core.process([inbound(sales[7])])) if t.endswith("/cmd")]
    assert [c.from_seq for c in again] == [3]
    core.process([inbound(sales[4]), inbound(sales[3])])
    assert ledger.sequence_gaps("kiosk-01", open_only=True) == []
    assert ledger.kiosk_sequence("kiosk-01") == (7, 7)
    kinds = [e.kind for e in ledger.alarm_events()]
    assert kinds == ["sequence_gap", "sequence_gap_cleared"]


def test_hostile_messages_are_dead_lettered_with_an_alarm_and_valid_ones_flow(core: IngestCore, ledger: Ledger, clock: FakeClock) -> None:
    rng = random.Random(8)
    good = [make_sale(rng, seq, clock=clock) for seq in range(1, 5)]
    base = make_sale(rng, 9, clock=clock)
    other_kiosk = make_sale(rng, 1, kiosk_id="kiosk-02", clock=clock)
    hostile = [
        Inbound(SALE_TOPIC, b"{\"schema\": \"tillpi.sale/1\", "),
        Inbound(SALE_TOPIC, tampered(base, **{"lines.0.unit_price_minor": 350.5})),
        Inbound(SALE_TOPIC, tampered(base, **{"lines.0.quantity": -2})),
        Inbound(SALE_TOPIC, tampered(base, **{"totals.total_minor": 7})),
        Inbound(SALE_TOPIC, encode(other_kiosk)),
        Inbound(SALE_TOPIC, tampered(base, **{"lines.0.gtin": "1' OR '1'='1"})),
        Inbound(SALE_TOPIC, tampered(base, **{"lines.0.gtin": "０６９０１２３４"})),
        Inbound("tillpi/s1/kiosk/kiosk-01/../sale", encode(base)),
    ]
    batch = [good[0], *hostile[:4], good[1], *hostile[4:], good[2], good[3]]
    outcomes = core.process([b if isinstance(b, Inbound) else inbound(b) for b in batch])
    assert [o.decision for o in outcomes].count("accepted") == 4
    assert [o.decision for o in outcomes].count("dead_letter") == len(hostile)
    letters = ledger.dead_letters()
    assert [d.payload for d in letters] == [h.payload for h in hostile]
    assert {d.reason for d in letters} == {"invalid_json", "invalid", "kiosk_mismatch", "bad_topic"}
    assert len(ledger.alarm_events("dead_letter")) == len(hostile)
    assert ledger.sale_count() == 4 and ledger.sale_count("kiosk-02") == 0
    assert all(o.ack is None and not o.commands for o in outcomes if o.decision == "dead_letter")
    [(_, payload)] = core.replies(outcomes)
    assert [a.sale_id for a in decode_acks(payload)] == [s.sale_id for s in good]


def test_a_publisher_other_than_the_topic_kiosk_is_dead_lettered(core: IngestCore, ledger: Ledger, clock: FakeClock) -> None:
    sale = make_sale(random.Random(9), 1, clock=clock)
    outcome = core.process([Inbound(SALE_TOPIC, encode(sale), publisher="kiosk-02")])[0]
    assert outcome.decision == "dead_letter" and outcome.reason == "publisher_mismatch"
    assert ledger.sale_count() == 0


def test_the_ledger_uses_wal_full_sync_and_sums_the_moves(ledger: Ledger) -> None:
    db = ledger._db()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2
    with ledger.transaction() as tx:
        ledger.add_stock_move(tx, "receipt", "tea-500", qty=24, ref="po-1", source="staff")
        ledger.add_stock_move(tx, "waste", "tea-500", qty=-2, ref="w-1", source="staff")
    assert ledger.moves_total("tea-500").units == 22
    assert ledger.moves_totals()["tea-500"].units == 22


def test_the_old_on_hand_names_still_answer_but_say_they_are_deprecated(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        ledger.add_stock_move(tx, "receipt", "milk-1l", qty=5, ref="po-2", source="staff")
    with pytest.warns(DeprecationWarning, match="moves_total"):
        assert ledger.on_hand("milk-1l").units == 5
    with pytest.warns(DeprecationWarning, match="moves_totals"):
        assert ledger.stock_levels()["milk-1l"].units == 5


def test_a_message_that_fails_mid_batch_leaves_no_trace_in_the_sequence_tracking(
        core: IngestCore, ledger: Ledger, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(10)
    sales = [make_sale(rng, seq, clock=clock) for seq in range(1, 5)]
    real = ledger.insert_sale_if_new

    def failing(db, sale, body, rows=None):  # noqa: ANN001 - the ledger's own signature
        row = real(db, sale, body, rows)
        if sale.seq == 2:
            raise RuntimeError("bug after the insert")
        return row

    monkeypatch.setattr(ledger, "insert_sale_if_new", failing)
    outcomes = core.process([inbound(s) for s in sales])
    assert [o.decision for o in outcomes] == ["accepted", "dead_letter", "accepted", "accepted"]
    assert ledger.sale_count() == 3, "the failed message's insert is rolled back with its savepoint"
    assert ledger.hq_outbox_count() == 3, "and its outbox row with it"
    levels = {sku: (lvl.units, lvl.grams) for sku, lvl in ledger.moves_totals().items()}
    assert levels == expected_stock(sales[:1] + sales[2:]), "and its stock moves"
    assert ledger.kiosk_sequence("kiosk-01") == (1, 4)
    assert [(g.first_seq, g.last_seq) for g in ledger.sequence_gaps("kiosk-01", open_only=True)] == [(2, 2)]
    monkeypatch.setattr(ledger, "insert_sale_if_new", real)
    assert core.process([inbound(sales[1])])[0].decision == "accepted"
    assert ledger.kiosk_sequence("kiosk-01") == (4, 4)
    assert ledger.sequence_gaps("kiosk-01", open_only=True) == []


def test_a_sequence_number_used_again_by_another_sale_raises_an_alarm(core: IngestCore, ledger: Ledger, clock: FakeClock) -> None:
    rng = random.Random(11)
    first, second, again = make_sale(rng, 1, clock=clock), make_sale(rng, 2, clock=clock), make_sale(rng, 1, clock=clock)
    outcomes = core.process([inbound(first), inbound(second), inbound(again)])
    assert [o.decision for o in outcomes] == ["accepted", "accepted", "accepted"]
    assert [(e.kind, e.key) for e in ledger.alarm_events()] == [("sequence_reused", "kiosk-01/1")]
    assert core.process([inbound(first)])[0].decision == "duplicate"
    assert len(ledger.alarm_events("sequence_reused")) == 1
