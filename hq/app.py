"""The HQ composition root: ``create_app(settings)`` builds the FastAPI application.

The database is opened (and migrated to head) when the app starts, and closed when it stops;
nothing is built at import time.
"""

from __future__ import annotations

import logging
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

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[HqError], int]] = [
    (AuthenticationError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidRequestError, 400),
]


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
            app.state.hq = HqContext(settings=settings, db=db, clock=clock, passwords=passwords or PasswordHashing())
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
