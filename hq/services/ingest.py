"""Sale ingest: every sale kept exactly once, per-item answers, rollups in the same transaction.

A batch is processed inside the caller's transaction (:meth:`hq.db.Database.write`):

* a sale is keyed by ``(store_id, kiosk_id, sale_id)``. A new key is ``accepted``; the same key
  with the same body hash is a ``duplicate``; the same key with another hash is a ``conflict``:
  the original is kept and the newcomer recorded in ``sync_conflicts``;
* a body that fails HQ's schema, whose hash does not match, or that names another store, kiosk
  or currency is ``rejected`` (with a reason) and the rest of the batch goes on;
* inserts use ``ON CONFLICT DO NOTHING``, so two deliveries racing each other still keep one;
  rollup rows are upserted in sorted key order, so concurrent batches do not deadlock;
* per kiosk, the cursor keeps the highest sequence number received; per store, the last batch.

Batches may come twice or out of order; the answer for a repeat is all ``duplicate``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hq.models import (
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
    SaleBodyIn,
    SaleItemIn,
    SyncBatchIn,
    SyncBatchResult,
    SyncItemResult,
)

__all__ = ["body_hash", "canonical_json", "ingest_batch", "rebuild_rollups", "reconciliation"]

log = logging.getLogger(__name__)

UNCATEGORISED = "uncategorised"
_CHUNK = 400


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def body_hash(body: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``body`` without its own ``body_hash`` field (the bus
    contract's rule, so the kiosk's hash is checked end to end)."""
    data = {k: v for k, v in body.items() if k != "body_hash"}
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


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


def _pg_unnest(session: Session, table: Table, rows: list[dict[str, Any]], suffix: str) -> list[tuple[Any, ...]]:
    """PostgreSQL bulk path: ``INSERT ... SELECT * FROM unnest(array, array, ...)``: one short
    statement whatever the row count, its arrays sent in binary (no escaping of JSON bodies).
    Runs on the session's own connection, inside its transaction."""
    conn = session.connection()
    cols = list(rows[0])
    casts = ", ".join(f"%b::{table.c[c].type.compile(dialect=conn.dialect)}[]" for c in cols)
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT * FROM unnest({casts}) {suffix}"
    raw = conn.connection.driver_connection
    with raw.cursor(binary=True) as cur:  # type: ignore[union-attr]
        cur.execute(sql, [[r[c] for r in rows] for c in cols])
        return cur.fetchall() if cur.description else []


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@dataclass
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


def _check_sale(store: Store, item: SaleItemIn) -> tuple[SaleBodyIn | None, str]:
    body = item.body
    if body_hash(body) != item.body_hash:
        return None, "hash_mismatch: body_hash does not match the body"
    if body.get("body_hash") not in (None, item.body_hash):
        return None, "hash_mismatch: item and body disagree on body_hash"
    try:
        sale = SaleBodyIn.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return None, f"invalid: {where}: {first.get('msg', '')}"[:300]
    if sale.store_id != store.store_id:
        return None, f"wrong_store: sale is for {sale.store_id}"
    if sale.kiosk_id != item.kiosk_id or sale.sale_id != item.sale_id or sale.seq != item.seq:
        return None, "mismatch: item kiosk_id, sale_id or seq differ from the body"
    if sale.currency != store.currency:
        return None, f"wrong_currency: store sells in {store.currency}"
    return sale, ""


def ingest_batch(session: Session, store: Store, batch: SyncBatchIn, now: datetime) -> SyncBatchResult:
    """Apply one batch inside the caller's transaction and answer per item."""
    results: list[SyncItemResult | None] = [None] * len(batch.items)
    firsts: dict[tuple[str, str], _SaleIn] = {}
    repeats: list[_SaleIn] = []
    events: list[tuple[int, EventItemIn]] = []
    for index, item in enumerate(batch.items):
        if isinstance(item, SaleItemIn):
            sale, reason = _check_sale(store, item)
            if sale is None:
                results[index] = SyncItemResult(index=index, kind="sale", kiosk_id=item.kiosk_id,
                                                id=item.sale_id, status="rejected", reason=reason)
                continue
            entry = _SaleIn(index, item, sale, canonical_json(item.body))
            if _has_nul(entry.text):
                results[index] = SyncItemResult(index=index, kind="sale", kiosk_id=item.kiosk_id,
                                                id=item.sale_id, status="rejected", reason="invalid: NUL character")
                continue
            if entry.key in firsts:
                repeats.append(entry)
            else:
                firsts[entry.key] = entry
        else:
            events.append((index, item))

    kept = _existing_hashes(session, store.store_id, list(firsts))
    new = [e for k, e in firsts.items() if k not in kept]
    inserted = _insert_sales(session, store, batch.batch_id, new, now)
    raced = [e.key for e in new if e.key not in inserted]
    if raced:
        kept.update(_existing_hashes(session, store.store_id, raced))
    for e in new:
        if e.key in inserted:
            kept[e.key] = e.item.body_hash

    conflicts: list[dict[str, Any]] = []
    cursor: dict[str, int] = {}
    for e in list(firsts.values()) + repeats:
        if e.key in inserted and inserted[e.key][1] == e.index:
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
            cursor[e.item.kiosk_id] = max(cursor.get(e.item.kiosk_id, 0), e.item.seq)
        results[e.index] = SyncItemResult(index=e.index, kind="sale", kiosk_id=e.item.kiosk_id,
                                          id=e.item.sale_id, status=status)

    _apply_events(session, store, batch.batch_id, events, now, results, conflicts)
    if conflicts:
        session.connection().execute(SyncConflict.__table__.insert(), conflicts)
    _upsert_cursors(session, store.store_id, cursor, now)
    times = _record_batch(session, store, batch, now, sum(1 for r in results if r and r.status == "accepted"))

    final = [r for r in results if r is not None]
    counts = defaultdict(int)
    for r in final:
        counts[r.status] += 1
    return SyncBatchResult(batch_id=batch.batch_id, store_id=store.store_id, times_received=times,
                           accepted=counts["accepted"], duplicates=counts["duplicate"],
                           conflicts=counts["conflict"], rejected=counts["rejected"], items=final)


