"""Stores, edge enrolment and edge token rotation."""

from __future__ import annotations

from fastapi import APIRouter, status

from hq.deps import Admin, Ctx, CurrentPrincipal, EdgeCaller, ReadSession, UserCaller
from hq.errors import InvalidRequestError
from hq.models import Store
from hq.schemas import EnrolIn, EnrolmentCodeOut, RotateIn, StoreIn, StoreOut, TokenOut
from hq.services import stores as svc

router = APIRouter(prefix="/stores", tags=["stores"])


def _out(store: Store) -> StoreOut:
    return StoreOut.model_validate(store, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=StoreOut)
def create_store(body: StoreIn, ctx: Ctx, _: Admin) -> StoreOut:
    currency = body.currency or ctx.settings.currency
    if currency != ctx.settings.currency:
        raise InvalidRequestError(f"the chain reports in {ctx.settings.currency}; a store cannot sell in {currency}")
    with ctx.db.write() as s:
        return _out(svc.create_store(s, store_id=body.store_id, name=body.name, region=body.region,
                                     currency=currency, now=ctx.clock.now()))


@router.get("", response_model=list[StoreOut])
def list_stores(session: ReadSession, who: UserCaller) -> list[StoreOut]:
    from sqlalchemy import select

    rows = session.execute(select(Store).order_by(Store.store_id)).scalars()
    return [_out(s) for s in rows if who.can_see(s.store_id)]


@router.post("/enrol", response_model=TokenOut)
def enrol(body: EnrolIn, ctx: Ctx) -> TokenOut:
    """A new edge trades its one-time enrolment code for its bearer token."""
    with ctx.db.write() as s:
        store_id, token = svc.enrol(s, ctx.secret, body.code, ctx.clock.now(), grace_s=ctx.settings.token_grace_s)
    return TokenOut(store_id=store_id, token=token)


@router.get("/me", response_model=StoreOut)
def my_store(session: ReadSession, edge: EdgeCaller) -> StoreOut:
    return _out(svc.get_store(session, edge.store_id or ""))


@router.post("/me/token", response_model=TokenOut)
def rotate_my_token(ctx: Ctx, edge: EdgeCaller, body: RotateIn | None = None) -> TokenOut:
    """The edge rotates its own token; the old one works for the grace period."""
    with ctx.db.write() as s:
        token, until = svc.rotate_token(s, ctx.secret, edge.store_id or "", ctx.clock.now(),
                                        grace_s=ctx.settings.token_grace_s, revoke_old=bool(body and body.revoke_old))
    return TokenOut(store_id=edge.store_id or "", token=token, old_tokens_valid_until=until)


@router.get("/{store_id}", response_model=StoreOut)
def get_store(store_id: str, session: ReadSession, who: CurrentPrincipal) -> StoreOut:
    who.check_store(store_id)
    return _out(svc.get_store(session, store_id))


@router.post("/{store_id}/enrolment-codes", status_code=status.HTTP_201_CREATED, response_model=EnrolmentCodeOut)
def new_enrolment_code(store_id: str, ctx: Ctx, _: Admin) -> EnrolmentCodeOut:
    with ctx.db.write() as s:
        code, expires = svc.issue_enrolment_code(s, ctx.secret, store_id, ctx.clock.now(),
                                                 ttl_s=ctx.settings.enrolment_ttl_s)
    return EnrolmentCodeOut(store_id=store_id, code=code, expires_at=expires)


@router.post("/{store_id}/token", response_model=TokenOut)
def rotate_store_token(store_id: str, ctx: Ctx, _: Admin, body: RotateIn | None = None) -> TokenOut:
    """An admin rotates a store's edge token (``revoke_old`` when the old one leaked)."""
    with ctx.db.write() as s:
        token, until = svc.rotate_token(s, ctx.secret, store_id, ctx.clock.now(),
                                        grace_s=ctx.settings.token_grace_s, revoke_old=bool(body and body.revoke_old))
    return TokenOut(store_id=store_id, token=token, old_tokens_valid_until=until)
