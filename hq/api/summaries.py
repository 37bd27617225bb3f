"""Store and chain summaries (JSON) and their CSV export."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Response

from hq.deps import Ctx, CurrentPrincipal, Principal, ReadSession
from hq.schemas import SummaryOut
from hq.services import stores as store_svc
from hq.services import summaries as svc
from hq.services.periods import DateRange, PeriodKind, periods

router = APIRouter(prefix="/summaries", tags=["summaries"])


def resolve(ctx_today: date, period: PeriodKind, on: date | None, start: date | None,
            end: date | None) -> tuple[DateRange, DateRange]:
    return periods(period, on or ctx_today, start=start, end=end)


def visible_stores(who: Principal) -> list[str] | None:
    return None if who.store_ids is None else sorted(who.store_ids)


@router.get("/stores/{store_id}", response_model=SummaryOut)
def store_summary(store_id: str, session: ReadSession, ctx: Ctx, who: CurrentPrincipal, period: PeriodKind = "month",
                  date: date | None = None, start: date | None = None, end: date | None = None) -> SummaryOut:
    """One store over a day, ISO week, month, year or date range, beside the period before."""
    who.check_store(store_id)
    store = store_svc.get_store(session, store_id)
    cur, prev = resolve(ctx.clock.now().date(), period, date, start, end)
    return svc.store_summary(session, store, period, cur, prev)


@router.get("/chain", response_model=SummaryOut)
def chain_summary(session: ReadSession, ctx: Ctx, who: CurrentPrincipal, period: PeriodKind = "month",
                  date: date | None = None, start: date | None = None, end: date | None = None) -> SummaryOut:
    """The whole chain (a store manager: their stores), with a per-store table."""
    cur, prev = resolve(ctx.clock.now().date(), period, date, start, end)
    return svc.chain_summary(session, period, cur, prev, currency=ctx.settings.currency, stores=visible_stores(who))


@router.get("/export.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_csv(session: ReadSession, ctx: Ctx, who: CurrentPrincipal, period: PeriodKind = "month",
               date: date | None = None, start: date | None = None, end: date | None = None,
               store_id: str | None = None) -> Response:
    """One row per store this period beside the previous one, and a total row."""
    cur, prev = resolve(ctx.clock.now().date(), period, date, start, end)
    if store_id is not None:
        who.check_store(store_id)
        store_svc.get_store(session, store_id)
        stores: list[str] | None = [store_id]
    else:
        stores = visible_stores(who)
    text = svc.summary_csv(session, stores, cur, prev, currency=ctx.settings.currency)
    name = f"tillpi-{store_id or 'chain'}-{period}-{cur.start.isoformat()}.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
