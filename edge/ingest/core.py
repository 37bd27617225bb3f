"""Sale ingest: validate, record idempotently in one transaction, decide the answer.

No MQTT here: an adapter feeds :meth:`IngestCore.process` a batch of inbound messages and,
only after it returns (the ledger committed), publishes :meth:`IngestCore.replies` (one
``SaleAcks`` message per kiosk for the batch, then any commands) and releases the broker
acknowledgements. For each sale:

* the topic's kiosk, the body's ``kiosk_id`` (and the MQTT user, when the adapter knows it)
  must agree, and the body must pass the contract;
* keyed by ``(kiosk_id, sale_id)``: same key and same hash -> ``duplicate``; same key and
  another hash -> the original is kept, ``rejected`` and alarm ``sale_id_reused``; a new key
  -> sale, lines, stock moves and HQ-outbox row inserted -> ``accepted``;
* anything unreadable goes to the dead letters with its raw bytes and an alarm; the stream
  goes on;
* per kiosk, a sequence number above highest+1 records a gap, raises ``sequence_gap`` and
  sends that kiosk a ``resync`` command from the first missing number (again at most every
  ``resync_cooldown_s`` while the gap stays open); filling it raises ``sequence_gap_cleared``.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Literal, Sequence

from broker.contract import (
    Command,
    ContractError,
    Sale,
    SaleAck,
    SaleAcks,
    TopicError,
    TopicRef,
    decode,
    encode,
    kiosk_topic,
    parse_topic,
)
from edge.errors import LedgerError
from edge.ledger import Ledger, SaleRows
from retail.clock import Clock

__all__ = ["Decision", "Inbound", "IngestCore", "Outcome", "in_process_edge"]

log = logging.getLogger(__name__)

Decision = Literal["accepted", "duplicate", "rejected", "dead_letter"]

#: Parsed topics kept (a store's kiosks each publish on one sale topic).
_TOPIC_CACHE = 4096


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message as it arrived: topic, raw bytes, and the MQTT user if the adapter knows it."""

    topic: str
    payload: bytes
    publisher: str | None = None


@dataclass(slots=True)
class Outcome:
    """What ingest decided for one message, and what to send once the ledger committed: the
    kiosk's ``ack`` (none for a dead letter) and any ``commands`` (a resync)."""

    decision: Decision
    kiosk_id: str | None = None
    sale_id: str | None = None
    seq: int | None = None
    reason: str = ""
    ack: SaleAck | None = None
    commands: list[Command] = field(default_factory=list)


