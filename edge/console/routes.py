"""The staff console: one page (HTML, CSS and vanilla JS shipped in ``static/``; no CDN) and
the JSON and server-sent-event endpoints behind it.

    GET  /                                   -> redirect to /console/
    GET  /console/                           the page (signs in through /api/auth/login)
    GET  /console/static/<file>              its CSS and JS
    GET  /api/console/snapshot               alarms, kiosks, assistance requests, who I am
    GET  /api/console/events                 text/event-stream: a snapshot, then live changes
    GET  /api/console/kiosks                 the Devices board
    GET  /api/console/assistance             open assistance requests
    POST /api/console/assistance/{kiosk}/{request}/decide   {approve, why}: remote approval
    PATCH /api/console/catalogue/{sku}/price  {price_minor, cost_minor?}: the back office's price
                                             edit, written to the audit log with before and after

The back-office pages (catalogue, stock, members, promotions, staff, reports, refunds) are the
same page (``backoffice.js``) over the components' own JSON APIs; the snapshot tells it which
of them this edge serves (``features``) and the shop's business date (``today``).

The app factory puts the :class:`~edge.monitor.core.StoreMonitor` on ``app.state.monitor``.
Events on the stream are JSON objects with a ``type``: ``snapshot``, ``alarms`` (the whole open
list), ``kiosk`` (one kiosk), ``assistance`` (the whole list), ``notification`` (a grouped
staff message) and ``resync`` (reload the snapshot).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from edge.catalogue.errors import CatalogueStoreError, UnknownProductError
from edge.monitor.core import ApprovalError, StoreMonitor
from edge.staff.api import CurrentStaff, http_error, require_permission
from edge.staff.errors import PermissionDeniedError
from edge.staff.store import Principal
from retail.errors import RetailError
from retail.money import Money

__all__ = ["STATIC_DIR", "get_monitor", "router", "static_files"]

STATIC_DIR = Path(__file__).with_name("static")
KEEPALIVE_S = 15.0


def get_monitor(request: Request) -> StoreMonitor:
    monitor = getattr(request.app.state, "monitor", None)
    if monitor is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the store monitor is not available")
    return monitor


MonitorDep = Annotated[StoreMonitor, Depends(get_monitor)]


PriceEditor = Annotated[Principal, Depends(require_permission("catalogue.edit"))]

#: app.state attribute -> the back-office feature it enables
FEATURES = {"catalogue": "catalogue", "stock": "stock", "member_store": "members", "promotions": "promotions",
            "refunds": "refunds", "reports": "reports", "day_close": "dayclose", "expenses": "expenses"}


class PriceBody(BaseModel):
    price_minor: Annotated[int, Field(ge=0)]
    cost_minor: Annotated[int, Field(ge=0)] | None = None


def _business_date(request: Request) -> str | None:
    reports = getattr(request.app.state, "reports", None)
    if reports is not None:
        return reports.today().isoformat()
    clock = getattr(request.app.state, "clock", None)
    return clock.now().date().isoformat() if clock is not None else None


class DecideBody(BaseModel):
    approve: bool = True
    why: Annotated[str, Field(max_length=500)] = ""


def _sse(event: dict[str, Any], event_id: int) -> str:
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event_id}\ndata: {data}\n\n"


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


def router() -> APIRouter:
    r = APIRouter(tags=["console"])

    @r.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/")

    @r.get("/console", include_in_schema=False)
    def console_no_slash() -> RedirectResponse:
        return RedirectResponse("/console/")

    @r.get("/console/", include_in_schema=False)
    def console_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "console.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache"})

    @r.get("/api/console/snapshot")
    def snapshot(principal: CurrentStaff, monitor: MonitorDep, request: Request) -> dict[str, Any]:
        snap = monitor.snapshot()
        snap["me"] = {"id": principal.id, "name": principal.staff.name, "role": principal.staff.role.value,
                      "permissions": sorted(principal.permissions)}
        snap["store_id"] = monitor.store_id
        store = getattr(request.app.state, "staff_store", None)
        snap["staff"] = {m.id: m.name for m in store.list(include_inactive=True)} if store is not None else {}
        snap["features"] = sorted(f for attr, f in FEATURES.items() if getattr(request.app.state, attr, None) is not None)
        snap["today"] = _business_date(request)
        return snap

    @r.patch("/api/console/catalogue/{sku}/price")
    def change_price(sku: str, body: PriceBody, principal: PriceEditor, request: Request) -> dict[str, Any]:
        catalogue = getattr(request.app.state, "catalogue", None)
        staff = getattr(request.app.state, "staff_store", None)
        if catalogue is None or staff is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the catalogue is not available")
        cur = catalogue.currency
        try:
            before = catalogue.get(sku)
            version = catalogue.update_price(sku, Money(body.price_minor, cur),
                                             cost_price=None if body.cost_minor is None else Money(body.cost_minor, cur))
            after = catalogue.get(sku)
        except UnknownProductError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, {"error": "not_found", "detail": str(exc)}) from None
        except (CatalogueStoreError, RetailError) as exc:
            raise HTTPException(422, {"error": "invalid", "detail": str(exc)}) from None

        def prices(p: Any) -> dict[str, Any]:
            return {"price_minor": p.price.minor, "cost_minor": None if p.cost_price is None else p.cost_price.minor}

        staff.audit(actor=principal, action="catalogue.price", target=f"product:{sku}", before=prices(before),
                    after=prices(after), detail=f"catalogue version {version}")
        return {"version": version, "product": after.to_dict()}

    @r.get("/api/console/kiosks")
    def kiosks(_: CurrentStaff, monitor: MonitorDep) -> list[dict[str, Any]]:
        return monitor.kiosks_json()

    @r.get("/api/console/assistance")
    def assistance(_: CurrentStaff, monitor: MonitorDep) -> list[dict[str, Any]]:
        return monitor.assistance_json()

    @r.post("/api/console/assistance/{kiosk_id}/{request_id}/decide")
    def decide(kiosk_id: str, request_id: str, body: DecideBody, principal: CurrentStaff, monitor: MonitorDep,
               request: Request) -> dict[str, Any]:
        req = monitor.request(kiosk_id, request_id)
        if req is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, {"error": "not_found",
                                                            "detail": f"no open request {request_id} at {kiosk_id}"})
        needed = req.permission
        if needed is None:
            raise HTTPException(status.HTTP_409_CONFLICT, {"error": "conflict",
                                                           "detail": f"a {req.reason} request is decided at the kiosk"})
        if not principal.can(needed):
            raise http_error(PermissionDeniedError(f"{principal.id} lacks {needed}"))
        try:
            cmd = monitor.approve(kiosk_id, request_id, staff_id=principal.id, approve=body.approve, why=body.why)
        except ApprovalError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, {"error": "conflict", "detail": str(exc)}) from None
        store = getattr(request.app.state, "staff_store", None)
        if store is not None:
            store.audit(actor=principal, action="interventions.approve" if body.approve else "interventions.refuse",
                        target=f"kiosk:{kiosk_id}", detail=f"{req.reason} {request_id} {body.why}"[:500])
        return {"command_id": cmd.command_id, "kiosk_id": kiosk_id, "request_id": request_id,
                "approve": body.approve, "by": principal.id}

    @r.get("/api/console/events")
    async def events(principal: CurrentStaff, monitor: MonitorDep, request: Request) -> StreamingResponse:
        hub = monitor.hub
        sub = hub.subscribe()  # before the snapshot: nothing falls between the two

        async def stream() -> AsyncIterator[str]:
            n = 0
            try:
                yield "retry: 2000\n\n"
                n += 1
                yield _sse(await run_in_threadpool(monitor.snapshot), n)
                while True:
                    event = await sub.get(KEEPALIVE_S)
                    if event is None:
                        if await request.is_disconnected():
                            break
                        yield ": keepalive\n\n"
                        continue
                    if event.get("type") == "__end__":
                        break
                    if event.get("type") == "resync":
                        sub.overflowed = False
                        event = await run_in_threadpool(monitor.snapshot)
                    n += 1
                    yield _sse(event, n)
            finally:
                hub.unsubscribe(sub)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return r