def _existing_hashes(session: Session, store_id: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for chunk in _chunks(keys):
        ids = list({sale_id for _, sale_id in chunk})
        wanted = set(chunk)
        rows = session.execute(
            select(Sale.kiosk_id, Sale.sale_id, Sale.body_hash).where(Sale.store_id == store_id, Sale.sale_id.in_(ids))
        )
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


def _insert_sales(session: Session, store: Store, batch_id: str, new: list[_SaleIn],
                  now: datetime) -> dict[tuple[str, str], tuple[int, int]]:
    """Insert new sales, their lines and payments, and their rollups. Returns
    ``{key: (sale pk, item index)}`` for the rows this transaction inserted."""
    if not new:
        return {}
    new = sorted(new, key=lambda e: e.key)  # one lock order for every transaction
    by_key = {e.key: e for e in new}
    inserted: dict[tuple[str, str], tuple[int, int]] = {}
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
    if _is_pg(session):
        result = _pg_unnest(session, t, rows, "ON CONFLICT (store_id, kiosk_id, sale_id) DO NOTHING "
                                              "RETURNING id, kiosk_id, sale_id")
    else:
        stmt = (
            _insert(session, t)
            .on_conflict_do_nothing(index_elements=["store_id", "kiosk_id", "sale_id"])
            .returning(t.c.id, t.c.kiosk_id, t.c.sale_id)
        )
        # executemany with RETURNING: SQLAlchemy's "insertmanyvalues" batches it, compiled once
        result = session.connection().execute(stmt, rows)
    for pk, kiosk_id, sale_id in result:
        inserted[(kiosk_id, sale_id)] = (pk, by_key[(kiosk_id, sale_id)].index)
    if not inserted:
        return inserted

    cats = _categories(session, {ln.sku for key in inserted for ln in by_key[key].sale.lines})
    lines: list[dict[str, Any]] = []
    pays: list[dict[str, Any]] = []
    roll = _Rollups()
    for key, (pk, _) in inserted.items():
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
    if _is_pg(session):
        _pg_unnest(session, SaleLine.__table__, lines, "")
        if pays:
            _pg_unnest(session, SalePayment.__table__, pays, "")
    else:
        conn = session.connection()
        conn.execute(SaleLine.__table__.insert(), lines)
        if pays:
            conn.execute(SalePayment.__table__.insert(), pays)
    _upsert_rollups(session, roll)
    return inserted


def _upsert_add(session: Session, model: Any, keys: list[str], rows: list[dict[str, Any]], add: list[str],
                keep: Sequence[str] = ()) -> None:
    table: Table = model.__table__
    if _is_pg(session):
        sets = ", ".join([f"{c} = {table.name}.{c} + EXCLUDED.{c}" for c in add] + [f"{c} = EXCLUDED.{c}" for c in keep])
        _pg_unnest(session, table, rows, f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}")
        return
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={**{c: table.c[c] + stmt.excluded[c] for c in add}, **{c: stmt.excluded[c] for c in keep}},
    )
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
        if key not in kept:
            stmt = (
                _insert(session, SyncEvent).values(
                    store_id=store.store_id, kind=ev.kind, event_id=ev.event_id, kiosk_id=ev.kiosk_id,
                    business_date=ev.business_date, body_hash=ev.body_hash, body=canonical_json(ev.body),
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
    aggregates (repair tool; ingest keeps them current by itself)."""
    where_s = [] if store_id is None else [Sale.store_id == store_id]
    where_l = [] if store_id is None else [SaleLine.store_id == store_id]
    where_p = [] if store_id is None else [SalePayment.store_id == store_id]
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
