"""Up-sync from edges: idempotent batches, the cursor, reconciliation and conflicts."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from fastapi import APIRouter, HTTPException, Query, Response
from sqlalchemy import select

from hq.deps import Ctx, CurrentPrincipal, EdgeCaller, Principal, ReadSession
from hq.errors import ForbiddenError, InvalidRequestError
from hq.models import SyncConflict, SyncCursor
from hq.schemas import (
    ConflictOut,
    KioskCursor,
    ReconciliationOut,
    SyncBatchIn,
    SyncBatchResult,
    SyncCursorOut,
)
from hq.services import ingest
from hq.services import stores as store_svc

router = APIRouter(prefix="/sync", tags=["sync"])
log = logging.getLogger(__name__)

@router.post("/batches", response_model=SyncBatchResult)
def post_batch(batch: SyncBatchIn, ctx: Ctx, edge: EdgeCaller) -> Response:
    """Store a batch from an edge, all of it in one transaction, and answer per item:
    ``accepted`` (new), ``duplicate`` (seen with the same body), ``conflict`` (seen with another
    body; the original is kept), ``rejected`` (invalid; see ``reason``). Send it again as often
    as needed: it is kept exactly once."""
    if batch.store_id != edge.store_id:
        raise ForbiddenError(f"this token is for store {edge.store_id}, not {batch.store_id}")
    if len(batch.items) > ctx.settings.max_batch_items:
        raise HTTPException(413,
                            f"at most {ctx.settings.max_batch_items} items per batch")
    received = ctx.clock.now()
    with ctx.ingest_slots:  # a few batches at a time per process (Settings.ingest_concurrency)
        result = ingest.apply_batch(ctx.db, batch, received)
    log.info("batch %s of %s: %d accepted, %d duplicate, %d conflict, %d rejected", batch.batch_id,
             batch.store_id, result.accepted, result.duplicates, result.conflicts, result.rejected)
    # The result is built by the service from checked values: serialise it once, straight to JSON
    # (FastAPI would otherwise validate it again item by item; the documented shape is the same).
    return Response(result.model_dump_json(), media_type="application/json")


def _store_for(who: Principal, store_id: str | None) -> str:
    if who.kind == "edge":
        if store_id not in (None, who.store_id):
            raise ForbiddenError("an edge reads only its own store")
        return who.store_id or ""
    if store_id is None:
        raise InvalidRequestError("store_id is required")
    who.check_store(store_id)
    return store_id


@router.get("/cursor", response_model=SyncCursorOut)
def cursor(session: ReadSession, who: CurrentPrincipal, store_id: str | None = None) -> SyncCursorOut:
    """What HQ holds: per kiosk the highest sequence number received, and the last batch."""
    sid = _store_for(who, store_id)
    store = store_svc.get_store(session, sid)
    rows = session.execute(select(SyncCursor).where(SyncCursor.store_id == sid).order_by(SyncCursor.kiosk_id)).scalars()
    return SyncCursorOut(store_id=sid, last_batch_id=store.last_batch_id, last_batch_at=store.last_batch_at,
                         kiosks=[KioskCursor(kiosk_id=r.kiosk_id, highest_seq=r.highest_seq, updated_at=r.updated_at)
                                 for r in rows])


@router.get("/reconciliation", response_model=ReconciliationOut)
def reconciliation(session: ReadSession, who: CurrentPrincipal, start: date, end: date | None = None,
                   kiosk_id: str | None = None, store_id: str | None = None) -> ReconciliationOut:
    """Per kiosk and business day: count, sum of totals, highest seq — for the edge to compare."""
    sid = _store_for(who, store_id)
    end = end or start
    if end < start or end - start > timedelta(days=366):
        raise InvalidRequestError("end must be on or after start, within a year")
    store_svc.get_store(session, sid)
    return ReconciliationOut(store_id=sid, start=start, end=end,
                             rows=ingest.reconciliation(session, sid, start, end, kiosk_id))


@router.get("/conflicts", response_model=list[ConflictOut])
def conflicts(session: ReadSession, who: CurrentPrincipal, store_id: str | None = None,
              limit: int = Query(100, ge=1, le=1000)) -> list[ConflictOut]:
    sid = _store_for(who, store_id)
    rows = session.execute(select(SyncConflict).where(SyncConflict.store_id == sid)
                           .order_by(SyncConflict.id.desc()).limit(limit)).scalars()
    return [ConflictOut(kind=r.kind, kiosk_id=r.kiosk_id, id=r.item_id, kept_hash=r.kept_hash,
                        received_hash=r.received_hash, batch_id=r.batch_id, received_at=r.received_at) for r in rows]
