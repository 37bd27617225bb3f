"""FastAPI dependencies as ``Annotated`` aliases: context, sessions, who is calling.

A bearer token (``Authorization: Bearer ...``, or the dashboard's session cookie) is either an
edge's token (``tpe_``: acts for its one store) or a user's session (``tps_``: admin and
analyst see every store, a store manager only theirs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hq.db import Database
from hq.errors import AuthenticationError, ForbiddenError
from hq.security import EDGE_PREFIX, PasswordHashing
from hq.services import stores as store_svc
from hq.services import users as user_svc
from hq.settings import Settings
from retail.clock import Clock

__all__ = [
    "SESSION_COOKIE",
    "Admin",
    "Ctx",
    "CurrentPrincipal",
    "EdgeCaller",
    "HqContext",
    "Principal",
    "ReadSession",
    "UserCaller",
    "require_roles",
]

SESSION_COOKIE = "tillpi_hq_session"


@dataclass(frozen=True)
class HqContext:
    """What every request needs; built once by :func:`hq.app.create_app`. ``ingest_slots``
    admits ``settings.ingest_concurrency`` sync batches of this process at a time."""

    settings: Settings
    db: Database
    clock: Clock
    passwords: PasswordHashing
    ingest_slots: AbstractContextManager[object]

    @property
    def secret(self) -> str:
        return self.settings.secret_key.get_secret_value()


@dataclass(frozen=True)
class Principal:
    """Who is calling. ``store_ids`` None means every store."""

    kind: Literal["edge", "user"]
    role: str  # "edge", "admin", "analyst", "store_manager"
    name: str
    store_ids: frozenset[str] | None
    user_id: int | None = None
    store_id: str | None = None  # the edge's store

    def can_see(self, store_id: str) -> bool:
        return self.store_ids is None or store_id in self.store_ids

    def check_store(self, store_id: str) -> None:
        if not self.can_see(store_id):
            raise ForbiddenError(f"{self.name} may not see store {store_id!r}")


def get_ctx(request: Request) -> HqContext:
    return request.app.state.hq


Ctx = Annotated[HqContext, Depends(get_ctx)]


def get_session(ctx: Ctx) -> Iterator[Session]:
    with ctx.db.session() as s:
        yield s


ReadSession = Annotated[Session, Depends(get_session)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


def resolve_principal(ctx: HqContext, token: str | None) -> Principal:
    if not token:
        raise AuthenticationError("missing bearer token")
    now = ctx.clock.now()
    with ctx.db.session() as s:
        if token.startswith(EDGE_PREFIX):
            store = store_svc.authenticate_edge(s, ctx.secret, token, now)
            return Principal(kind="edge", role="edge", name=f"edge of {store.store_id}",
                             store_ids=frozenset({store.store_id}), store_id=store.store_id)
        user = user_svc.authenticate_session(s, ctx.secret, token, now)
        stores = None if user.role in ("admin", "analyst") else frozenset(user_svc.user_store_ids(s, user))
        return Principal(kind="user", role=user.role, name=user.username, store_ids=stores, user_id=user.id)


def get_principal(ctx: Ctx, request: Request) -> Principal:
    return resolve_principal(ctx, bearer_token(request))


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def get_edge(p: CurrentPrincipal) -> Principal:
    if p.kind != "edge":
        raise ForbiddenError("this endpoint is for store edges")
    return p


def get_user(p: CurrentPrincipal) -> Principal:
    if p.kind != "user":
        raise ForbiddenError("this endpoint is for HQ users")
    return p


EdgeCaller = Annotated[Principal, Depends(get_edge)]
UserCaller = Annotated[Principal, Depends(get_user)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    def check(p: CurrentPrincipal) -> Principal:
        if p.role not in roles:
            raise ForbiddenError(f"needs role {' or '.join(roles)}")
        return p

    return check


Admin = Annotated[Principal, Depends(require_roles("admin"))]
