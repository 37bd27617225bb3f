"""Store and chain summaries from the daily rollups, each beside the period before (the whole
chain's top products and categories over whole months from the chain's month rollup).

Revenue is the sum of sale totals (after savings, tax included) less the refunds synced for
the same business days (a ``refund`` item's ``total_minor``); units count pieces, a
weighed line counting as one; the average basket is revenue / transactions rounded half up.
Alarms and stock-outs count ``alarm`` items and ``stock_move`` items marked ``stock_out``
synced by edges; device availability is a placeholder (None) until edges sync it.
"""

from __future__ import annotations

import csv
import heapq
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, and_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from hq.errors import InvalidRequestError
from hq.models import ChainMonthlyProduct, DailyPayment, DailyProduct, DailySales, Store, SyncEvent
from hq.schemas import CategoryFigure, Change, Figures, PaymentShare, ProductFigure, StoreFigure, SummaryOut
from hq.services.periods import DateRange
from retail.money import Money

__all__ = ["chain_summary", "figures", "store_summary", "summary_csv"]

TOP_N = 10


def _ratio_bp(part: int, whole: int) -> int:
    return (part * 10_000 * 2 + whole) // (whole * 2) if whole else 0


def _avg(total: int, n: int) -> int:
    return (2 * total + n) // (2 * n) if n else 0


def _where(model, stores: Sequence[str] | None, r: DateRange):  # type: ignore[no-untyped-def]
    conds = [model.business_date >= r.start, model.business_date <= r.end]
    if stores is not None:
        conds.append(model.store_id.in_(list(stores)) if len(stores) != 1 else model.store_id == stores[0])
    return conds


def _in(model, r: DateRange):  # type: ignore[no-untyped-def]
    return and_(model.business_date >= r.start, model.business_date <= r.end)


def _span(day, cur: DateRange, prev: DateRange):  # type: ignore[no-untyped-def]
    """Conditions on the date column ``day`` for rows of either period: one range when they are
    adjacent or overlap (the usual case), else that range narrowed to the two periods."""
    lo, hi = min(cur.start, prev.start), max(cur.end, prev.end)
    conds = [day >= lo, day <= hi]
    if (hi - lo).days + 1 > cur.days + prev.days:
        conds.append(or_(and_(day >= cur.start, day <= cur.end), and_(day >= prev.start, day <= prev.end)))
    return conds


def _both(model, stores: Sequence[str] | None, cur: DateRange, prev: DateRange):  # type: ignore[no-untyped-def]
    """Rows of ``stores`` (None: all) in either period."""
    return [*_span(model.business_date, cur, prev), *_where(model, stores, cur)[2:]]


def _whole_months(r: DateRange) -> bool:
    """Whether ``r`` runs from the first day of a month to the last day of a month."""
    return r.start.day == 1 and (r.end + timedelta(days=1)).day == 1


@dataclass
class _Pair:
    """Both periods' figures from one pass over each rollup, and the per-store table."""

    current: Figures
    previous: Figures
    stores_now: dict[str, tuple[int, int, int]]
    stores_prev: dict[str, tuple[int, int, int]]


