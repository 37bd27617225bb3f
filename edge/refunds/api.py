"""JSON API of refunds: look a sale up by its receipt code, refund lines of it, list refunds.

The app factory puts the :class:`~edge.refunds.service.RefundService` on
``app.state.refunds`` (and the staff store on ``app.state.staff_store``) and includes
:func:`routers`. Every route needs ``refunds.create``.

``POST /api/refunds`` answers 201 with a new refund and 200 with the first one when the same
request is repeated with the same ``refund_id``; 409 when the id was used for another request;
422 for a request that breaks a rule (more than is left, unknown line, ...); 404 for an
unknown receipt code.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, Iterator, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from edge.refunds.errors import (
    InvalidRefundError,
    RefundConflictError,
    RefundError,
    RefundPermissionError,
    SaleNotFoundError,
    UnknownRefundError,
)
from edge.refunds.rules import ReturnLine
from edge.refunds.service import PERMISSION, RefundService
from edge.staff.api import require_permission
from edge.staff.store import Principal

__all__ = ["RefundsDep", "get_refunds", "routers"]


def get_refunds(request: Request) -> RefundService:
    service = getattr(request.app.state, "refunds", None)
    if service is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "refunds are not available")
    return service


RefundsDep = Annotated[RefundService, Depends(get_refunds)]
Refunder = Annotated[Principal, Depends(require_permission(PERMISSION))]


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (SaleNotFoundError, UnknownRefundError) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, {"error": "not_found", "detail": str(exc)}) from None
    except RefundConflictError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"error": "conflict", "detail": str(exc)}) from None
    except RefundPermissionError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, {"error": "forbidden", "detail": str(exc)}) from None
    except (InvalidRefundError, RefundError) as exc:
        raise HTTPException(422, {"error": "invalid", "detail": str(exc)}) from None


class LineIn(BaseModel):
    line_no: Annotated[int, Field(ge=1)]
    quantity: Annotated[int, Field(ge=1)] | None = None


class RefundIn(BaseModel):
    refund_id: Annotated[str, Field(min_length=1, max_length=64)]
    sale: Annotated[str, Field(min_length=1, max_length=120, description="sale id or <kiosk>-<seq>")]
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    to: Literal["original", "stored_value"] = "original"
    reason: Annotated[str, Field(max_length=500)] = ""


def routers() -> list[APIRouter]:
    """The refunds router: ``/api/refunds``."""
    router = APIRouter(prefix="/api/refunds", tags=["refunds"])

    @router.get("/sales/{code}")
    def find_sale(code: str, _: Refunder, refunds: RefundsDep) -> dict[str, Any]:
        with _errors():
            return refunds.find_sale(code).to_dict()

    @router.post("", status_code=status.HTTP_201_CREATED)
    def create(body: RefundIn, actor: Refunder, refunds: RefundsDep, response: Response) -> dict[str, Any]:
        with _errors():
            refund = refunds.refund(
                body.refund_id, body.sale, [ReturnLine(l.line_no, l.quantity) for l in body.lines],
                actor=actor, mode=body.to, reason=body.reason,
            )
        if refund.replayed:
            response.status_code = status.HTTP_200_OK
        return dict(refund.to_dict(), replayed=refund.replayed)

    @router.get("")
    def list_refunds(_: Refunder, refunds: RefundsDep, business_date: date | None = None,
                     sale_id: str | None = None) -> list[dict[str, Any]]:
        return [r.to_dict() for r in refunds.refunds(business_date=business_date, sale_id=sale_id)]

    @router.get("/{refund_id}")
    def get_refund(refund_id: str, _: Refunder, refunds: RefundsDep) -> dict[str, Any]:
        with _errors():
            return refunds.get(refund_id).to_dict()

    return [router]
