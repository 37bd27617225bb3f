"""Store and chain summaries from the daily rollups, each beside the period before.

Revenue is the sum of sale totals (after savings, tax included); units count pieces, a
weighed line counting as one; the average basket is revenue / transactions rounded half up.
Alarms and stock-outs count ``alarm`` items and ``stock_move`` items marked ``stock_out``
synced by edges; device availability is a placeholder (None) until edges sync it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence


from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hq.models import DailyPayment, DailyProduct, DailySales, Store, SyncEvent
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


def figures(session: Session, stores: Sequence[str] | None, r: DateRange, *, top_n: int = TOP_N) -> Figures:
    """The figures of ``stores`` (None: the whole chain) over ``r``, with SQL aggregates."""
    tx, revenue, units, savings, tax = session.execute(
        select(func.coalesce(func.sum(DailySales.transactions), 0), func.coalesce(func.sum(DailySales.revenue_minor), 0),
               func.coalesce(func.sum(DailySales.units), 0), func.coalesce(func.sum(DailySales.savings_minor), 0),
               func.coalesce(func.sum(DailySales.tax_minor), 0))
        .where(*_where(DailySales, stores, r))
    ).one()
    pays = session.execute(
        select(DailyPayment.method, func.sum(DailyPayment.payments), func.sum(DailyPayment.amount_minor))
        .where(*_where(DailyPayment, stores, r)).group_by(DailyPayment.method)
    ).all()
    paid_total = sum(int(a) for _, _, a in pays)
    payment_mix = sorted(
        (PaymentShare(method=m, payments=int(n), amount_minor=int(a), share_bp=_ratio_bp(int(a), paid_total))
         for m, n, a in pays), key=lambda p: (-p.amount_minor, p.method))
    rev = func.sum(DailyProduct.revenue_minor).label("rev")
    top = session.execute(
        select(DailyProduct.sku, func.max(DailyProduct.name), func.max(DailyProduct.category),
               func.sum(DailyProduct.units), func.sum(DailyProduct.weight_g), rev)
        .where(*_where(DailyProduct, stores, r)).group_by(DailyProduct.sku)
        .order_by(rev.desc(), DailyProduct.sku).limit(top_n)
    ).all()
    crev = func.sum(DailyProduct.revenue_minor).label("crev")
    cats = session.execute(
        select(DailyProduct.category, func.sum(DailyProduct.units), crev)
        .where(*_where(DailyProduct, stores, r)).group_by(DailyProduct.category)
        .order_by(crev.desc(), DailyProduct.category).limit(top_n)
    ).all()
    ev_where = _where(SyncEvent, stores, r)
    alarms = session.execute(select(func.count()).select_from(SyncEvent)
                             .where(SyncEvent.kind == "alarm", *ev_where)).scalar_one()
    stock_outs = session.execute(select(func.count()).select_from(SyncEvent)
                                 .where(SyncEvent.kind == "stock_move", SyncEvent.body.like('%"stock_out":true%'),
                                        *ev_where)).scalar_one()
    tx, revenue = int(tx), int(revenue)
    return Figures(
        start=r.start, end=r.end, revenue_minor=revenue, units=int(units), transactions=tx,
        average_basket_minor=_avg(revenue, tx), savings_minor=int(savings), tax_minor=int(tax),
        payment_mix=payment_mix,
        top_products=[ProductFigure(sku=s, name=n, category=c, units=int(u), weight_g=int(w), revenue_minor=int(v))
                      for s, n, c, u, w, v in top],
        top_categories=[CategoryFigure(category=c, units=int(u), revenue_minor=int(v)) for c, u, v in cats],
        alarms=int(alarms), stock_outs=int(stock_outs),
    )


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
    c = figures(session, [store.store_id], cur)
    p = figures(session, [store.store_id], prev)
    return SummaryOut(scope="store", store_id=store.store_id, period=period, currency=store.currency,
                      current=c, previous=p, change=_change(c, p))


def _per_store(session: Session, stores: Sequence[str] | None, r: DateRange) -> dict[str, tuple[int, int, int]]:
    rows = session.execute(
        select(DailySales.store_id, func.sum(DailySales.revenue_minor), func.sum(DailySales.transactions),
               func.sum(DailySales.units))
        .where(*_where(DailySales, stores, r)).group_by(DailySales.store_id)
    )
    return {s: (int(v), int(t), int(u)) for s, v, t, u in rows}


def chain_summary(session: Session, period: str, cur: DateRange, prev: DateRange, *, currency: str,
                  stores: Sequence[str] | None = None) -> SummaryOut:
    """The chain (or the given stores) over ``cur`` beside ``prev``, with a per-store table."""
    c = figures(session, stores, cur)
    p = figures(session, stores, prev)
    now_by, prev_by = _per_store(session, stores, cur), _per_store(session, stores, prev)
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
    now_by, prev_by = _per_store(session, stores, cur), _per_store(session, stores, prev)
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
    from datetime import timedelta

    rows = dict(session.execute(
        select(DailySales.business_date, func.sum(DailySales.revenue_minor))
        .where(*_where(DailySales, stores, r)).group_by(DailySales.business_date)
    ).all())
    out = []
    for i in range(r.days):
        d = r.start + timedelta(days=i)
        out.append((d.isoformat(), int(rows.get(d, 0) or 0)))
    return out