def _sales_by_store(session: Session, stores: Sequence[str] | None, cur: DateRange,
                    prev: DateRange) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Per store, ``[transactions, revenue, units, savings, tax]`` in each period (one query)."""
    cols = [DailySales.transactions, DailySales.revenue_minor, DailySales.units, DailySales.savings_minor,
            DailySales.tax_minor]
    c, p = _in(DailySales, cur), _in(DailySales, prev)
    rows = session.execute(
        select(DailySales.store_id, func.count().filter(c), func.count().filter(p),
               *[func.sum(x).filter(c) for x in cols], *[func.sum(x).filter(p) for x in cols])
        .where(*_both(DailySales, stores, cur, prev)).group_by(DailySales.store_id)
    ).all()
    now: dict[str, list[int]] = {}
    before: dict[str, list[int]] = {}
    n = len(cols)
    for row in rows:
        if row[1]:
            now[row[0]] = [int(v or 0) for v in row[3:3 + n]]
        if row[2]:
            before[row[0]] = [int(v or 0) for v in row[3 + n:3 + 2 * n]]
    # refunds come off revenue (index 1); a store with refunds but no sales shows negative revenue
    rc, rp = _in(SyncEvent, cur), _in(SyncEvent, prev)
    amount = _refund_amount(session)
    for store_id, got_now, got_prev, minus_now, minus_prev in session.execute(
        select(SyncEvent.store_id, func.count().filter(rc), func.count().filter(rp),
               func.sum(amount).filter(rc), func.sum(amount).filter(rp))
        .where(SyncEvent.kind == "refund", *_both(SyncEvent, stores, cur, prev)).group_by(SyncEvent.store_id)
    ):
        if got_now:
            now.setdefault(store_id, [0] * n)[1] -= int(minus_now or 0)
        if got_prev:
            before.setdefault(store_id, [0] * n)[1] -= int(minus_prev or 0)
    return now, before


def _refund_amount(session: Session):  # type: ignore[no-untyped-def]
    """SQL for a refund event's ``total_minor`` (its body is checked JSON: an integer >= 0)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(cast(SyncEvent.body, JSONB)["total_minor"].astext, BigInteger)
    return cast(func.json_extract(SyncEvent.body, "$.total_minor"), BigInteger)


def _rank(rows: list[tuple[str, str, str, int, int, int]],
          top_n: int) -> tuple[list[tuple[str, list[Any]]], list[tuple[str, list[int]]]]:
    """Top products and top categories of a period from its ``(sku, category, name, units,
    weight, revenue)`` groups: summed per sku (its category and name the greatest seen, as SQL
    ``max``) and per category, ordered by revenue then key."""
    skus: dict[str, list[Any]] = {}
    cats: dict[str, list[int]] = {}
    for sku, category, name, u, w, v in rows:
        acc = skus.get(sku)
        if acc is None:
            skus[sku] = [name, category, u, w, v]
        else:
            acc[0] = max(acc[0], name)
            acc[1] = max(acc[1], category)
            acc[2] += u
            acc[3] += w
            acc[4] += v
        c = cats.setdefault(category, [0, 0])
        c[0] += u
        c[1] += v
    top = heapq.nsmallest(top_n, skus.items(), key=lambda x: (-x[1][4], x[0]))
    top_cats = heapq.nsmallest(top_n, cats.items(), key=lambda x: (-x[1][1], x[0]))
    return top, top_cats


