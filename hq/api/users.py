"""HQ users: password login to a session token, and user administration (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from sqlalchemy import select

from hq.deps import Admin, Ctx, ReadSession, UserCaller, bearer_token
from hq.models import User
from hq.schemas import LoginIn, SessionOut, UserIn, UserOut
from hq.services import users as svc

router = APIRouter(tags=["users"])


@router.post("/login", response_model=SessionOut)
def login(body: LoginIn, ctx: Ctx) -> SessionOut:
    """Username and password (argon2) for a session token; send it as a bearer token."""
    with ctx.db.write() as s:
        token, expires, user = svc.login(s, ctx.passwords, ctx.secret, body.username, body.password,
                                         ctx.clock.now(), ttl_s=ctx.settings.session_ttl_s)
        return SessionOut(token=token, expires_at=expires, user=svc.user_out(s, user))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(ctx: Ctx, _: UserCaller, request: Request) -> None:
    with ctx.db.write() as s:
        svc.logout(s, ctx.secret, bearer_token(request) or "", ctx.clock.now())


@router.get("/users/me", response_model=UserOut)
def me(session: ReadSession, who: UserCaller) -> UserOut:
    user = session.get(User, who.user_id)
    return svc.user_out(session, user)  # type: ignore[arg-type]


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def create_user(body: UserIn, ctx: Ctx, _: Admin) -> UserOut:
    with ctx.db.write() as s:
        user = svc.create_user(s, ctx.passwords, username=body.username, password=body.password, role=body.role,
                               store_ids=body.store_ids, now=ctx.clock.now())
        return svc.user_out(s, user)


@router.get("/users", response_model=list[UserOut])
def list_users(session: ReadSession, _: Admin) -> list[UserOut]:
    return [svc.user_out(session, u) for u in session.execute(select(User).order_by(User.id)).scalars()]
