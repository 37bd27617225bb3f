"""The HQ composition root: ``create_app(settings)`` builds the FastAPI application.

The database is opened (and migrated to head) when the app starts, and closed when it stops;
nothing is built at import time. ``served_app()`` is what ``tillpi hq run`` serves in each
worker process: the same app, in a process tuned for ingest (:func:`tune_gc`).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError

from hq import dashboard
from hq.api import api_router
from hq.db import Database
from hq.deps import HqContext
from hq.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    HqError,
    InvalidRequestError,
    NotFoundError,
)
from hq.security import PasswordHashing
from hq.settings import Settings
from retail.clock import Clock, SystemClock

__all__ = ["GC_YOUNG_THRESHOLD", "create_app", "served_app", "tune_gc"]

log = logging.getLogger(__name__)

# A sync batch keeps some 60 objects per sale alive (parsed JSON, checked models, rows) until it
# is answered. At CPython's default (a young collection every 700 allocations, about every dozen
# sales) the collector keeps re-walking and promoting the live batch: in the ingest benchmark a
# worker's CPU per sale fell from 263 to 145 us at 50,000. Cyclic garbage is still collected.
GC_YOUNG_THRESHOLD = 50_000

_STATUS: list[tuple[type[HqError], int]] = [
    (AuthenticationError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidRequestError, 400),
]


def tune_gc() -> None:
    """Run the garbage collector's youngest generation less often (:data:`GC_YOUNG_THRESHOLD`).
    Process-wide, so only the server's entry point calls it, never :func:`create_app`."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def served_app() -> FastAPI:
    """The app one server worker process serves (uvicorn's factory): settings from the
    ``TILLPI_HQ_*`` environment, the process tuned by :func:`tune_gc`."""
    tune_gc()
    return create_app(Settings())


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, database: Database | None = None,
               passwords: PasswordHashing | None = None) -> FastAPI:
    """Build the HQ app. ``database`` may be handed in (then the caller closes it); otherwise
    one is opened from ``settings`` at start-up and closed at shutdown."""
    settings = settings or Settings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or Database(settings)
        try:
            if settings.migrate_on_start:
                db.migrate()
            app.state.hq = HqContext(settings=settings, db=db, clock=clock, passwords=passwords or PasswordHashing(),
                                     ingest_slots=threading.BoundedSemaphore(settings.ingest_concurrency))
            log.info("HQ started on %s (%s)", db.dialect, settings.environment)
            yield
        finally:
            if database is None:
                db.close()

    app = FastAPI(
        title="tillpi HQ",
        version="1",
        summary="Head office: store sync, summaries, master catalogue, transfers.",
        lifespan=lifespan,
    )
    app.include_router(api_router())
    app.include_router(dashboard.router)

    @app.exception_handler(HqError)
    async def _hq_error(_: Request, exc: HqError) -> JSONResponse:
        code = next((c for cls, c in _STATUS if isinstance(exc, cls)), 500)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        if code == 500:
            log.error("unhandled HQ error: %s", exc)
        return JSONResponse({"detail": str(exc)}, status_code=code, headers=headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error: %s", exc.orig)
        return JSONResponse({"detail": "the request clashes with stored data"}, status_code=409)

    @app.exception_handler(OperationalError)
    async def _db_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