def _pair(session: Session, stores: Sequence[str] | None, cur: DateRange, prev: DateRange, *,
          top_n: int = TOP_N) -> _Pair:
    """The figures of ``stores`` (None: the whole chain) over ``cur`` and over ``prev`` (which
    ends before ``cur`` starts, or equals it): one aggregate query per rollup covering both
    periods; the product rollup is grouped once by ``(sku, category, period)``, from which both
    the top products and the top categories follow exactly."""
    now_by, prev_by = _sales_by_store(session, stores, cur, prev)

    pc, pp = _in(DailyPayment, cur), _in(DailyPayment, prev)
    pays = session.execute(
        select(DailyPayment.method, func.sum(DailyPayment.payments).filter(pc),
               func.sum(DailyPayment.amount_minor).filter(pc), func.count().filter(pc),
               func.sum(DailyPayment.payments).filter(pp), func.sum(DailyPayment.amount_minor).filter(pp),
               func.count().filter(pp))
        .where(*_both(DailyPayment, stores, cur, prev)).group_by(DailyPayment.method)
    ).all()

    # Products: one pass grouped by (sku, category, period) with plain aggregates (no FILTER); the
    # whole chain over whole months reads the chain's month rows, which sum the same daily rows.
    same = cur == prev
    if not same and not prev.end < cur.start:
        raise InvalidRequestError("the previous period must end before the current one starts")
    rollup: type[ChainMonthlyProduct] | type[DailyProduct]
    if stores is None and _whole_months(cur) and _whole_months(prev):
        rollup, day = ChainMonthlyProduct, ChainMonthlyProduct.month
        where = _span(day, cur, prev)
    else:
        rollup, day = DailyProduct, DailyProduct.business_date
        where = _both(DailyProduct, stores, cur, prev)
    keys = [rollup.sku, rollup.category] + ([] if same else [day >= cur.start])
    prods = session.execute(
        select(*keys, func.max(rollup.name), func.sum(rollup.units), func.sum(rollup.weight_g),
               func.sum(rollup.revenue_minor)).where(*where).group_by(*keys)
    ).all()
    per_period: list[list[tuple[str, str, str, int, int, int]]] = [[], []]
    for row in prods:
        name, u, w, v = row[-4:]
        per_period[0 if same or row[2] else 1].append((row[0], row[1], name, int(u or 0), int(w or 0), int(v or 0)))
    if same:
        per_period[1] = per_period[0]
    ranked = [_rank(rows, top_n) for rows in per_period]

    ec, ep = _in(SyncEvent, cur), _in(SyncEvent, prev)
    alarm = SyncEvent.kind == "alarm"
    stock_out = and_(SyncEvent.kind == "stock_move", SyncEvent.body.like('%"stock_out":true%'))
    events = session.execute(
        select(func.count().filter(and_(alarm, ec)), func.count().filter(and_(stock_out, ec)),
               func.count().filter(and_(alarm, ep)), func.count().filter(and_(stock_out, ep)))
        .select_from(SyncEvent)
        .where(SyncEvent.kind.in_(["alarm", "stock_move"]), *_both(SyncEvent, stores, cur, prev))
    ).one()

    def build(r: DateRange, by_store: dict[str, list[int]], k: int) -> Figures:
        tx, revenue, units, savings, tax = (sum(v[i] for v in by_store.values()) for i in range(5))
        # pays rows: method, then (payments, amount, rows) of the current and of the previous period
        mix = [(row[0], int(row[1 + 3 * k] or 0), int(row[2 + 3 * k] or 0)) for row in pays if row[3 + 3 * k]]
        paid_total = sum(a for _, _, a in mix)
        payment_mix = sorted((PaymentShare(method=m, payments=n, amount_minor=a, share_bp=_ratio_bp(a, paid_total))
                              for m, n, a in mix), key=lambda x: (-x.amount_minor, x.method))
        top, top_cats = ranked[k]
        return Figures(
            start=r.start, end=r.end, revenue_minor=revenue, units=units, transactions=tx,
            average_basket_minor=_avg(revenue, tx), savings_minor=savings, tax_minor=tax, payment_mix=payment_mix,
            top_products=[ProductFigure(sku=s, name=a[0], category=a[1], units=a[2], weight_g=a[3],
                                        revenue_minor=a[4]) for s, a in top],
            top_categories=[CategoryFigure(category=c, units=a[0], revenue_minor=a[1]) for c, a in top_cats],
            alarms=int(events[2 * k]), stock_outs=int(events[2 * k + 1]),
        )

    def table(by_store: dict[str, list[int]]) -> dict[str, tuple[int, int, int]]:
        return {sid: (v[1], v[0], v[2]) for sid, v in by_store.items()}

    return _Pair(build(cur, now_by, 0), build(prev, prev_by, 1), table(now_by), table(prev_by))


def figures(session: Session, stores: Sequence[str] | None, r: DateRange, *, top_n: int = TOP_N) -> Figures:
    """The figures of ``stores`` (None: the whole chain) over ``r``, with SQL aggregates."""
    return _pair(session, stores, r, r, top_n=top_n).current


def _change(cur: Figures, prev: Figures) -> Change:
    delta = cur.revenue_minor - prev.revenue_minor
    return Change(
        revenue_minor=delta,
        revenue_bp=_ratio_bp(delta, prev.revenue_minor) if prev.revenue_minor else None,
        units=cur.units - prev.units,
        transactions=cur.transactions - prev.transactions,
        average_basket_minor=cur.average_basket_minor - prev.average_basket_minor,
    )


def store_summary(session: Session, store: Store, period: str, cur: DateRange, prev: DateRange) -> SummaryOut:
    pair = _pair(session, [store.store_id], cur, prev)
    c, p = pair.current, pair.previous
    return SummaryOut(scope="store", store_id=store.store_id, period=period, currency=store.currency,
                      current=c, previous=p, change=_change(c, p))


