"""Sale ingest: every sale kept exactly once, per-item answers, rollups in the same transaction.

A batch is processed inside the caller's transaction (:meth:`hq.db.Database.write`):

* a sale is keyed by ``(store_id, kiosk_id, sale_id)``. A new key is ``accepted``; the same key
  with the same body hash is a ``duplicate``; the same key with another hash is a ``conflict``:
  the original is kept and the newcomer recorded in ``sync_conflicts``;
* a body that fails HQ's schema, whose hash does not match, or that names another store, kiosk
  or currency is ``rejected`` (with a reason) and the rest of the batch goes on;
* inserts use ``ON CONFLICT DO NOTHING``, so two deliveries racing each other still keep one;
  rollup rows are upserted in sorted key order, so concurrent batches do not deadlock;
* per kiosk, the cursor keeps the highest sequence number received; per store, the last batch;
* the other kinds (stock moves, alarms, day closes, refunds) are kept once the same way, keyed by
  ``(store_id, kind, event_id)`` in ``sync_events``; a refund's body must read as
  ``tillpi.refund/1`` in the store's currency, else it is ``rejected``.

Batches may come twice or out of order; the answer for a repeat is all ``duplicate``.

How it is fast (PostgreSQL): each body is serialised once for its hash and once more only by
splicing its ``body_hash`` back in; the batch's sales, lines and payments are streamed with
``COPY`` into per-connection temporary staging tables (``ON COMMIT DELETE ROWS``, no WAL); one
statement then inserts the sales (``ON CONFLICT DO NOTHING RETURNING``), their lines (with the
category looked up in the catalogue) and payments, and adds the day's rollup deltas computed in
SQL (``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE``). The chain's month rows
(``chain_monthly_products``), which every store's batches share, get their deltas last, just
before the commit. Stored hashes are read only for the keys that were not inserted (repeats), by
exact key. SQLite takes the same steps with ``executemany`` and rollups summed in Python.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Date, cast, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hq.db import Database
from hq.errors import NotFoundError
from hq.models import (
    ChainMonthlyProduct,
    DailyPayment,
    DailyProduct,
    DailySales,
    Product,
    Sale,
    SaleLine,
    SalePayment,
    Store,
    SyncBatch,
    SyncConflict,
    SyncCursor,
    SyncEvent,
)
from hq.schemas import (
    EventItemIn,
    ReconciliationRow,
    RefundBodyIn,
    SaleBodyIn,
    SaleItemIn,
    SyncBatchIn,
    SyncBatchResult,
    SyncItemResult,
)

__all__ = ["apply_batch", "body_hash", "canonical_json", "ingest_batch", "rebuild_chain_months", "rebuild_rollups",
           "reconciliation"]

log = logging.getLogger(__name__)

UNCATEGORISED = "uncategorised"
RETRY_ATTEMPTS = 5
_RETRYABLE = {"40P01", "40001"}  # deadlock, serialization failure
_CHUNK = 400
_HASH_KEY = "body_hash"
# One encoder for every canonical text: sorted keys, no spaces, UTF-8 kept (stateless, thread-safe).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(data: Any) -> str:
    return _ENCODER.encode(data)


def body_hash(body: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``body`` without its own ``body_hash`` field (the bus
    contract's rule, so the kiosk's hash is checked end to end)."""
    return _canonical_texts(body)[0]


