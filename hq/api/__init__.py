"""HQ's HTTP API, one router per resource, all under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from hq.api import catalogue, stores, summaries, sync, transfers, users

__all__ = ["api_router"]


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    for module in (stores, sync, summaries, catalogue, users, transfers):
        router.include_router(module.router)
    return router
