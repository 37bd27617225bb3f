"""The master catalogue: edges pull changes since their version; admins publish change sets."""

from __future__ import annotations

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from hq.deps import Admin, Ctx, CurrentPrincipal, ReadSession
from hq.models import CatalogueVersion
from hq.schemas import CatalogueChangesIn, CatalogueOut, CatalogueVersionOut
from hq.services import catalogue as svc
from hq.services import stores as store_svc

router = APIRouter(prefix="/catalogue", tags=["catalogue"])


@router.get("", response_model=CatalogueOut)
def get_catalogue(session: ReadSession, who: CurrentPrincipal, since_version: int = Query(0, ge=0),
                  store_id: str | None = None) -> CatalogueOut:
    """Changes after ``since_version`` (0: a full snapshot). An edge gets the prices and
    promotions of its chain, region and store; a user may name a store, or see every scope."""
    sid = who.store_id if who.kind == "edge" else store_id
    scopes = None
    if sid is not None:
        who.check_store(sid)
        scopes = svc.scopes_for(store_svc.get_store(session, sid))
    return svc.changes_since(session, since_version, scopes)


@router.post("/changes", status_code=status.HTTP_201_CREATED, response_model=CatalogueVersionOut)
def publish(body: CatalogueChangesIn, ctx: Ctx, _: Admin) -> CatalogueVersionOut:
    with ctx.db.write() as s:
        v = svc.apply_changes(s, body, ctx.clock.now(), currency=ctx.settings.currency)
        row = s.get(CatalogueVersion, v)
        return CatalogueVersionOut(version=v, created_at=row.created_at if row else ctx.clock.now(), note=body.note)


@router.get("/versions", response_model=list[CatalogueVersionOut])
def versions(session: ReadSession, _: CurrentPrincipal, limit: int = Query(50, ge=1, le=500)) -> list[CatalogueVersionOut]:
    rows = session.execute(select(CatalogueVersion).order_by(CatalogueVersion.version.desc()).limit(limit)).scalars()
    return [CatalogueVersionOut(version=r.version, created_at=r.created_at, note=r.note) for r in rows]
