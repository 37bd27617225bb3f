"""Stock transfers between shops: requested by one, shipped by the other, then received."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hq.errors import ConflictError, ForbiddenError, InvalidRequestError, NotFoundError
from hq.models import Transfer
from hq.schemas import TransferLine
from hq.services.stores import get_store

__all__ = ["PENDING", "get_transfer", "list_transfers", "receive", "request_transfer", "ship", "cancel"]

log = logging.getLogger(__name__)

PENDING = ("requested", "shipped")


def _lines(lines: list[TransferLine]) -> list[dict[str, Any]]:
    out = [line.model_dump() for line in lines]
    for line in out:
        if not line["quantity"] and not line["weight_g"]:
            raise InvalidRequestError(f"transfer line {line['sku']} moves nothing")
    return out


def request_transfer(session: Session, *, from_store_id: str, to_store_id: str, lines: list[TransferLine],
                     note: str, now: datetime) -> Transfer:
    if from_store_id == to_store_id:
        raise InvalidRequestError("a store cannot transfer to itself")
    get_store(session, from_store_id)
    get_store(session, to_store_id)
    t = Transfer(from_store_id=from_store_id, to_store_id=to_store_id, status="requested", lines=_lines(lines),
                 note=note, requested_at=now)
    session.add(t)
    session.flush()
    log.info("transfer %d requested by %s from %s", t.id, to_store_id, from_store_id)
    return t


def get_transfer(session: Session, transfer_id: int) -> Transfer:
    t = session.get(Transfer, transfer_id, with_for_update=True)
    if t is None:
        raise NotFoundError(f"no transfer {transfer_id}")
    return t


def ship(session: Session, transfer_id: int, *, acting_store_id: str | None, lines: list[TransferLine] | None,
         now: datetime) -> Transfer:
    """The shipping store sends the goods (``lines`` when it sends other than asked)."""
    t = get_transfer(session, transfer_id)
    if acting_store_id is not None and acting_store_id != t.from_store_id:
        raise ForbiddenError("only the shipping store ships a transfer")
    if t.status != "requested":
        raise ConflictError(f"transfer {transfer_id} is {t.status}, not requested")
    t.status = "shipped"
    t.shipped_lines = _lines(lines) if lines else list(t.lines)
    t.shipped_at = now
    session.flush()
    return t


def receive(session: Session, transfer_id: int, *, acting_store_id: str | None, lines: list[TransferLine] | None,
            now: datetime) -> Transfer:
    """The requesting store takes the goods in (``lines`` when it counts other than shipped)."""
    t = get_transfer(session, transfer_id)
    if acting_store_id is not None and acting_store_id != t.to_store_id:
        raise ForbiddenError("only the receiving store receives a transfer")
    if t.status != "shipped":
        raise ConflictError(f"transfer {transfer_id} is {t.status}, not shipped")
    t.status = "received"
    t.received_lines = _lines(lines) if lines else list(t.shipped_lines or [])
    t.received_at = now
    session.flush()
    return t


def cancel(session: Session, transfer_id: int, *, acting_store_id: str | None, now: datetime) -> Transfer:
    t = get_transfer(session, transfer_id)
    if acting_store_id is not None and acting_store_id not in (t.from_store_id, t.to_store_id):
        raise ForbiddenError("only the two stores of a transfer cancel it")
    if t.status != "requested":
        raise ConflictError(f"transfer {transfer_id} is {t.status}; only a requested transfer can be cancelled")
    t.status = "cancelled"
    session.flush()
    return t


def list_transfers(session: Session, store_id: str | None, *, pending_only: bool) -> list[Transfer]:
    q = select(Transfer).order_by(Transfer.id)
    if store_id is not None:
        q = q.where(or_(Transfer.from_store_id == store_id, Transfer.to_store_id == store_id))
    if pending_only:
        q = q.where(Transfer.status.in_(PENDING))
    return list(session.execute(q).scalars())
