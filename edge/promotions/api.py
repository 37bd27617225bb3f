"""JSON API of promotions and coupons, with the preview of a sample basket.

The app factory puts the :class:`~edge.promotions.store.PromotionStore` on
``app.state.promotions`` (and the staff store on ``app.state.staff_store``) and includes
:func:`routers`. Reading and previewing need a signed-in staff member; writes need
``promotions.edit``. A promotion that does not validate against the catalogue (unknown SKU
or category, bad rule) is answered 422 with the message.

Promotions travel as :func:`retail.promotions.promotion_to_dict` JSON, e.g.
``{"type": "percent_off", "promotion_id": "tea-20", "name_en": "Tea 20% off",
"name_zh": "茶饮八折", "skus": ["tea-500"], "percent_bp": 2000}``.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, Iterator

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field, model_validator

from edge.promotions.errors import (
    CouponError,
    CouponRejectedError,
    InvalidPromotionDefinitionError,
    PromotionsError,
    UnknownCouponError,
    UnknownPromotionError,
)
from edge.promotions.preview import SampleLine, priced_to_dict
from edge.promotions.store import PromotionStore
from edge.staff.api import CurrentStaff, require_permission
from edge.staff.store import Principal

__all__ = ["PERMISSION", "PromotionsDep", "get_promotions", "routers"]

PERMISSION = "promotions.edit"


def get_promotions(request: Request) -> PromotionStore:
    store = getattr(request.app.state, "promotions", None)
    if store is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "promotions are not available")
    return store


PromotionsDep = Annotated[PromotionStore, Depends(get_promotions)]
Editor = Annotated[Principal, Depends(require_permission(PERMISSION))]


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (UnknownPromotionError, UnknownCouponError) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, {"error": "not_found", "detail": str(exc)}) from None
    except CouponRejectedError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"error": "coupon_rejected", "detail": exc.reason}) from None
    except (InvalidPromotionDefinitionError, CouponError, PromotionsError) as exc:
        raise HTTPException(422, {"error": "invalid", "detail": str(exc)}) from None


class ActiveIn(BaseModel):
    active: bool


class CouponIn(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=64)]
    promotion_id: Annotated[str, Field(min_length=1, max_length=64)]
    max_redemptions: Annotated[int, Field(ge=1)] | None = 1
    valid_from: date | None = None
    valid_until: date | None = None


class RedemptionIn(BaseModel):
    ref: Annotated[str, Field(min_length=1, max_length=120)]


class SampleLineIn(BaseModel):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=100_000)] | None = None
    weight_g: Annotated[int, Field(ge=1, le=1_000_000)] | None = None

    @model_validator(mode="after")
    def _one(self) -> SampleLineIn:
        if self.quantity is not None and self.weight_g is not None:
            raise ValueError("give quantity or weight_g, not both")
        return self


class PreviewIn(BaseModel):
    lines: Annotated[list[SampleLineIn], Field(min_length=1, max_length=500)]
    member_level: Annotated[str, Field(max_length=64)] | None = None
    coupons: Annotated[list[str], Field(max_length=20)] = []
    at: datetime | None = Field(None, description="shop-local time; a time with an offset is converted")
    drafts: Annotated[list[dict[str, Any]], Field(max_length=50)] = Field(
        [], description="unsaved promotions to try (replace active ones of the same id)")


def routers() -> list[APIRouter]:
    """The promotions router: ``/api/promotions`` (coupons under ``/api/promotions/coupons``)."""
    router = APIRouter(prefix="/api/promotions", tags=["promotions"])

    @router.get("")
    def list_promotions(_: CurrentStaff, store: PromotionsDep, active: bool | None = None) -> dict[str, Any]:
        return {"version": store.version(), "promotions": [p.to_dict() for p in store.list(active=active)]}

    @router.post("", status_code=status.HTTP_201_CREATED)
    def put_promotion(body: dict[str, Any], actor: Editor, store: PromotionsDep, active: bool = True) -> dict[str, Any]:
        with _errors():
            return store.put(body, actor=actor.id, active=active).to_dict()

    @router.post("/preview")
    def preview(body: PreviewIn, _: CurrentStaff, store: PromotionsDep) -> dict[str, Any]:
        with _errors():
            drafts = [store.parse(d) for d in body.drafts]
            priced, rejected = store.preview(
                [SampleLine(l.sku, l.quantity, l.weight_g) for l in body.lines], at=body.at,
                member_level=body.member_level, coupons=body.coupons, drafts=drafts,
            )
        return dict(priced_to_dict(priced), coupons_rejected=rejected, version=store.version())

    @router.get("/snapshot")
    def snapshot(_: CurrentStaff, store: PromotionsDep) -> dict[str, Any]:
        return store.snapshot()

    @router.get("/coupons")
    def list_coupons(_: CurrentStaff, store: PromotionsDep, promotion_id: str | None = None) -> list[dict[str, Any]]:
        return [c.to_dict() for c in store.coupons(promotion_id=promotion_id)]

    @router.post("/coupons", status_code=status.HTTP_201_CREATED)
    def create_coupon(body: CouponIn, actor: Editor, store: PromotionsDep) -> dict[str, Any]:
        with _errors():
            return store.create_coupon(body.code, body.promotion_id, actor=actor.id, max_redemptions=body.max_redemptions,
                                       valid_from=body.valid_from, valid_until=body.valid_until).to_dict()

    @router.get("/coupons/{code}")
    def get_coupon(code: str, _: CurrentStaff, store: PromotionsDep) -> dict[str, Any]:
        with _errors():
            coupon = store.coupon(code)
            _, rejected = store.resolve_coupons([code])
        return dict(coupon.to_dict(), usable_now=not rejected, rejected_because=rejected.get(coupon.code))

    @router.put("/coupons/{code}/active")
    def set_coupon_active(code: str, body: ActiveIn, actor: Editor, store: PromotionsDep) -> dict[str, Any]:
        with _errors():
            return store.set_coupon_active(code, body.active, actor=actor.id).to_dict()

    @router.post("/coupons/{code}/redemptions")
    def redeem(code: str, body: RedemptionIn, actor: Editor, store: PromotionsDep) -> dict[str, Any]:
        with _errors():
            return store.redeem(code, ref=body.ref).to_dict()

    @router.get("/{promotion_id}")
    def get_promotion(promotion_id: str, _: CurrentStaff, store: PromotionsDep) -> dict[str, Any]:
        with _errors():
            return store.get(promotion_id).to_dict()

    @router.put("/{promotion_id}/active")
    def set_active(promotion_id: str, body: ActiveIn, actor: Editor, store: PromotionsDep) -> dict[str, Any]:
        with _errors():
            return store.set_active(promotion_id, body.active, actor=actor.id).to_dict()

    return [router]
