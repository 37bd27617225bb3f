"""Transfers between shops: requested by one store, shipped by the other, then received."""

from __future__ import annotations

from fastapi import APIRouter, status

from hq.deps import Ctx, CurrentPrincipal, Principal, ReadSession
from hq.errors import ForbiddenError, InvalidRequestError
from hq.models import Transfer
from hq.schemas import TransferActionIn, TransferIn, TransferOut
from hq.services import transfers as svc

router = APIRouter(prefix="/transfers", tags=["transfers"])


def _out(t: Transfer) -> TransferOut:
    return TransferOut.model_validate(t, from_attributes=True)


def _acting(who: Principal) -> str | None:
    """The store an edge acts for; HQ users act for any store they may see."""
    if who.kind == "user" and who.role == "analyst":
        raise ForbiddenError("analysts read; they do not move stock")
    return who.store_id if who.kind == "edge" else None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TransferOut)
def request_transfer(body: TransferIn, ctx: Ctx, who: CurrentPrincipal) -> TransferOut:
    """The requesting store (an edge: itself) asks ``from_store_id`` for stock."""
    _acting(who)
    to_store = who.store_id if who.kind == "edge" else body.to_store_id
    if to_store is None:
        raise InvalidRequestError("to_store_id is required")
    if body.to_store_id not in (None, to_store):
        raise ForbiddenError("an edge requests transfers for its own store")
    who.check_store(to_store)
    with ctx.db.write() as s:
        return _out(svc.request_transfer(s, from_store_id=body.from_store_id, to_store_id=to_store,
                                         lines=body.lines, note=body.note, now=ctx.clock.now()))


@router.get("", response_model=list[TransferOut])
def list_transfers(session: ReadSession, who: CurrentPrincipal, pending: bool = True,
                   store_id: str | None = None) -> list[TransferOut]:
    """Both sides see their transfers (``pending``: requested or shipped, not yet received)."""
    sid = who.store_id if who.kind == "edge" else store_id
    if sid is not None:
        who.check_store(sid)
    rows = svc.list_transfers(session, sid, pending_only=pending)
    return [_out(t) for t in rows if who.can_see(t.from_store_id) or who.can_see(t.to_store_id)]


def _guard(who: Principal, t: Transfer, store_id: str) -> None:
    if who.kind == "user":
        who.check_store(store_id)


@router.post("/{transfer_id}/ship", response_model=TransferOut)
def ship(transfer_id: int, ctx: Ctx, who: CurrentPrincipal, body: TransferActionIn | None = None) -> TransferOut:
    acting = _acting(who)
    with ctx.db.write() as s:
        t = svc.get_transfer(s, transfer_id)
        _guard(who, t, t.from_store_id)
        return _out(svc.ship(s, transfer_id, acting_store_id=acting, lines=body.lines if body else None,
                             now=ctx.clock.now()))


@router.post("/{transfer_id}/receive", response_model=TransferOut)
def receive(transfer_id: int, ctx: Ctx, who: CurrentPrincipal, body: TransferActionIn | None = None) -> TransferOut:
    acting = _acting(who)
    with ctx.db.write() as s:
        t = svc.get_transfer(s, transfer_id)
        _guard(who, t, t.to_store_id)
        return _out(svc.receive(s, transfer_id, acting_store_id=acting, lines=body.lines if body else None,
                                now=ctx.clock.now()))


@router.post("/{transfer_id}/cancel", response_model=TransferOut)
def cancel(transfer_id: int, ctx: Ctx, who: CurrentPrincipal) -> TransferOut:
    acting = _acting(who)
    with ctx.db.write() as s:
        t = svc.get_transfer(s, transfer_id)
        if who.kind == "user" and not (who.can_see(t.from_store_id) or who.can_see(t.to_store_id)):
            raise ForbiddenError("not your transfer")
        return _out(svc.cancel(s, transfer_id, acting_store_id=acting, now=ctx.clock.now()))