class IngestCore:
    """The sale ingest decision core over a :class:`Ledger`; no broker needed."""

    def __init__(self, ledger: Ledger, *, store_id: str, clock: Clock, resync_cooldown_s: float = 30.0,
                 command_ttl_s: int = 300) -> None:
        self._ledger = ledger
        self._store = store_id
        self._clock = clock
        self._cooldown = timedelta(seconds=resync_cooldown_s)
        self._command_ttl = timedelta(seconds=command_ttl_s)
        self._topics: dict[str, TopicRef] = {}  # topic -> parsed, one entry per kiosk in practice

    @property
    def ledger(self) -> Ledger:
        return self._ledger

    def process(self, batch: Sequence[Inbound]) -> list[Outcome]:
        """Decide every message of ``batch`` in one ledger transaction.

        The batch is decided in one go, with the new sales' lines, moves and outbox rows written
        together at the end. Should a message fail for any reason but the database's own (a
        bug: validation failures are answers, not exceptions), the whole attempt is undone and
        the batch decided again with one savepoint per message, so that only the failing
        message becomes a dead letter and the stream goes on.
        """
        with self._ledger.transaction() as db:
            try:
                with self._ledger.savepoint(db, "batch"):
                    return self._decide(db, batch, isolate=False)
            except sqlite3.Error:
                raise  # the database itself failed: nothing of the batch is acknowledged
            except Exception:
                log.warning("a message failed in a batch of %d; deciding each message alone", len(batch))
            return self._decide(db, batch, isolate=True)

    def _decide(self, db: sqlite3.Connection, batch: Sequence[Inbound], *, isolate: bool) -> list[Outcome]:
        outcomes: list[Outcome] = []
        rows = SaleRows(at=self._ledger.now())  # the batch's sales are received together
        # Each kiosk's sequence row, read once per batch and written once at its end; a
        # message's change is kept only once the message went through (in isolation: once its
        # savepoint is released, so a failed message leaves it as it was).
        sequences: dict[str, _SeqState] = {}
        for message in batch:
            pending: list[tuple[str, _SeqState]] = []
            if not isolate:
                outcomes.append(self._one(db, message, sequences, pending, rows))
                sequences.update(pending)
                continue
            try:
                with self._ledger.savepoint(db):
                    outcomes.append(self._one(db, message, sequences, pending, rows))
                    rows.flush(db)
            except sqlite3.Error:
                raise
            except Exception as exc:  # a bug on one message must not block the stream
                log.exception("ingest failed on a message from %s", message.topic)
                rows.clear()
                with self._ledger.savepoint(db):
                    self._ledger.dead_letter(db, message.topic, message.payload, "internal_error", repr(exc))
                    self._ledger.alarm(db, "dead_letter", message.topic, f"internal_error: {exc!r}")
                outcomes.append(Outcome("dead_letter", reason="internal_error"))
                continue
            sequences.update(pending)
        rows.flush(db)
        db.executemany(
            "INSERT INTO kiosk_sequences (kiosk_id, highest_contiguous, highest_seen, last_resync_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kiosk_id) DO UPDATE SET highest_contiguous = excluded.highest_contiguous,"
            " highest_seen = excluded.highest_seen, last_resync_at = excluded.last_resync_at",
            [(kiosk, st.contiguous, st.seen, st.last_resync) for kiosk, st in sequences.items()],
        )
        return outcomes

    def replies(self, outcomes: Sequence[Outcome]) -> list[tuple[str, bytes]]:
        """``(topic, payload)`` to publish for ``outcomes`` once committed: per kiosk one
        :class:`SaleAcks` with its acks in arrival order, then the commands."""
        acks = [o.ack for o in outcomes if o.ack is not None]
        out = [(kiosk_topic(self._store, m.kiosk_id, "ack"), encode(m)) for m in SaleAcks.batches(acks)]
        out.extend((kiosk_topic(self._store, c.kiosk_id, "cmd"), encode(c)) for o in outcomes for c in o.commands)
        return out

    # -- one message -----------------------------------------------------------------------------
    def _dead(self, db: sqlite3.Connection, m: Inbound, reason: str, detail: str, kiosk_id: str | None) -> Outcome:
        self._ledger.dead_letter(db, m.topic, m.payload, reason, detail)
        self._ledger.alarm(db, "dead_letter", m.topic, f"{reason}: {detail}")
        outcome = Outcome("dead_letter", kiosk_id=kiosk_id, reason=reason)
        # No ack: a corrupted copy of a real sale must not close the kiosk's valid original,
        # which is re-sent and accepted; the kiosk's own contract check keeps it valid.
        return outcome

    def _one(self, db: sqlite3.Connection, m: Inbound, sequences: dict[str, _SeqState],
             pending: list[tuple[str, _SeqState]], rows: SaleRows) -> Outcome:
        ref = self._topics.get(m.topic)
        if ref is None:
            try:
                ref = parse_topic(m.topic)
            except TopicError as exc:
                return self._dead(db, m, "bad_topic", str(exc), None)
            if len(self._topics) < _TOPIC_CACHE:
                self._topics[m.topic] = ref
        if ref.store_id != self._store or ref.kind != "sale" or ref.kiosk_id is None:
            return self._dead(db, m, "bad_topic", f"not a sale topic of store {self._store}: {m.topic}", None)
        kiosk = ref.kiosk_id
        if m.publisher is not None and m.publisher != kiosk:
            return self._dead(db, m, "publisher_mismatch", f"user {m.publisher!r} published on {kiosk}'s topic", None)
        try:
            sale: Sale = decode("sale", m.payload)
        except ContractError as exc:
            return self._dead(db, m, exc.reason, exc.detail, kiosk)
        if sale.kiosk_id != kiosk:
            return self._dead(db, m, "kiosk_mismatch", f"body names kiosk {sale.kiosk_id!r} on {kiosk}'s topic", kiosk)
        if sale.store_id != self._store:
            return self._dead(db, m, "store_mismatch", f"body names store {sale.store_id!r}", kiosk)

        state = sequences.get(kiosk)
        if state is None:
            state = self._read_sequence(db, kiosk)
        if sale.seq <= state.seen:
            # A number at or below the highest seen may already belong to another sale. Above
            # it, no stored sale of this kiosk can hold it (highest_seen covers every sale
            # ingest stored), so the common, in-order case skips this look-up.
            clash = db.execute(
                "SELECT sale_id FROM sales WHERE kiosk_id = ? AND seq = ? AND sale_id <> ?", (kiosk, sale.seq, sale.sale_id)
            ).fetchone()
        else:
            clash = None
        if self._ledger.insert_sale_if_new(db, sale, bytes(m.payload), rows) is None:
            existing = self._ledger.find_sale(db, kiosk, sale.sale_id)
            if existing is None:  # pragma: no cover - the insert just found it
                raise LedgerError(f"sale {kiosk}/{sale.sale_id} neither new nor stored")
            if existing.body_hash == sale.body_hash:
                status, reason = "duplicate", ""
            else:
                status, reason = "rejected", "sale_id reused with another body; the original is kept"
                self._ledger.alarm(
                    db, "sale_id_reused", f"{kiosk}/{sale.sale_id}",
                    f"seq {sale.seq} hash {sale.body_hash[:12]} differs from stored seq {existing.seq} hash {existing.body_hash[:12]}",
                )
            ack = SaleAck(kiosk_id=kiosk, sale_id=sale.sale_id, seq=sale.seq, status=status, reason=reason)  # type: ignore[arg-type]
            return Outcome(status, kiosk, sale.sale_id, sale.seq, reason, ack)  # type: ignore[arg-type]

        if clash is not None:
            self._ledger.alarm(db, "sequence_reused", f"{kiosk}/{sale.seq}", f"seq {sale.seq} already used by sale {clash[0]}")
        # the values come from the sale just validated: no need to check them again
        ack = SaleAck.model_construct(kiosk_id=kiosk, sale_id=sale.sale_id, seq=sale.seq, status="accepted")
        commands, new_state = self._track_sequence(db, kiosk, sale.seq, state)
        pending.append((kiosk, new_state))
        return Outcome("accepted", kiosk, sale.sale_id, sale.seq, ack=ack, commands=commands)

    # -- sequence tracking ---------------------------------------------------------------------
    def _read_sequence(self, db: sqlite3.Connection, kiosk: str) -> _SeqState:
        row = db.execute(
            "SELECT highest_contiguous, highest_seen, last_resync_at FROM kiosk_sequences WHERE kiosk_id = ?", (kiosk,)
        ).fetchone()
        if row is None:
            return _SeqState(0, 0, None)
        return _SeqState(int(row[0]), int(row[1]), row[2])

    def _track_sequence(self, db: sqlite3.Connection, kiosk: str, seq: int,
                        state: _SeqState) -> tuple[list[Command], _SeqState]:
        contiguous, seen, last_resync = state.contiguous, state.seen, state.last_resync
        # Open gaps exist only while contiguous < seen: every advance of ``contiguous`` clears
        # the gaps it passed, so an in-order sale needs neither of the look-ups below.
        may_have_gaps = contiguous < seen
        now_text: str | None = None
        if seq > seen + 1:
            first, last = seen + 1, seq - 1
            now_text = self._clock.now().isoformat()
            db.execute(
                "INSERT INTO sequence_gaps (kiosk_id, first_seq, last_seq, detected_at) VALUES (?, ?, ?, ?)",
                (kiosk, first, last, now_text),
            )
            self._ledger.alarm(db, "sequence_gap", kiosk, f"missing seq {first}..{last}")
        seen = max(seen, seq)
        if seq == contiguous + 1:
            contiguous = seq
            if may_have_gaps:
                while db.execute("SELECT 1 FROM sales WHERE kiosk_id = ? AND seq = ?", (kiosk, contiguous + 1)).fetchone():
                    contiguous += 1
                cleared = db.execute(
                    "SELECT id, first_seq, last_seq FROM sequence_gaps WHERE kiosk_id = ? AND cleared_at IS NULL AND last_seq <= ?",
                    (kiosk, contiguous),
                ).fetchall()
                for gap_id, first, last in cleared:
                    now_text = now_text or self._clock.now().isoformat()
                    db.execute("UPDATE sequence_gaps SET cleared_at = ? WHERE id = ?", (now_text, gap_id))
                    self._ledger.alarm(db, "sequence_gap_cleared", kiosk, f"seq {first}..{last} filled")
        commands: list[Command] = []
        if contiguous < seen:
            now = self._clock.now()
            due = last_resync is None or now - datetime.fromisoformat(last_resync) >= self._cooldown
            if due:
                cmd = Command(
                    command_id=str(uuid.uuid4()), kiosk_id=kiosk, kind="resync", from_seq=contiguous + 1,
                    issued_at=now, expires_at=now + self._command_ttl,
                )
                commands.append(cmd)
                last_resync = now.isoformat()
                log.info("resync from seq %d requested from %s", contiguous + 1, kiosk)
        return commands, _SeqState(contiguous, seen, last_resync)


@dataclass(frozen=True, slots=True)
class _SeqState:
    """A kiosk's ``kiosk_sequences`` row as this transaction sees it."""

    contiguous: int
    seen: int
    last_resync: str | None


def in_process_edge(core: IngestCore) -> Callable[[str, bytes], list[tuple[str, bytes]]]:
    """The edge as a function ``(topic, payload) -> replies``, for :class:`SimulatedKioskBus`."""

    def deliver(topic: str, payload: bytes) -> list[tuple[str, bytes]]:
        return core.replies(core.process([Inbound(topic, payload)]))

    return deliver