def _per_store(session: Session, stores: Sequence[str] | None, cur: DateRange,
               prev: DateRange) -> tuple[dict[str, tuple[int, int, int]], dict[str, tuple[int, int, int]]]:
    """Per store ``(revenue, transactions, units)`` in each period."""
    now, before = _sales_by_store(session, stores, cur, prev)
    return ({s: (v[1], v[0], v[2]) for s, v in now.items()}, {s: (v[1], v[0], v[2]) for s, v in before.items()})


def chain_summary(session: Session, period: str, cur: DateRange, prev: DateRange, *, currency: str,
                  stores: Sequence[str] | None = None) -> SummaryOut:
    """The chain (or the given stores) over ``cur`` beside ``prev``, with a per-store table."""
    pair = _pair(session, stores, cur, prev)
    c, p = pair.current, pair.previous
    now_by, prev_by = pair.stores_now, pair.stores_prev
    q = select(Store.store_id, Store.name).order_by(Store.store_id)
    if stores is not None:
        q = q.where(Store.store_id.in_(list(stores)))
    table = [
        StoreFigure(store_id=sid, name=name, revenue_minor=now_by.get(sid, (0, 0, 0))[0],
                    transactions=now_by.get(sid, (0, 0, 0))[1], units=now_by.get(sid, (0, 0, 0))[2],
                    previous_revenue_minor=prev_by.get(sid, (0, 0, 0))[0])
        for sid, name in session.execute(q)
    ]
    table.sort(key=lambda s: (-s.revenue_minor, s.store_id))
    return SummaryOut(scope="chain", store_id=None, period=period, currency=currency, current=c, previous=p,
                      change=_change(c, p), stores=table)


def _money(minor: int, currency: str) -> str:
    return str(Money(minor, currency).amount)


CSV_COLUMNS = ["store_id", "name", "start", "end", "revenue", "transactions", "units", "average_basket",
               "previous_start", "previous_end", "previous_revenue", "previous_transactions", "previous_units",
               "revenue_change"]


def summary_csv(session: Session, stores: Sequence[str] | None, cur: DateRange, prev: DateRange, *,
                currency: str) -> str:
    """One row per store (and a chain total row), this period beside the previous one.
    Amounts are in major units of ``currency``, written exactly."""
    now_by, prev_by = _per_store(session, stores, cur, prev)
    q = select(Store.store_id, Store.name).order_by(Store.store_id)
    if stores is not None:
        q = q.where(Store.store_id.in_(list(stores)))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    total_now, total_prev = [0, 0, 0], [0, 0, 0]

    def row(sid: str, name: str, n: Sequence[int], p: Sequence[int]) -> list[str]:
        return [sid, name, cur.start.isoformat(), cur.end.isoformat(), _money(n[0], currency), str(n[1]), str(n[2]),
                _money(_avg(n[0], n[1]), currency), prev.start.isoformat(), prev.end.isoformat(),
                _money(p[0], currency), str(p[1]), str(p[2]), _money(n[0] - p[0], currency)]

    for sid, name in session.execute(q):
        n, p = now_by.get(sid, (0, 0, 0)), prev_by.get(sid, (0, 0, 0))
        for i in range(3):
            total_now[i] += n[i]
            total_prev[i] += p[i]
        w.writerow(row(sid, name, n, p))
    w.writerow(row("*", "total", total_now, total_prev))
    return buf.getvalue()




def daily_revenue(session: Session, stores: Sequence[str] | None, r: DateRange) -> list[tuple[str, int]]:
    """Revenue per business day over ``r`` (days without sales are zero), for charts."""
    rows = dict(session.execute(
        select(DailySales.business_date, func.sum(DailySales.revenue_minor))
        .where(*_where(DailySales, stores, r)).group_by(DailySales.business_date)
    ).all())
    for d, minus in session.execute(
        select(SyncEvent.business_date, func.sum(_refund_amount(session)))
        .where(SyncEvent.kind == "refund", *_where(SyncEvent, stores, r)).group_by(SyncEvent.business_date)
    ):
        rows[d] = int(rows.get(d, 0) or 0) - int(minus or 0)
    out = []
    for i in range(r.days):
        d = r.start + timedelta(days=i)
        out.append((d.isoformat(), int(rows.get(d, 0) or 0)))
    return out
