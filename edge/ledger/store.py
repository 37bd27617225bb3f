"""The edge's store of record: sales, stock moves, HQ outbox, dead letters, alarm events.

SQLite in WAL mode with ``synchronous=FULL``. Writers work inside :meth:`Ledger.transaction`
(``BEGIN IMMEDIATE`` ... ``COMMIT``).

The ledger records stock *moves*; it does not say what is on the shelf. On-hand stock comes from
:class:`edge.stock.StockService` (``on_hand`` / ``levels``), which applies the stocktake rule: a
count sets the level at its time, and a sale timed before the count that arrives after the
count's approval is already inside the counted figure. :meth:`Ledger.moves_total` is only the
plain sum of the moves, for audits and tests.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from contextlib import contextmanager

from broker.contract import Sale
from edge.errors import LedgerClosedError, LedgerError
from edge.ledger.migrations import migrate
from retail.clock import Clock

__all__ = ["AlarmEvent", "DeadLetter", "Ledger", "SaleRows", "SequenceGap", "StockLevel", "StoredSale"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredSale:
    kiosk_id: str
    sale_id: str
    seq: int
    body_hash: str
    total_minor: int


@dataclass(frozen=True, slots=True)
class StockLevel:
    """The plain sum of one SKU's stock moves: pieces, and grams for weighed items. NOT the
    on-hand stock when stocktakes are involved; that is :meth:`edge.stock.StockService.on_hand`."""

    sku: str
    units: int
    grams: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    payload: bytes
    reason: str
    detail: str
    at: str


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    kind: str
    key: str
    detail: str
    at: str


@dataclass(frozen=True, slots=True)
class SequenceGap:
    kiosk_id: str
    first_seq: int
    last_seq: int
    cleared: bool


@dataclass(slots=True)
class SaleRows:
    """The lines, stock moves and HQ-outbox rows of newly inserted sales, waiting to be written
    with one statement per table (:meth:`flush`) rather than three per sale. Flush them in the
    same transaction (and savepoint) as the sales they belong to. A sale's outbox row has an
    empty payload: the HQ sender reads the body from ``sales`` (one copy of each body written,
    not two)."""

    lines: list[tuple[object, ...]] = field(default_factory=list)
    moves: list[tuple[object, ...]] = field(default_factory=list)
    outbox: list[tuple[object, ...]] = field(default_factory=list)
    at: str | None = None  # when the sales were received, if the same for all (else now, each)

    def clear(self) -> None:
        self.lines.clear()
        self.moves.clear()
        self.outbox.clear()

    def flush(self, db: sqlite3.Connection) -> None:
        if self.lines:
            db.executemany(
                "INSERT INTO sale_lines (sale_row, line_no, sku, gtin, name, quantity, weight_g, unit_price_minor,"
                " gross_minor, savings_minor, net_minor, tax_rate_bp, tax_minor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self.lines,
            )
        if self.moves:
            db.executemany(
                "INSERT INTO stock_moves (kind, sku, qty, grams, ref, source, at) VALUES ('sale', ?, ?, ?, ?, ?, ?)",
                self.moves,
            )
        if self.outbox:
            db.executemany("INSERT INTO hq_outbox (kind, ref, payload, created_at) VALUES ('sale', ?, ?, ?)", self.outbox)
        self.clear()


class Ledger:
    """The edge ledger (a context manager; ``close()`` is idempotent; thread-safe)."""

    def __init__(self, path: str | Path, *, clock: Clock) -> None:
        self._path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            str(self._path), isolation_level=None, check_same_thread=False, timeout=30
        )
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            import os as _os
            if _os.environ.get("XP_NOCKPT"): self._conn.execute("PRAGMA wal_autocheckpoint=0")
            self.schema_version = migrate(self._conn)
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    @property
    def path(self) -> Path:
        return self._path

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LedgerClosedError("the ledger is closed")
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; everything inside commits together or not at all."""
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            try:
                db.execute("COMMIT")
            except sqlite3.Error as err:
                db.execute("ROLLBACK")
                raise LedgerError(f"ledger commit failed: {err}") from err

    @contextmanager
    def savepoint(self, db: sqlite3.Connection, name: str = "msg") -> Iterator[None]:
        """A nested unit inside :meth:`transaction`: undone alone if it fails."""
        db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            db.execute(f"ROLLBACK TO {name}")
            db.execute(f"RELEASE {name}")
            raise
        db.execute(f"RELEASE {name}")

    # -- writes (inside a transaction) --------------------------------------------------------
    def now(self) -> str:
        return self._clock.now().isoformat()

    def next_session(self) -> int:
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'session'").fetchone()
            session = (int(row[0]) if row else 0) + 1
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('session', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(session),),
            )
        return session

    def find_sale(self, db: sqlite3.Connection, kiosk_id: str, sale_id: str) -> StoredSale | None:
        row = db.execute(
            "SELECT kiosk_id, sale_id, seq, body_hash, total_minor FROM sales WHERE kiosk_id = ? AND sale_id = ?",
            (kiosk_id, sale_id),
        ).fetchone()
        return None if row is None else StoredSale(*row)

    def insert_sale(self, db: sqlite3.Connection, sale: Sale, body: bytes) -> int:
        """Insert a new sale with its lines, stock moves and HQ-outbox row."""
        rows = SaleRows()
        row_id = self._insert_sale(db, sale, body, rows, if_new=False)
        if row_id is None:  # pragma: no cover - a plain INSERT either inserts or raises
            raise LedgerError(f"sale {sale.kiosk_id}/{sale.sale_id} was not inserted")
        rows.flush(db)
        return row_id

    def insert_sale_if_new(self, db: sqlite3.Connection, sale: Sale, body: bytes, rows: SaleRows | None = None) -> int | None:
        """Like :meth:`insert_sale`, but return None (and write nothing) when a sale with the same
        ``(kiosk_id, sale_id)`` is already stored: one statement for the common, new case. With
        ``rows``, the sale's lines, moves and outbox row are added there for the caller to
        flush (a batch writes them together); without, they are written at once."""
        if rows is not None:
            return self._insert_sale(db, sale, body, rows, if_new=True)
        own = SaleRows()
        row_id = self._insert_sale(db, sale, body, own, if_new=True)
        own.flush(db)
        return row_id

    def _insert_sale(self, db: sqlite3.Connection, sale: Sale, body: bytes, rows: SaleRows, *, if_new: bool) -> int | None:
        now = rows.at or self.now()
        text = body.decode("utf-8")
        cur = db.execute(
            "INSERT INTO sales (kiosk_id, sale_id, seq, body_hash, body, business_date, total_minor, currency, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" + (" ON CONFLICT (kiosk_id, sale_id) DO NOTHING" if if_new else ""),
            (
                sale.kiosk_id,
                sale.sale_id,
                sale.seq,
                sale.body_hash,
                text,
                sale.business_date.isoformat(),
                sale.totals.total_minor,
                sale.currency,
                now,
            ),
        )
        if cur.rowcount == 0:
            return None
        row_id = int(cur.lastrowid or 0)
        finished = sale.finished_at.isoformat()
        for n, line in enumerate(sale.lines, start=1):
            saved = sum(s.amount_minor for s in line.savings) if line.savings else 0
            rows.lines.append((
                row_id, n, line.sku, line.gtin, line.name, line.quantity, line.weight_g, line.unit_price_minor,
                line.gross_minor, saved, line.net_minor, line.tax_rate_bp, line.tax_minor,
            ))
            rows.moves.append((line.sku, -(line.quantity or 0), -(line.weight_g or 0), sale.sale_id, sale.kiosk_id, finished))
        rows.outbox.append((f"{sale.kiosk_id}/{sale.sale_id}", b"", now))  # the body stays in ``sales`` only
        return row_id

    def add_stock_move(self, db: sqlite3.Connection, kind: str, sku: str, *, qty: int = 0, grams: int = 0, ref: str, source: str) -> None:
        db.execute(
            "INSERT INTO stock_moves (kind, sku, qty, grams, ref, source, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, sku, qty, grams, ref, source, self.now()),
        )

    def dead_letter(self, db: sqlite3.Connection, topic: str, payload: bytes, reason: str, detail: str) -> None:
        db.execute(
            "INSERT INTO dead_letters (topic, payload, reason, detail, at) VALUES (?, ?, ?, ?, ?)",
            (topic, payload, reason, detail[:1000], self.now()),
        )

    def alarm(self, db: sqlite3.Connection, kind: str, key: str, detail: str) -> None:
        db.execute(
            "INSERT INTO alarm_events (kind, key, detail, at) VALUES (?, ?, ?, ?)", (kind, key, detail[:1000], self.now())
        )
        log.warning("alarm %s [%s]: %s", kind, key, detail[:200])

    # -- reads ----------------------------------------------------------------------------------
    def _all(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return [tuple(r) for r in self._db().execute(sql, args).fetchall()]

    def sale_count(self, kiosk_id: str | None = None) -> int:
        if kiosk_id is None:
            return int(self._all("SELECT COUNT(*) FROM sales")[0][0])  # type: ignore[arg-type]
        return int(self._all("SELECT COUNT(*) FROM sales WHERE kiosk_id = ?", (kiosk_id,))[0][0])  # type: ignore[arg-type]

    def sales(self, kiosk_id: str | None = None) -> list[StoredSale]:
        where, args = ("WHERE kiosk_id = ?", (kiosk_id,)) if kiosk_id else ("", ())
        return [
            StoredSale(*r)  # type: ignore[arg-type]
            for r in self._all(f"SELECT kiosk_id, sale_id, seq, body_hash, total_minor FROM sales {where} ORDER BY kiosk_id, seq", args)
        ]

    def sale_body(self, kiosk_id: str, sale_id: str) -> Sale | None:
        rows = self._all("SELECT body FROM sales WHERE kiosk_id = ? AND sale_id = ?", (kiosk_id, sale_id))
        return Sale.model_validate_json(rows[0][0]) if rows else None  # type: ignore[arg-type]

    def moves_total(self, sku: str) -> StockLevel:
        """The sum of every stock move of ``sku``. Not on-hand: a sale timed before a stocktake
        count but recorded after the count's approval is counted here on top of the count;
        :meth:`edge.stock.StockService.on_hand` applies the stocktake rule."""
        row = self._all("SELECT COALESCE(SUM(qty), 0), COALESCE(SUM(grams), 0) FROM stock_moves WHERE sku = ?", (sku,))[0]
        return StockLevel(sku, int(row[0]), int(row[1]))  # type: ignore[arg-type]

    def moves_totals(self) -> dict[str, StockLevel]:
        """:meth:`moves_total` of every SKU that has moves (not on-hand; see there)."""
        return {
            str(r[0]): StockLevel(str(r[0]), int(r[1]), int(r[2]))  # type: ignore[arg-type]
            for r in self._all("SELECT sku, SUM(qty), SUM(grams) FROM stock_moves GROUP BY sku ORDER BY sku")
        }

    def on_hand(self, sku: str) -> StockLevel:
        """Deprecated: the name promised on-hand stock, which this sum is not once stocktakes
        are involved. Use :meth:`moves_total`, or ``edge.stock.StockService.on_hand`` for on-hand."""
        warnings.warn("Ledger.on_hand() is the sum of the moves, not on-hand: use Ledger.moves_total() "
                      "or edge.stock.StockService.on_hand()", DeprecationWarning, stacklevel=2)
        return self.moves_total(sku)

    def stock_levels(self) -> dict[str, StockLevel]:
        """Deprecated: use :meth:`moves_totals`, or ``edge.stock.StockService.levels`` for on-hand."""
        warnings.warn("Ledger.stock_levels() is the sum of the moves, not on-hand: use Ledger.moves_totals() "
                      "or edge.stock.StockService.levels()", DeprecationWarning, stacklevel=2)
        return self.moves_totals()

    def dead_letters(self) -> list[DeadLetter]:
        return [
            DeadLetter(str(r[0]), bytes(r[1]), str(r[2]), str(r[3]), str(r[4]))  # type: ignore[arg-type]
            for r in self._all("SELECT topic, payload, reason, detail, at FROM dead_letters ORDER BY id")
        ]

    def alarm_events(self, kind: str | None = None) -> list[AlarmEvent]:
        where, args = ("WHERE kind = ?", (kind,)) if kind else ("", ())
        return [AlarmEvent(*map(str, r)) for r in self._all(f"SELECT kind, key, detail, at FROM alarm_events {where} ORDER BY id", args)]

    def sequence_gaps(self, kiosk_id: str | None = None, *, open_only: bool = False) -> list[SequenceGap]:
        clauses, args = [], []
        if kiosk_id:
            clauses.append("kiosk_id = ?")
            args.append(kiosk_id)
        if open_only:
            clauses.append("cleared_at IS NULL")
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return [
            SequenceGap(str(r[0]), int(r[1]), int(r[2]), r[3] is not None)  # type: ignore[arg-type]
            for r in self._all(f"SELECT kiosk_id, first_seq, last_seq, cleared_at FROM sequence_gaps {where} ORDER BY id", tuple(args))
        ]

    def kiosk_sequence(self, kiosk_id: str) -> tuple[int, int]:
        """``(highest contiguous seq, highest seq seen)`` for a kiosk; ``(0, 0)`` if unknown."""
        rows = self._all("SELECT highest_contiguous, highest_seen FROM kiosk_sequences WHERE kiosk_id = ?", (kiosk_id,))
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)  # type: ignore[arg-type]

    def hq_outbox_count(self) -> int:
        return int(self._all("SELECT COUNT(*) FROM hq_outbox WHERE sent_at IS NULL")[0][0])  # type: ignore[arg-type]

    def summary(self) -> dict[str, object]:
        """Counts for operators and the CLI."""
        per_kiosk = {
            str(r[0]): {"sales": int(r[1]), "total_minor": int(r[2]), "max_seq": int(r[3])}  # type: ignore[arg-type]
            for r in self._all("SELECT kiosk_id, COUNT(*), SUM(total_minor), MAX(seq) FROM sales GROUP BY kiosk_id ORDER BY kiosk_id")
        }
        return {
            "sales": self.sale_count(),
            "kiosks": per_kiosk,
            "dead_letters": len(self.dead_letters()),
            "alarm_events": len(self.alarm_events()),
            "open_gaps": len(self.sequence_gaps(open_only=True)),
            "hq_outbox_pending": self.hq_outbox_count(),
        }


def dumps(data: object) -> str:
    return json.dumps(data, sort_keys=True)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)
