"""The kiosk's sale journal: every finished sale, numbered and durable before anything else.

``record_sale`` assigns the next gapless sequence number and commits the sale, its JSON body
and its hash in one transaction (SQLite WAL, ``synchronous=FULL``) and only then returns; the
receipt is printed after that and the bus publishes from the journal. A sale stays ``pending``
until the edge application acknowledges it: ``accepted`` or ``duplicate`` mark it ``done``
(history is kept until pruned), ``rejected`` keeps it flagged with a local alarm event. Nothing
is ever deleted silently.

Durability: a sale is committed with a full sync. An acknowledgement's done-mark is committed
without waiting for the disk (WAL, ``synchronous=NORMAL`` for that one transaction; the database
stays consistent). A done-mark lost to a power cut only leaves the sale pending: it is sent again
and the edge, which has it, answers ``duplicate``. ``sync_acks=True`` syncs done-marks too.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from broker.contract import Sale, SaleAck, SaleDraft, encode
from kiosk.outbox.errors import OutboxClosedError, OutboxError, OutboxIdentityError
from kiosk.outbox.migrations import migrate
from retail.clock import Clock

__all__ = ["AckOutcome", "JournalEntry", "SaleOutbox"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journal row as the publisher needs it: the exact bytes to send."""

    seq: int
    sale_id: str
    body: bytes
    state: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class AckOutcome:
    """What an acknowledgement did: ``changed`` is False for a repeat or an unknown sale."""

    sale_id: str
    seq: int
    status: str
    changed: bool