def _canonical_texts(body: dict[str, Any]) -> tuple[str, str]:
    """``(hash, text)``: the hash of the body without ``body_hash`` and the canonical text of
    the whole body, from one serialisation. Canonical JSON of an object is ``{`` + its sorted
    ``"key":value`` members joined by ``,`` + ``}``, so the text with ``body_hash`` is the text
    without it with that one member spliced in at its sorted place."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for k, v in body.items():
        if k < _HASH_KEY:
            before[k] = v
        elif k > _HASH_KEY:
            after[k] = v
    a = _ENCODER.encode(before)[1:-1]
    b = _ENCODER.encode(after)[1:-1]
    hashed = "{" + ",".join(p for p in (a, b) if p) + "}"
    digest = hashlib.sha256(hashed.encode("utf-8")).hexdigest()
    if _HASH_KEY not in body:
        return digest, hashed
    member = f'"{_HASH_KEY}":{_ENCODER.encode(body[_HASH_KEY])}'
    return digest, "{" + ",".join(p for p in (a, member, b) if p) + "}"


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"HQ supports SQLite and PostgreSQL, not {dialect}")


def _greatest(session: Session, a: Any, b: Any) -> Any:
    return func.greatest(a, b) if session.get_bind().dialect.name == "postgresql" else func.max(a, b)


def _chunks(rows: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@dataclass(slots=True)
class _SaleIn:
    index: int
    item: SaleItemIn
    sale: SaleBodyIn
    text: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.item.kiosk_id, self.item.sale_id)


@dataclass
class _Rollups:
    sales: dict[tuple[str, date], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0, 0]))
    products: dict[tuple[str, date, str], list[Any]] = field(default_factory=dict)
    payments: dict[tuple[str, date, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


def _line_units(quantity: int | None) -> int:
    return quantity if quantity is not None else 1  # a weighed line counts as one unit


def _payments_net(sale: SaleBodyIn) -> dict[str, int]:
    """Amount per method, cash net of the change given."""
    out: dict[str, int] = defaultdict(int)
    for p in sale.payments:
        out[p.method] += p.amount_minor
    if sale.change_minor:
        out["cash"] -= sale.change_minor
    return {m: a for m, a in out.items() if a}


def _has_nul(text: str) -> bool:
    # JSON escapes NUL as \u0000; PostgreSQL text cannot hold it, and no sale needs it.
    return "\\u0000" in text or "\x00" in text


def _check_sale(store: Store, item: SaleItemIn) -> tuple[SaleBodyIn | None, str, str]:
    """``(sale, reason, canonical text)``: the sale when it may be stored, else the reason."""
    body = item.body
    digest, text = _canonical_texts(body)
    if digest != item.body_hash:
        return None, "hash_mismatch: body_hash does not match the body", text
    if body.get(_HASH_KEY) not in (None, item.body_hash):
        return None, "hash_mismatch: item and body disagree on body_hash", text
    try:
        sale = SaleBodyIn.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return None, f"invalid: {where}: {first.get('msg', '')}"[:300], text
    if sale.store_id != store.store_id:
        return None, f"wrong_store: sale is for {sale.store_id}", text
    if sale.kiosk_id != item.kiosk_id or sale.sale_id != item.sale_id or sale.seq != item.seq:
        return None, "mismatch: item kiosk_id, sale_id or seq differ from the body", text
    if sale.currency != store.currency:
        return None, f"wrong_currency: store sells in {store.currency}", text
    return sale, "", text


@dataclass
class _Prepared:
    """A batch checked in memory (no database): per-item answers so far, the sales to store."""

    results: list[SyncItemResult | None]
    firsts: dict[tuple[str, str], _SaleIn]
    repeats: list[_SaleIn]
    events: list[tuple[int, EventItemIn]]


def _prepare(store: Store, batch: SyncBatchIn) -> _Prepared:
    """Check every item against the schema, its hash and the store (pure: no I/O), so a
    transaction holds its locks only for the writes."""
    results: list[SyncItemResult | None] = [None] * len(batch.items)
    firsts: dict[tuple[str, str], _SaleIn] = {}
    repeats: list[_SaleIn] = []
    events: list[tuple[int, EventItemIn]] = []
    for index, item in enumerate(batch.items):
        if isinstance(item, SaleItemIn):
            sale, reason, text = _check_sale(store, item)
            if sale is None:
                results[index] = SyncItemResult(index=index, kind="sale", kiosk_id=item.kiosk_id,
                                                id=item.sale_id, status="rejected", reason=reason)
                continue
            entry = _SaleIn(index, item, sale, text)
            if _has_nul(text):
                results[index] = SyncItemResult(index=index, kind="sale", kiosk_id=item.kiosk_id,
                                                id=item.sale_id, status="rejected", reason="invalid: NUL character")
                continue
            if entry.key in firsts:
                repeats.append(entry)
            else:
                firsts[entry.key] = entry
        else:
            events.append((index, item))
    return _Prepared(results, firsts, repeats, events)


def ingest_batch(session: Session, store: Store, batch: SyncBatchIn, now: datetime) -> SyncBatchResult:
    """Apply one batch inside the caller's transaction and answer per item."""
    return _write(session, store, batch, _prepare(store, batch), now)


