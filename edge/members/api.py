"""JSON API of members: ``/api/members`` (search by phone digits, enrol, detail, points and
stored-value history, top-up, e-card, win-back list).

Phone numbers, e-mail addresses and birthdays are masked unless the signed-in staff member's
role has ``members.view_pii``. The app factory puts the :class:`MemberStore` on
``app.state.member_store`` (and the staff store on ``app.state.staff_store``).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, Iterator

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from edge.members.errors import (
    DuplicateMemberError,
    InvalidMemberError,
    MemberCardError,
    MemberNotFoundError,
    MembersError,
)
from edge.members.model import Member, mask_phone
from edge.members.store import MemberStore
from edge.staff.api import require_permission
from edge.staff.store import Principal
from retail.errors import LoyaltyError, MoneyError
from retail.loyalty import InsufficientBalanceError, InsufficientPointsError
from retail.money import Money

__all__ = ["MemberStoreDep", "get_member_store", "mask_email", "member_json", "routers"]

PII = "members.view_pii"


def get_member_store(request: Request) -> MemberStore:
    store = getattr(request.app.state, "member_store", None)
    if store is None:
        raise RuntimeError("app.state.member_store is not set; the app factory must provide the MemberStore")
    return store


MemberStoreDep = Annotated[MemberStore, Depends(get_member_store)]
MemberViewer = Annotated[Principal, Depends(require_permission("members.view"))]
MemberEditor = Annotated[Principal, Depends(require_permission("members.edit"))]
TopUpClerk = Annotated[Principal, Depends(require_permission("members.top_up"))]


def mask_email(email: str | None) -> str | None:
    """``wang.xiaoming@example.com`` → ``w***@example.com``."""
    if not email:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def member_json(member: Member, *, pii: bool) -> dict[str, Any]:
    """A member as the API shows it: personal data only for ``pii`` viewers."""
    return {
        "id": member.id,
        "name": member.name,
        "phone": member.phone if pii else mask_phone(member.phone),
        "phone_masked": not pii,
        "email": member.email if pii else mask_email(member.email),
        "birthday": (member.birthday.isoformat() if member.birthday else None) if pii else None,
        "language": member.language,
        "level": member.level,
        "created_at": member.created_at.isoformat(),
        "last_purchase_at": member.last_purchase_at.isoformat() if member.last_purchase_at else None,
    }


def _money_json(m: Money) -> dict[str, Any]:
    return {"minor": m.minor, "currency": m.currency, "text": m.format("en")}


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except MemberNotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, {"error": "not_found", "detail": str(err)}) from err
    except DuplicateMemberError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, {"error": "duplicate", "detail": str(err)}) from err
    except (InsufficientBalanceError, InsufficientPointsError) as err:
        raise HTTPException(status.HTTP_409_CONFLICT, {"error": "insufficient", "detail": str(err)}) from err
    except (InvalidMemberError, MemberCardError, LoyaltyError, MoneyError, MembersError) as err:
        raise HTTPException(422, {"error": "invalid", "detail": str(err)}) from err


class NewMemberBody(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    phone: Annotated[str, Field(min_length=4, max_length=32)]
    birthday: date | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    language: Annotated[str, Field(pattern=r"^(en|zh)$")] = "zh"


class TopUpBody(BaseModel):
    amount: Annotated[str, Field(pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$", description="major units, e.g. 100.00")]
    ref: Annotated[str, Field(min_length=1, max_length=64, description="idempotency key of this top-up")]


class CardBody(BaseModel):
    payload: Annotated[str, Field(min_length=1, max_length=200)]


def _members_router() -> APIRouter:
    router = APIRouter(prefix="/api/members", tags=["members"])

    @router.get("")
    def search(viewer: MemberViewer, store: MemberStoreDep,
               phone: Annotated[str, Query(min_length=4, max_length=32)]) -> list[dict[str, Any]]:
        with _errors():
            found = store.search_by_phone(phone)
        pii = viewer.can(PII)
        return [member_json(m, pii=pii) for m in found]

    @router.post("", status_code=status.HTTP_201_CREATED)
    def create(body: NewMemberBody, editor: MemberEditor, store: MemberStoreDep) -> dict[str, Any]:
        with _errors():
            member = store.create(name=body.name, phone=body.phone, birthday=body.birthday, email=body.email,
                                  language=body.language, actor=editor.id)
        return member_json(member, pii=editor.can(PII))

    @router.get("/winback")
    def winback(viewer: MemberViewer, store: MemberStoreDep,
                months: Annotated[int, Query(ge=1, le=60)] = 3,
                limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
        pii = viewer.can(PII)
        with _errors():
            return [member_json(m, pii=pii) for m in store.winback(months, limit=limit)]

    @router.post("/card")
    def by_card(body: CardBody, viewer: MemberViewer, store: MemberStoreDep) -> dict[str, Any]:
        with _errors():
            return member_json(store.from_card(body.payload), pii=viewer.can(PII))

    @router.get("/{member_id}")
    def get(member_id: str, viewer: MemberViewer, store: MemberStoreDep) -> dict[str, Any]:
        with _errors():
            member = store.get(member_id)
            return {
                **member_json(member, pii=viewer.can(PII)),
                "points_balance": store.points_balance(member_id),
                "stored_value_balance": _money_json(store.stored_value_balance(member_id)),
                "rolling_spend": _money_json(store.rolling_spend(member_id)),
            }

    @router.get("/{member_id}/points")
    def points(member_id: str, _: MemberViewer, store: MemberStoreDep,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        with _errors():
            return {"member_id": member_id, "balance": store.points_balance(member_id),
                    "entries": [e.as_json() for e in store.points_history(member_id, limit=limit)]}

    @router.get("/{member_id}/stored-value")
    def stored_value(member_id: str, _: MemberViewer, store: MemberStoreDep,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        with _errors():
            return {"member_id": member_id, "balance": _money_json(store.stored_value_balance(member_id)),
                    "entries": [e.as_json() for e in store.stored_value_history(member_id, limit=limit)]}

    @router.post("/{member_id}/top-ups", status_code=status.HTTP_201_CREATED)
    def top_up(member_id: str, body: TopUpBody, clerk: TopUpClerk, store: MemberStoreDep) -> dict[str, Any]:
        with _errors():
            move = store.top_up(member_id, Money.of(body.amount, store.settings.currency), ref=body.ref,
                                actor=clerk.id)
        return {"member_id": member_id, "paid": _money_json(move.amount), "bonus": _money_json(move.bonus),
                "balance": _money_json(move.balance_after), "ref": body.ref}

    @router.get("/{member_id}/card")
    def card(member_id: str, _: MemberViewer, store: MemberStoreDep) -> dict[str, Any]:
        with _errors():
            return {"member_id": member_id, "payload": store.card(member_id)}

    return router


def routers() -> list[APIRouter]:
    """The members router: ``/api/members``."""
    return [_members_router()]