class SaleOutbox:
    """The durable sale journal of one kiosk (a context manager; ``close()`` is idempotent).

    Thread-safe: the selling thread records while the bus worker reads and acknowledges.
    """

    def __init__(self, path: str | Path, *, store_id: str, kiosk_id: str, clock: Clock, sync_acks: bool = False) -> None:
        self._path = Path(path)
        self._clock = clock
        self._sync_acks = sync_acks
        self.store_id = store_id
        self.kiosk_id = kiosk_id
        self._lock = threading.RLock()
        self._listeners: list[Callable[[int], None]] = []
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            str(self._path), isolation_level=None, check_same_thread=False, timeout=30
        )
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self.schema_version = migrate(self._conn)
            self._claim_identity()
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> SaleOutbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def closed(self) -> bool:
        return self._conn is None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise OutboxClosedError("the sale journal is closed")
        return self._conn

    def _meta(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db().execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _claim_identity(self) -> None:
        with self._transaction():
            for key, value in (("store_id", self.store_id), ("kiosk_id", self.kiosk_id)):
                stored = self._meta(key)
                if stored is None:
                    self._set_meta(key, value)
                elif stored != value:
                    raise OutboxIdentityError(f"journal {self._path} belongs to {key} {stored!r}, not {value!r}")

    def _transaction(self) -> _Tx:
        return _Tx(self._db(), self._lock)

    # -- listeners ------------------------------------------------------------------------------
    def add_listener(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(seq)`` after each newly recorded sale committed (the bus wakes up)."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[int], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    # -- recording ------------------------------------------------------------------------------
    def record_sale(self, draft: SaleDraft) -> Sale:
        """Number ``draft`` and commit it; return the :class:`Sale` to print and publish.

        Recording the same ``sale_id`` again (a retry after a crash) returns the stored sale if
        the body is the same, and raises :class:`OutboxIdentityError` if it differs.
        """
        if draft.kiosk_id != self.kiosk_id or draft.store_id != self.store_id:
            raise OutboxIdentityError(
                f"sale for {draft.store_id}/{draft.kiosk_id} recorded on {self.store_id}/{self.kiosk_id}"
            )
        with self._transaction():
            db = self._db()
            row = db.execute("SELECT body FROM sales WHERE sale_id = ?", (draft.sale_id,)).fetchone()
            if row is not None:
                existing = Sale.model_validate_json(row[0])
                if existing.draft() != draft:
                    raise OutboxIdentityError(f"sale {draft.sale_id} already recorded with another body")
                return existing
            seq = int(self._meta("last_seq") or 0) + 1
            sale = Sale.from_draft(draft, seq)
            db.execute(
                "INSERT INTO sales (seq, sale_id, body, body_hash, business_date, total_minor, currency, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    sale.sale_id,
                    encode(sale),
                    sale.body_hash,
                    sale.business_date.isoformat(),
                    sale.totals.total_minor,
                    sale.currency,
                    self._clock.now().isoformat(),
                ),
            )
            self._set_meta("last_seq", str(seq))
        log.debug("sale %s recorded as seq %d", sale.sale_id, seq)
        for callback in list(self._listeners):
            try:
                callback(seq)
            except Exception:  # a listener must never undo a committed sale
                log.exception("sale journal listener failed")
        return sale

    # -- reading --------------------------------------------------------------------------------
    @property
    def last_seq(self) -> int:
        with self._lock:
            return int(self._meta("last_seq") or 0)

    def pending(self, limit: int | None = None, *, from_seq: int = 1, exclude: Iterable[int] = ()) -> list[JournalEntry]:
        """Pending sales in sequence order, from ``from_seq``, skipping ``exclude``."""
        skip = set(exclude)
        out: list[JournalEntry] = []
        with self._lock:
            cur = self._db().execute(
                "SELECT seq, sale_id, body, state, recorded_at FROM sales WHERE state = 'pending' AND seq >= ? ORDER BY seq",
                (from_seq,),
            )
            for seq, sale_id, body, state, recorded_at in cur:
                if seq in skip:
                    continue
                out.append(JournalEntry(seq, sale_id, bytes(body), state, datetime.fromisoformat(recorded_at)))
                if limit is not None and len(out) >= limit:
                    break
            cur.close()
        return out

    def pending_seqs(self, limit: int, *, exclude: Iterable[int] = ()) -> list[int]:
        """The lowest ``limit`` pending sequence numbers not in ``exclude``, read from the
        ``(state, seq)`` index alone (no bodies): what a publisher asks before it reads the
        bodies of the ones it will send."""
        skip = set(exclude)
        out: list[int] = []
        if limit <= 0:
            return out
        with self._lock:
            cur = self._db().execute("SELECT seq FROM sales WHERE state = 'pending' ORDER BY seq")
            for (seq,) in cur:
                if seq in skip:
                    continue
                out.append(seq)
                if len(out) >= limit:
                    break
            cur.close()
        return out

    def entry(self, seq: int) -> JournalEntry | None:
        with self._lock:
            row = self._db().execute(
                "SELECT seq, sale_id, body, state, recorded_at FROM sales WHERE seq = ?", (seq,)
            ).fetchone()
        if row is None:
            return None
        return JournalEntry(row[0], row[1], bytes(row[2]), row[3], datetime.fromisoformat(row[4]))

    def entries(self, seqs: Iterable[int]) -> dict[int, JournalEntry]:
        """The journal rows of ``seqs`` (those that exist), read in one query."""
        wanted = sorted(set(seqs))
        out: dict[int, JournalEntry] = {}
        with self._lock:
            db = self._db()
            for start in range(0, len(wanted), 500):  # stay under SQLite's parameter limit
                chunk = wanted[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for seq, sale_id, body, state, recorded_at in db.execute(
                    f"SELECT seq, sale_id, body, state, recorded_at FROM sales WHERE seq IN ({marks})", chunk
                ):
                    out[seq] = JournalEntry(seq, sale_id, bytes(body), state, datetime.fromisoformat(recorded_at))
        return out

    def sale(self, seq: int) -> Sale | None:
        entry = self.entry(seq)
        return None if entry is None else Sale.model_validate_json(entry.body)

    def states(self) -> dict[str, str]:
        """``sale_id -> state`` for every sale still in the journal."""
        with self._lock:
            return {r[0]: r[1] for r in self._db().execute("SELECT sale_id, state FROM sales")}

    def has_pending(self) -> bool:
        """True while any sale waits for the edge's acknowledgement (one index probe; cheaper
        than :meth:`pending_count` for a caller that polls)."""
        with self._lock:
            return self._db().execute("SELECT 1 FROM sales WHERE state = 'pending' LIMIT 1").fetchone() is not None

    def pending_count(self) -> int:
        with self._lock:
            return int(self._db().execute("SELECT COUNT(*) FROM sales WHERE state = 'pending'").fetchone()[0])

    def oldest_pending_at(self) -> datetime | None:
        with self._lock:
            row = self._db().execute("SELECT MIN(recorded_at) FROM sales WHERE state = 'pending'").fetchone()
        return None if row[0] is None else datetime.fromisoformat(row[0])

    def alarm_events(self) -> list[tuple[str, str, str]]:
        """Local alarm events ``(kind, key, detail)`` in the order raised."""
        with self._lock:
            return [tuple(r) for r in self._db().execute("SELECT kind, key, detail FROM alarm_events ORDER BY id")]

    # -- acknowledgements and commands ---------------------------------------------------------
    def apply_acks(self, acks: Iterable[SaleAck]) -> list[AckOutcome]:
        """Apply the edge's acknowledgements in one transaction (see the module's note on
        durability: the done-marks are not synced unless ``sync_acks``)."""
        mine: list[SaleAck] = []
        for ack in acks:
            if ack.kiosk_id != self.kiosk_id:
                log.warning("ack for kiosk %s ignored on %s", ack.kiosk_id, self.kiosk_id)
                continue
            mine.append(ack)
        if not mine:
            return []
        outcomes: list[AckOutcome] = []
        now = self._clock.now().isoformat()
        with self._lock:
            relaxed = not self._sync_acks and not self._db().in_transaction
            if relaxed:
                self._db().execute("PRAGMA synchronous=NORMAL")
            try:
                with self._transaction() as db:
                    found: dict[str, tuple[int, str]] = {}
                    ids = sorted({a.sale_id for a in mine})
                    for start in range(0, len(ids), 500):  # stay under SQLite's parameter limit
                        chunk = ids[start:start + 500]
                        marks = ",".join("?" * len(chunk))
                        for sale_id, seq, state in db.execute(
                            f"SELECT sale_id, seq, state FROM sales WHERE sale_id IN ({marks})", chunk
                        ):
                            found[sale_id] = (seq, state)
                    updates: list[tuple[str, str, str, str, int]] = []
                    for ack in mine:
                        row = found.get(ack.sale_id)
                        if row is None or row[0] != ack.seq:
                            log.warning("ack for unknown sale %s (seq %d) ignored", ack.sale_id, ack.seq)
                            outcomes.append(AckOutcome(ack.sale_id, ack.seq, ack.status, False))
                            continue
                        seq, state = row
                        new_state = "rejected" if ack.status == "rejected" else "done"
                        changed = state != new_state
                        found[ack.sale_id] = (seq, new_state)  # a second ack in the batch is a repeat
                        updates.append((new_state, ack.status, ack.reason, now, seq))
                        if changed and new_state == "rejected":
                            db.execute(
                                "INSERT INTO alarm_events (kind, key, detail, at) VALUES ('sale_rejected', ?, ?, ?)",
                                (ack.sale_id, f"seq {seq}: {ack.reason}", now),
                            )
                            log.error("sale %s (seq %d) rejected by the edge: %s", ack.sale_id, seq, ack.reason)
                        outcomes.append(AckOutcome(ack.sale_id, seq, ack.status, changed))
                    if updates:
                        db.executemany(
                            "UPDATE sales SET state = ?, ack_status = ?, ack_reason = ?, acked_at = ?,"
                            " ack_count = ack_count + 1 WHERE seq = ?",
                            updates,
                        )
            finally:
                if relaxed and self._conn is not None:
                    self._conn.execute("PRAGMA synchronous=FULL")
        return outcomes

    def reopen_from(self, seq: int) -> int:
        """Resync: mark ``done`` sales from ``seq`` on pending again so they are re-sent (the
        edge answers ``duplicate`` for those it has). Rejected sales stay rejected."""
        with self._transaction():
            cur = self._db().execute("UPDATE sales SET state = 'pending' WHERE state = 'done' AND seq >= ?", (seq,))
            return cur.rowcount

    def command_is_new(self, command_id: str, kind: str) -> bool:
        """Remember ``command_id``; False if it was seen before (a repeat to ignore)."""
        with self._transaction():
            cur = self._db().execute(
                "INSERT OR IGNORE INTO commands_seen (command_id, kind, at) VALUES (?, ?, ?)",
                (command_id, kind, self._clock.now().isoformat()),
            )
            return cur.rowcount == 1

    def next_session(self) -> int:
        """Raise and return the connection session counter (persisted)."""
        with self._transaction():
            session = int(self._meta("session") or 0) + 1
            self._set_meta("session", str(session))
        return session

    @property
    def session(self) -> int:
        with self._lock:
            return int(self._meta("session") or 0)

    def prune_done(self, acked_before: datetime) -> int:
        """Delete ``done`` sales acknowledged before ``acked_before``; returns how many."""
        with self._transaction():
            cur = self._db().execute(
                "DELETE FROM sales WHERE state = 'done' AND acked_at < ?", (acked_before.isoformat(),)
            )
            return cur.rowcount


class _Tx:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` under the journal lock; rollback on any error."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self._conn = conn
        self._lock = lock
        self._outer = False

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        self._outer = not self._conn.in_transaction
        if self._outer:
            self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if self._outer:
                if exc_type is None:
                    try:
                        self._conn.execute("COMMIT")
                    except sqlite3.Error as err:
                        self._conn.execute("ROLLBACK")
                        raise OutboxError(f"sale journal commit failed: {err}") from err
                else:
                    self._conn.execute("ROLLBACK")
        finally:
            self._lock.release()