def _write(session: Session, store: Store, batch: SyncBatchIn, prepared: _Prepared, now: datetime) -> SyncBatchResult:
    results = list(prepared.results)  # a retried transaction starts again from the checked batch
    firsts, repeats, events = prepared.firsts, prepared.repeats, prepared.events
    # Insert first; read the stored hash only of what was not inserted (a repeat, or a race lost).
    new = list(firsts.values())
    if not new:
        inserted: set[tuple[str, str]] = set()
    elif _is_pg(session):
        inserted = _pg_insert_sales(session, store, batch.batch_id, new, now)
    else:
        inserted = _sqlite_insert_sales(session, store, batch.batch_id, new, now)
    kept = _existing_hashes(session, store.store_id, [k for k in firsts if k not in inserted])
    for key in inserted:
        kept[key] = firsts[key].item.body_hash

    conflicts: list[dict[str, Any]] = []
    cursor: dict[str, int] = {}
    for e in new + repeats:
        if e.key in inserted and firsts[e.key] is e:
            status = "accepted"
        elif kept[e.key] == e.item.body_hash:
            status = "duplicate"
        else:
            status = "conflict"
            conflicts.append(dict(store_id=store.store_id, kind="sale", kiosk_id=e.item.kiosk_id, item_id=e.item.sale_id,
                                  kept_hash=kept[e.key], received_hash=e.item.body_hash, received_body=e.text,
                                  batch_id=batch.batch_id, received_at=now))
            log.warning("sale conflict store=%s kiosk=%s sale=%s: kept the original", store.store_id, *e.key)
        if status != "conflict":
            seq = e.item.seq
            if seq > cursor.get(e.item.kiosk_id, 0):
                cursor[e.item.kiosk_id] = seq
        # built from checked values: no validation needed (model_construct)
        results[e.index] = SyncItemResult.model_construct(index=e.index, kind="sale", kiosk_id=e.item.kiosk_id,
                                                          id=e.item.sale_id, status=status, reason="")

    _apply_events(session, store, batch.batch_id, events, now, results, conflicts)
    if conflicts:
        session.connection().execute(SyncConflict.__table__.insert(), conflicts)
    _upsert_cursors(session, store.store_id, cursor, now)
    times = _record_batch(session, store, batch, now, sum(1 for r in results if r and r.status == "accepted"))
    if inserted and _is_pg(session):
        session.connection().exec_driver_sql(_PG_ADD_MONTHS)  # last: see _PG_ADD_MONTHS

    final = [r for r in results if r is not None]
    counts: dict[str, int] = defaultdict(int)
    for r in final:
        counts[r.status] += 1
    return SyncBatchResult(batch_id=batch.batch_id, store_id=store.store_id, times_received=times,
                           accepted=counts["accepted"], duplicates=counts["duplicate"],
                           conflicts=counts["conflict"], rejected=counts["rejected"], items=final)


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in _RETRYABLE or "database is locked" in str(exc.orig)


def apply_batch(db: Database, batch: SyncBatchIn, now: datetime, *, attempts: int = RETRY_ATTEMPTS) -> SyncBatchResult:
    """Ingest ``batch`` for its store in one write transaction of its own, retried on a deadlock
    or serialization failure (the sync endpoint's unit of work). Raises
    :class:`~hq.errors.NotFoundError` for an unknown store."""
    with db.session() as s:
        store = s.get(Store, batch.store_id)
        if store is None:
            raise NotFoundError(f"no store {batch.store_id!r}")
        s.expunge(store)
    prepared = _prepare(store, batch)  # checked before the transaction: locks are held only to write
    attempt = 1
    while True:
        try:
            with db.write() as s:
                return _write(s, store, batch, prepared, now)
        except DBAPIError as exc:
            if attempt >= attempts or not _retryable(exc):
                raise
            log.info("batch %s of %s: retrying after %s", batch.batch_id, batch.store_id, type(exc.orig).__name__)
            time.sleep(0.01 * attempt)  # a back-off between retries
            attempt += 1


