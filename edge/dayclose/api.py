"""JSON API of the day close: the Z report of a day (live, or closed with its late addendum),
as JSON or text in English or Chinese, and closing a day.

The app factory puts the :class:`~edge.dayclose.service.DayCloseService` on
``app.state.day_close``. Reading a report needs ``reports.view``; closing a day needs
``dayclose.close``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import PlainTextResponse, Response

from edge.dayclose.errors import DayCloseError
from edge.dayclose.report import LABELS, render_text
from edge.dayclose.service import DayCloseService
from edge.staff.api import require_permission
from edge.staff.store import Principal

__all__ = ["CLOSE_PERMISSION", "PERMISSION", "get_day_close", "routers"]

PERMISSION = "reports.view"
CLOSE_PERMISSION = "dayclose.close"


def get_day_close(request: Request) -> DayCloseService:
    service = getattr(request.app.state, "day_close", None)
    if service is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the day close is not available")
    return service


DayCloseDep = Annotated[DayCloseService, Depends(get_day_close)]
Viewer = Annotated[Principal, Depends(require_permission(PERMISSION))]
Closer = Annotated[Principal, Depends(require_permission(CLOSE_PERMISSION))]


def _answer(report: dict[str, Any], fmt: str, lang: str) -> Any:
    if fmt == "text":
        return PlainTextResponse(render_text(report, lang))
    return dict(report, labels={k: {"en": v[0], "zh": v[1]} for k, v in LABELS.items()})


def routers() -> list[APIRouter]:
    """The day-close router: ``/api/dayclose``."""
    router = APIRouter(prefix="/api/dayclose", tags=["dayclose"])

    @router.get("/{business_date}", response_model=None)
    def report(business_date: date, _: Viewer, service: DayCloseDep,
               format: Literal["json", "text"] = "json", lang: Literal["en", "zh"] = "en") -> Response | dict[str, Any]:
        return _answer(service.report(business_date), format, lang)

    @router.post("/{business_date}/close", response_model=None)
    def close(business_date: date, actor: Closer, service: DayCloseDep,
              format: Literal["json", "text"] = "json", lang: Literal["en", "zh"] = "en") -> Response | dict[str, Any]:
        try:
            closed = service.close_day(business_date, actor=actor.id)
        except DayCloseError as exc:
            raise HTTPException(422, {"error": "invalid", "detail": str(exc)}) from None
        return _answer(closed, format, lang)

    return [router]
