"""The edge's web app factory: the staff console and the JSON API over the services the
composition root (:mod:`edge.service`) built.

    app = create_app(settings, services)

Nothing is opened here: the app only serves what it is given (the service owns and closes the
stores). Routers mounted: ``/api/auth`` ``/api/staff`` ``/api/audit`` (staff), ``/api/alarms``,
``/api/console`` + ``/console/`` (the live console and its back office), ``/api/members``,
``/api/catalogue``, ``/api/stock``, ``/api/promotions``, ``/api/refunds``, ``/api/dayclose``,
``/api/expenses``, ``/api/reports`` (each only when its service is given), and ``/api/health``
(unauthenticated liveness).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from fastapi import FastAPI

from edge.alarms import AlarmEngine
from edge.alarms.api import router as alarms_router
from edge.catalogue.api import routers as catalogue_routers
from edge.catalogue.store import CatalogueStore
from edge.console.routes import router as console_router
from edge.console.routes import static_files
from edge.dayclose.api import routers as dayclose_routers
from edge.dayclose.service import DayCloseService
from edge.expenses.api import routers as expense_routers
from edge.expenses.store import ExpenseStore
from edge.members.api import routers as member_routers
from edge.members.store import MemberStore
from edge.monitor.core import StoreMonitor
from edge.promotions.api import routers as promotion_routers
from edge.promotions.store import PromotionStore
from edge.refunds.api import routers as refund_routers
from edge.refunds.service import RefundService
from edge.reports.api import routers as report_routers
from edge.reports.store import ReportStore
from edge.settings import EdgeSettings
from edge.staff.api import current_principal, require_permission
from edge.staff.api import routers as staff_routers
from edge.staff.store import StaffStore
from edge.stock.api import routers as stock_routers
from edge.stock.service import StockService
from retail.clock import Clock

__all__ = ["EdgeServices", "PERMISSION_MAP", "create_app", "permission_dependency"]

#: Permission names the catalogue and stock routers ask for, as the staff role table knows
#: them (``None``: any signed-in staff member).
PERMISSION_MAP: dict[str, str | None] = {
    "catalogue.view": None,
    "catalogue.edit": "catalogue.edit",
    "catalogue.import": "catalogue.edit",
    "stock.view": None,
    "stock.edit": "stock.adjust",
    "stock.approve": "stock.adjust",
}


def permission_dependency(name: str) -> Callable[..., Any]:
    """The FastAPI dependency guarding ``name`` (mapped through :data:`PERMISSION_MAP`; a name
    the role table does not know is granted to nobody)."""
    mapped = PERMISSION_MAP.get(name, name)
    return current_principal if mapped is None else require_permission(mapped)


@dataclass
class EdgeServices:
    """What the app serves. ``monitor`` carries the live hub; optional parts are left out of
    the API when ``None``."""

    clock: Clock
    staff_store: StaffStore
    alarm_engine: AlarmEngine
    monitor: StoreMonitor
    member_store: MemberStore | None = None
    catalogue: CatalogueStore | None = None
    stock: StockService | None = None
    status: Callable[[], dict[str, Any]] | None = None
    promotions: PromotionStore | None = None
    refunds: RefundService | None = None
    day_close: DayCloseService | None = None
    expenses: ExpenseStore | None = None
    reports: ReportStore | None = None


def create_app(settings: EdgeSettings, services: EdgeServices) -> FastAPI:
    docs = "/api/docs" if settings.development else None
    app = FastAPI(title=f"tillpi edge · {settings.store_id}", version=settings.software_version,
                  docs_url=docs, redoc_url=None, openapi_url="/api/openapi.json" if docs else None)
    app.state.settings = settings
    app.state.clock = services.clock
    app.state.staff_store = services.staff_store
    app.state.alarm_engine = services.alarm_engine
    app.state.monitor = services.monitor
    app.state.member_store = services.member_store
    app.state.catalogue = services.catalogue
    app.state.stock = services.stock
    app.state.promotions = services.promotions
    app.state.refunds = services.refunds
    app.state.day_close = services.day_close
    app.state.expenses = services.expenses
    app.state.reports = services.reports

    for r in staff_routers():
        app.include_router(r)
    app.include_router(alarms_router())
    app.include_router(console_router())
    app.mount("/console/static", static_files(), name="console-static")
    if services.member_store is not None:
        for r in member_routers():
            app.include_router(r)
    if services.catalogue is not None:
        for r in catalogue_routers(permission=permission_dependency):
            app.include_router(r)
    if services.stock is not None:
        for r in stock_routers(permission=permission_dependency):
            app.include_router(r)
    optional: list[tuple[object | None, Callable[[], list[Any]]]] = [
        (services.promotions, promotion_routers), (services.refunds, refund_routers),
        (services.day_close, dayclose_routers), (services.expenses, expense_routers),
        (services.reports, report_routers),
    ]
    for service, make_routers in optional:
        if service is not None:
            for r in make_routers():
                app.include_router(r)

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, Any]:
        out: dict[str, Any] = {"status": "ok", "store_id": settings.store_id, "version": settings.software_version}
        if services.status is not None:
            out.update(services.status())
        return out

    return app