def _existing_hashes(session: Session, store_id: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Stored body hashes of ``keys``, found by exact key: ``kiosk_id IN (...) AND sale_id IN
    (...)`` under the store walks the unique index ``(store_id, kiosk_id, sale_id)`` straight to
    each candidate, however many sales the store already has."""
    found: dict[tuple[str, str], str] = {}
    for chunk in _chunks(keys):
        wanted = set(chunk)
        kiosks = sorted({k for k, _ in chunk})
        ids = sorted({s for _, s in chunk})
        rows = session.execute(
            select(Sale.kiosk_id, Sale.sale_id, Sale.body_hash)
            .where(Sale.store_id == store_id, Sale.kiosk_id.in_(kiosks), Sale.sale_id.in_(ids)))
        for kiosk_id, sale_id, h in rows:
            if (kiosk_id, sale_id) in wanted:
                found[(kiosk_id, sale_id)] = h
    return found


def _categories(session: Session, skus: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    sku_list = sorted(skus)
    for chunk in _chunks(sku_list, 900):
        out.update({sku: cat for sku, cat in session.execute(select(Product.sku, Product.category).where(Product.sku.in_(chunk)))})
    return out


# -- PostgreSQL: COPY into staging, then one statement ------------------------------------------

_STAGE_SALES = "tillpi_stage_sales"
_STAGE_LINES = "tillpi_stage_lines"
_STAGE_PAYS = "tillpi_stage_payments"
_STAGE_MONTHS = "tillpi_stage_months"

_STAGE_DDL = f"""
CREATE TEMP TABLE IF NOT EXISTS {_STAGE_SALES} (
    kiosk_id text NOT NULL, sale_id text NOT NULL, seq bigint NOT NULL, body_hash text NOT NULL,
    business_date date NOT NULL, finished_at timestamptz NOT NULL, currency text NOT NULL,
    subtotal_minor bigint NOT NULL, savings_minor bigint NOT NULL, total_minor bigint NOT NULL,
    tax_minor bigint NOT NULL, units integer NOT NULL, member_id text, body text NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS {_STAGE_LINES} (
    kiosk_id text NOT NULL, sale_id text NOT NULL, line_no integer NOT NULL, sku text NOT NULL,
    name text NOT NULL, category text, units integer NOT NULL, weight_g integer NOT NULL,
    gross_minor bigint NOT NULL, net_minor bigint NOT NULL, tax_minor bigint NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS {_STAGE_PAYS} (
    kiosk_id text NOT NULL, sale_id text NOT NULL, method text NOT NULL, amount_minor bigint NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS {_STAGE_MONTHS} (
    month date NOT NULL, sku text NOT NULL, category text NOT NULL, name text NOT NULL, units bigint NOT NULL,
    weight_g bigint NOT NULL, revenue_minor bigint NOT NULL
) ON COMMIT DELETE ROWS
"""

_SALE_COLS = ("kiosk_id", "sale_id", "seq", "body_hash", "business_date", "finished_at", "currency",
              "subtotal_minor", "savings_minor", "total_minor", "tax_minor", "units", "member_id", "body")
_LINE_COLS = ("kiosk_id", "sale_id", "line_no", "sku", "name", "category", "units", "weight_g",
              "gross_minor", "net_minor", "tax_minor")
_PAY_COLS = ("kiosk_id", "sale_id", "method", "amount_minor")

# Every write of a batch in one statement. The data-modifying CTEs share one snapshot; the lines,
# payments and rollups join what ``ins`` RETURNs, so a sale that was already stored adds nothing.
# Rollup rows are upserted in key order (no deadlock between two batches of one store). The chain's
# month rows are shared by every store, so their deltas (by the category and name of the day's
# row, as a summary groups them) are only staged here and added last, by :data:`_PG_ADD_MONTHS`.
_PG_APPLY = f"""
WITH ins AS (
    INSERT INTO sales (store_id, kiosk_id, sale_id, seq, body_hash, business_date, finished_at, currency,
                       subtotal_minor, savings_minor, total_minor, tax_minor, units, member_id, batch_id,
                       received_at, body)
    SELECT %(store)s, kiosk_id, sale_id, seq, body_hash, business_date, finished_at, currency,
           subtotal_minor, savings_minor, total_minor, tax_minor, units, member_id, %(batch)s, %(now)s, body
    FROM {_STAGE_SALES} ORDER BY kiosk_id, sale_id
    ON CONFLICT (store_id, kiosk_id, sale_id) DO NOTHING
    RETURNING id, kiosk_id, sale_id, business_date, total_minor, units, savings_minor, tax_minor
), lines AS (
    INSERT INTO sale_lines (sale_pk, store_id, business_date, line_no, sku, name, category, units, weight_g,
                            gross_minor, net_minor, tax_minor)
    SELECT ins.id, %(store)s, ins.business_date, l.line_no, l.sku, l.name,
           COALESCE(p.category, l.category, '{UNCATEGORISED}'), l.units, l.weight_g, l.gross_minor, l.net_minor,
           l.tax_minor
    FROM {_STAGE_LINES} l JOIN ins ON ins.kiosk_id = l.kiosk_id AND ins.sale_id = l.sale_id
    LEFT JOIN products p ON p.sku = l.sku
    ORDER BY ins.kiosk_id, ins.sale_id, l.line_no
    RETURNING id, business_date, sku, name, category, units, weight_g, net_minor
), pays AS (
    INSERT INTO sale_payments (sale_pk, store_id, business_date, method, amount_minor)
    SELECT ins.id, %(store)s, ins.business_date, p.method, p.amount_minor
    FROM {_STAGE_PAYS} p JOIN ins ON ins.kiosk_id = p.kiosk_id AND ins.sale_id = p.sale_id
    RETURNING business_date, method, amount_minor
), day_sales AS (
    INSERT INTO daily_sales AS d (store_id, business_date, transactions, revenue_minor, units, savings_minor,
                                  tax_minor)
    SELECT %(store)s, business_date, count(*), sum(total_minor), sum(units), sum(savings_minor), sum(tax_minor)
    FROM ins GROUP BY business_date ORDER BY business_date
    ON CONFLICT (store_id, business_date) DO UPDATE SET
        transactions = d.transactions + EXCLUDED.transactions, revenue_minor = d.revenue_minor + EXCLUDED.revenue_minor,
        units = d.units + EXCLUDED.units, savings_minor = d.savings_minor + EXCLUDED.savings_minor,
        tax_minor = d.tax_minor + EXCLUDED.tax_minor
), day_lines AS (
    SELECT business_date, sku, (array_agg(name ORDER BY id))[1] AS name,
           (array_agg(category ORDER BY id))[1] AS category, sum(units) AS units, sum(weight_g) AS weight_g, sum(net_minor) AS revenue_minor
    FROM lines GROUP BY business_date, sku
), day_products AS (
    INSERT INTO daily_products AS d (store_id, business_date, sku, name, category, units, weight_g, revenue_minor)
    SELECT %(store)s, business_date, sku, name, category, units, weight_g, revenue_minor
    FROM day_lines ORDER BY business_date, sku
    ON CONFLICT (store_id, business_date, sku) DO UPDATE SET
        units = d.units + EXCLUDED.units, weight_g = d.weight_g + EXCLUDED.weight_g,
        revenue_minor = d.revenue_minor + EXCLUDED.revenue_minor
    RETURNING business_date, sku, name, category
), month_deltas AS (
    INSERT INTO {_STAGE_MONTHS} (month, sku, category, name, units, weight_g, revenue_minor)
    SELECT date_trunc('month', l.business_date)::date, l.sku, d.category, max(d.name), sum(l.units),
           sum(l.weight_g), sum(l.revenue_minor)
    FROM day_lines l JOIN day_products d ON d.business_date = l.business_date AND d.sku = l.sku
    GROUP BY 1, 2, 3
), day_payments AS (
    INSERT INTO daily_payments AS d (store_id, business_date, method, payments, amount_minor)
    SELECT %(store)s, business_date, method, count(*), sum(amount_minor)
    FROM pays GROUP BY business_date, method ORDER BY business_date, method
    ON CONFLICT (store_id, business_date, method) DO UPDATE SET
        payments = d.payments + EXCLUDED.payments, amount_minor = d.amount_minor + EXCLUDED.amount_minor
)
SELECT kiosk_id, sale_id FROM ins
"""


# The staged month deltas, added just before the commit: the row locks every store's batches
# share are held for the commit alone, and taken in key order (no deadlock).
_PG_ADD_MONTHS = f"""
INSERT INTO chain_monthly_products AS m (month, sku, category, name, units, weight_g, revenue_minor)
SELECT month, sku, category, max(name), sum(units), sum(weight_g), sum(revenue_minor)
FROM {_STAGE_MONTHS} GROUP BY month, sku, category ORDER BY month, sku, category
ON CONFLICT (month, sku, category) DO UPDATE SET
    name = GREATEST(m.name, EXCLUDED.name), units = m.units + EXCLUDED.units,
    weight_g = m.weight_g + EXCLUDED.weight_g, revenue_minor = m.revenue_minor + EXCLUDED.revenue_minor
"""


def _pg_insert_sales(session: Session, store: Store, batch_id: str, new: list[_SaleIn],
                     now: datetime) -> set[tuple[str, str]]:
    """Stage the batch with ``COPY`` and apply it with one statement, on the session's own
    connection inside its transaction. Returns the keys this transaction inserted."""
    raw = session.connection().connection.driver_connection
    sales: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    pays: list[tuple[Any, ...]] = []
    for e in new:
        s = e.sale
        k, sid = e.item.kiosk_id, e.item.sale_id
        units = 0
        for n, ln in enumerate(s.lines, start=1):
            u = ln.quantity if ln.quantity is not None else 1
            units += u
            lines.append((k, sid, n, ln.sku, ln.name, ln.category, u, ln.weight_g or 0, ln.gross_minor,
                          ln.net_minor, ln.tax_minor))
        for method, amount in _payments_net(s).items():
            pays.append((k, sid, method, amount))
        t = s.totals
        sales.append((k, sid, e.item.seq, e.item.body_hash, s.business_date, s.finished_at, s.currency,
                      t.subtotal_minor, t.savings_minor, t.total_minor, t.tax_minor, units, s.member_id, e.text))
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(f"SELECT to_regclass('pg_temp.{_STAGE_MONTHS}') IS NOT NULL")
        row = cur.fetchone()
        if not (row and row[0]):
            cur.execute(_STAGE_DDL)
        for table, cols, rows in ((_STAGE_SALES, _SALE_COLS, sales), (_STAGE_LINES, _LINE_COLS, lines),
                                  (_STAGE_PAYS, _PAY_COLS, pays)):
            if rows:
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
        cur.execute(_PG_APPLY, {"store": store.store_id, "batch": batch_id, "now": now})
        return {(k, sid) for k, sid in cur.fetchall()}


# -- SQLite: executemany, rollups summed in Python ------------------------------------------------


def _sqlite_insert_sales(session: Session, store: Store, batch_id: str, new: list[_SaleIn],
                         now: datetime) -> set[tuple[str, str]]:
    """Insert new sales, their lines and payments, and their rollups. Returns the keys this
    transaction inserted."""
    new = sorted(new, key=lambda e: e.key)  # one lock order for every transaction
    by_key = {e.key: e for e in new}
    rows = [
        dict(store_id=store.store_id, kiosk_id=e.item.kiosk_id, sale_id=e.item.sale_id, seq=e.item.seq,
             body_hash=e.item.body_hash, business_date=e.sale.business_date, finished_at=e.sale.finished_at,
             currency=e.sale.currency, subtotal_minor=e.sale.totals.subtotal_minor,
             savings_minor=e.sale.totals.savings_minor, total_minor=e.sale.totals.total_minor,
             tax_minor=e.sale.totals.tax_minor, units=sum(_line_units(x.quantity) for x in e.sale.lines),
             member_id=e.sale.member_id, batch_id=batch_id, received_at=now, body=e.text)
        for e in new
    ]
    t = Sale.__table__
    stmt = (
        _insert(session, t)
        .on_conflict_do_nothing(index_elements=["store_id", "kiosk_id", "sale_id"])
        .returning(t.c.id, t.c.kiosk_id, t.c.sale_id)
    )
    # executemany with RETURNING: SQLAlchemy's "insertmanyvalues" batches it, compiled once
    inserted: dict[tuple[str, str], int] = {}
    for pk, kiosk_id, sale_id in session.connection().execute(stmt, rows):
        inserted[(kiosk_id, sale_id)] = pk
    if not inserted:
        return set()

    cats = _categories(session, {ln.sku for key in inserted for ln in by_key[key].sale.lines})
    lines: list[dict[str, Any]] = []
    pays: list[dict[str, Any]] = []
    roll = _Rollups()
    for key in sorted(inserted):
        pk = inserted[key]
        s = by_key[key].sale
        d = s.business_date
        day = roll.sales[(store.store_id, d)]
        day[0] += 1
        day[1] += s.totals.total_minor
        day[3] += s.totals.savings_minor
        day[4] += s.totals.tax_minor
        for n, ln in enumerate(s.lines, start=1):
            category = cats.get(ln.sku) or ln.category or UNCATEGORISED
            units = _line_units(ln.quantity)
            day[2] += units
            lines.append(dict(sale_pk=pk, store_id=store.store_id, business_date=d, line_no=n, sku=ln.sku,
                              name=ln.name, category=category, units=units, weight_g=ln.weight_g or 0,
                              gross_minor=ln.gross_minor, net_minor=ln.net_minor, tax_minor=ln.tax_minor))
            prod = roll.products.setdefault((store.store_id, d, ln.sku), [ln.name, category, 0, 0, 0])
            prod[2] += units
            prod[3] += ln.weight_g or 0
            prod[4] += ln.net_minor
        for method, amount in _payments_net(s).items():
            pays.append(dict(sale_pk=pk, store_id=store.store_id, business_date=d, method=method, amount_minor=amount))
            pm = roll.payments[(store.store_id, d, method)]
            pm[0] += 1
            pm[1] += amount
    conn = session.connection()
    conn.execute(SaleLine.__table__.insert(), lines)
    if pays:
        conn.execute(SalePayment.__table__.insert(), pays)
    _upsert_rollups(session, roll)
    _add_months(session, store.store_id, roll.products)
    return set(inserted)


def _upsert_add(session: Session, model: Any, keys: list[str], rows: list[dict[str, Any]], add: list[str]) -> None:
    table = model.__table__
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: table.c[c] + stmt.excluded[c] for c in add})
    session.connection().execute(stmt, rows)  # executemany: one compiled statement


def _upsert_rollups(session: Session, roll: _Rollups) -> None:
    if roll.sales:
        _upsert_add(session, DailySales, ["store_id", "business_date"], [
            dict(store_id=s, business_date=d, transactions=v[0], revenue_minor=v[1], units=v[2],
                 savings_minor=v[3], tax_minor=v[4])
            for (s, d), v in sorted(roll.sales.items())
        ], ["transactions", "revenue_minor", "units", "savings_minor", "tax_minor"])
    if roll.products:
        _upsert_add(session, DailyProduct, ["store_id", "business_date", "sku"], [
            dict(store_id=s, business_date=d, sku=sku, name=v[0], category=v[1], units=v[2], weight_g=v[3],
                 revenue_minor=v[4])
            for (s, d, sku), v in sorted(roll.products.items())
        ], ["units", "weight_g", "revenue_minor"])
    if roll.payments:
        _upsert_add(session, DailyPayment, ["store_id", "business_date", "method"], [
            dict(store_id=s, business_date=d, method=m, payments=v[0], amount_minor=v[1])
            for (s, d, m), v in sorted(roll.payments.items())
        ], ["payments", "amount_minor"])


def _day_product_labels(session: Session, store_id: str,
                        keys: list[tuple[date, str]]) -> dict[tuple[date, str], tuple[str, str]]:
    """``(name, category)`` of the store's ``daily_products`` rows with these ``(day, sku)`` keys."""
    found: dict[tuple[date, str], tuple[str, str]] = {}
    days = sorted({d for d, _ in keys})
    for chunk in _chunks(sorted({sku for _, sku in keys}), 900):
        rows = session.execute(
            select(DailyProduct.business_date, DailyProduct.sku, DailyProduct.name, DailyProduct.category)
            .where(DailyProduct.store_id == store_id, DailyProduct.business_date.in_(days),
                   DailyProduct.sku.in_(chunk)))
        for d, sku, name, category in rows:
            found[(d, sku)] = (name, category)
    return found


def _add_months(session: Session, store_id: str, products: dict[tuple[str, date, str], list[Any]]) -> None:
    """Add a batch's product deltas (``products``, keyed like the store's daily rows) to the
    chain's month rows, under the name and category of the day's row (a repeat of that day
    keeps the first), as a summary groups the daily rows."""
    if not products:
        return
    labels = _day_product_labels(session, store_id, [(d, sku) for _, d, sku in products])
    months: dict[tuple[date, str, str], list[Any]] = {}
    for (_, d, sku), (_, _, units, weight_g, revenue) in products.items():
        name, category = labels[(d, sku)]
        row = months.setdefault((d.replace(day=1), sku, category), [name, 0, 0, 0])
        row[0] = max(row[0], name)
        row[1] += units
        row[2] += weight_g
        row[3] += revenue
    table = ChainMonthlyProduct.__table__
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["month", "sku", "category"],
        set_={"name": _greatest(session, table.c.name, stmt.excluded.name),
              **{c: table.c[c] + stmt.excluded[c] for c in ("units", "weight_g", "revenue_minor")}},
    )
    session.connection().execute(stmt, [
        dict(month=m, sku=sku, category=category, name=v[0], units=v[1], weight_g=v[2], revenue_minor=v[3])
        for (m, sku, category), v in sorted(months.items())
    ])


def _check_refund(store: Store, ev: EventItemIn) -> tuple[date | None, str]:
    """``(business date, reason)`` of a ``refund`` item: its body read as
    :class:`~hq.schemas.RefundBodyIn` and checked against the store and the item; the reason is
    empty when it may be kept. Its business date is the body's (the item's, when given, must agree)."""
    try:
        refund = RefundBodyIn.model_validate(ev.body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return None, f"invalid: {where}: {first.get('msg', '')}"[:300]
    if refund.store_id is not None and refund.store_id != store.store_id:
        return None, f"wrong_store: refund is for {refund.store_id}"
    if refund.currency != store.currency:
        return None, f"wrong_currency: store sells in {store.currency}"
    if ev.kiosk_id is not None and ev.kiosk_id != refund.kiosk_id:
        return None, "mismatch: item kiosk_id differs from the body"
    if ev.business_date is not None and ev.business_date != refund.business_date:
        return None, "mismatch: item business_date differs from the body"
    return refund.business_date, ""


def _apply_events(session: Session, store: Store, batch_id: str, events: list[tuple[int, EventItemIn]],
                  now: datetime, results: list[SyncItemResult | None], conflicts: list[dict[str, Any]]) -> None:
    if not events:
        return
    kept: dict[tuple[str, str], str] = {}
    for index, ev in sorted(events, key=lambda x: (x[1].kind, x[1].event_id)):
        key = (ev.kind, ev.event_id)
        res = dict(index=index, kind=ev.kind, kiosk_id=ev.kiosk_id, id=ev.event_id)
        if body_hash(ev.body) != ev.body_hash:
            results[index] = SyncItemResult(**res, status="rejected", reason="hash_mismatch: body_hash does not match the body")
            continue
        if _has_nul(canonical_json(ev.body)):
            results[index] = SyncItemResult(**res, status="rejected", reason="invalid: NUL character")
            continue
        business_date = ev.business_date
        if ev.kind == "refund":
            business_date, reason = _check_refund(store, ev)
            if reason:
                results[index] = SyncItemResult(**res, status="rejected", reason=reason)
                continue
        if key not in kept:
            stmt = (
                _insert(session, SyncEvent).values(
                    store_id=store.store_id, kind=ev.kind, event_id=ev.event_id, kiosk_id=ev.kiosk_id,
                    business_date=business_date, body_hash=ev.body_hash, body=canonical_json(ev.body),
                    batch_id=batch_id, received_at=now)
                .on_conflict_do_nothing(index_elements=["store_id", "kind", "event_id"])
                .returning(SyncEvent.id)
            )
            if session.execute(stmt).first() is not None:
                kept[key] = ev.body_hash
                results[index] = SyncItemResult(**res, status="accepted")
                continue
            kept[key] = session.execute(
                select(SyncEvent.body_hash).where(SyncEvent.store_id == store.store_id, SyncEvent.kind == ev.kind,
                                                  SyncEvent.event_id == ev.event_id)).scalar_one()
        if kept[key] == ev.body_hash:
            results[index] = SyncItemResult(**res, status="duplicate")
        else:
            results[index] = SyncItemResult(**res, status="conflict")
            conflicts.append(dict(store_id=store.store_id, kind=ev.kind, kiosk_id=ev.kiosk_id or "", item_id=ev.event_id,
                                  kept_hash=kept[key], received_hash=ev.body_hash, received_body=canonical_json(ev.body),
                                  batch_id=batch_id, received_at=now))


def _upsert_cursors(session: Session, store_id: str, cursor: dict[str, int], now: datetime) -> None:
    if not cursor:
        return
    rows = [dict(store_id=store_id, kiosk_id=k, highest_seq=v, updated_at=now) for k, v in sorted(cursor.items())]
    table = SyncCursor.__table__
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["store_id", "kiosk_id"],
        set_={"highest_seq": _greatest(session, table.c.highest_seq, stmt.excluded.highest_seq),
              "updated_at": stmt.excluded.updated_at},
    )
    session.connection().execute(stmt, rows)


def _record_batch(session: Session, store: Store, batch: SyncBatchIn, now: datetime, accepted: int) -> int:
    stmt = _insert(session, SyncBatch).values(
        store_id=store.store_id, batch_id=batch.batch_id, first_received_at=now, last_received_at=now,
        times_received=1, items=len(batch.items), accepted=accepted)
    stmt = stmt.on_conflict_do_update(
        index_elements=["store_id", "batch_id"],
        set_={"times_received": SyncBatch.__table__.c.times_received + 1,
              "last_received_at": stmt.excluded.last_received_at,
              "accepted": SyncBatch.__table__.c.accepted + stmt.excluded.accepted},
    ).returning(SyncBatch.times_received)
    times = int(session.execute(stmt).scalar_one())
    session.execute(update(Store).where(Store.store_id == store.store_id)
                    .values(last_batch_id=batch.batch_id, last_batch_at=now))
    return times


def reconciliation(session: Session, store_id: str, start: date, end: date,
                   kiosk_id: str | None = None) -> list[ReconciliationRow]:
    """Per kiosk and business day: count, sum of totals and highest seq, from the sales table."""
    q = (
        select(Sale.kiosk_id, Sale.business_date, func.count(), func.coalesce(func.sum(Sale.total_minor), 0),
               func.max(Sale.seq))
        .where(Sale.store_id == store_id, Sale.business_date >= start, Sale.business_date <= end)
        .group_by(Sale.kiosk_id, Sale.business_date)
        .order_by(Sale.kiosk_id, Sale.business_date)
    )
    if kiosk_id is not None:
        q = q.where(Sale.kiosk_id == kiosk_id)
    return [ReconciliationRow(kiosk_id=k, business_date=d, count=int(c), total_minor=int(t), highest_seq=int(m))
            for k, d, c, t, m in session.execute(q)]


def rebuild_rollups(session: Session, store_id: str | None = None) -> None:
    """Recompute the daily rollups from ``sales``, ``sale_lines`` and ``sale_payments`` with SQL
    aggregates, then the chain's month rows from them (repair tool; ingest keeps them current
    by itself)."""
    where_s = [] if store_id is None else [Sale.store_id == store_id]
    # lines and payments are reached through their store's sales (they have no store index)
    of_store = select(Sale.id).where(Sale.store_id == store_id)
    where_l = [] if store_id is None else [SaleLine.sale_pk.in_(of_store)]
    where_p = [] if store_id is None else [SalePayment.sale_pk.in_(of_store)]
    for model in (DailySales, DailyProduct, DailyPayment):
        d = model.__table__.delete()
        session.execute(d if store_id is None else d.where(model.__table__.c.store_id == store_id))
    session.execute(insert(DailySales).from_select(
        ["store_id", "business_date", "transactions", "revenue_minor", "units", "savings_minor", "tax_minor"],
        select(Sale.store_id, Sale.business_date, func.count(), func.sum(Sale.total_minor), func.sum(Sale.units),
               func.sum(Sale.savings_minor), func.sum(Sale.tax_minor))
        .where(*where_s).group_by(Sale.store_id, Sale.business_date)))
    session.execute(insert(DailyProduct).from_select(
        ["store_id", "business_date", "sku", "name", "category", "units", "weight_g", "revenue_minor"],
        select(SaleLine.store_id, SaleLine.business_date, SaleLine.sku, func.max(SaleLine.name),
               func.max(SaleLine.category), func.sum(SaleLine.units), func.sum(SaleLine.weight_g),
               func.sum(SaleLine.net_minor))
        .where(*where_l).group_by(SaleLine.store_id, SaleLine.business_date, SaleLine.sku)))
    session.execute(insert(DailyPayment).from_select(
        ["store_id", "business_date", "method", "payments", "amount_minor"],
        select(SalePayment.store_id, SalePayment.business_date, SalePayment.method, func.count(),
               func.sum(SalePayment.amount_minor))
        .where(*where_p).group_by(SalePayment.store_id, SalePayment.business_date, SalePayment.method)))
    rebuild_chain_months(session)


def _month_of(session: Session, day: Any) -> Any:
    """SQL for the first day of ``day``'s month."""
    if _is_pg(session):
        return cast(func.date_trunc("month", day), Date)
    return func.date(day, "start of month")


def rebuild_chain_months(session: Session) -> None:
    """Recompute ``chain_monthly_products`` from ``daily_products`` (after the daily rollups
    were rebuilt or written in bulk)."""
    session.execute(ChainMonthlyProduct.__table__.delete())
    month = _month_of(session, DailyProduct.business_date)
    session.execute(insert(ChainMonthlyProduct).from_select(
        ["month", "sku", "category", "name", "units", "weight_g", "revenue_minor"],
        select(month, DailyProduct.sku, DailyProduct.category, func.max(DailyProduct.name),
               func.sum(DailyProduct.units), func.sum(DailyProduct.weight_g), func.sum(DailyProduct.revenue_minor))
        .group_by(month, DailyProduct.sku, DailyProduct.category)))
