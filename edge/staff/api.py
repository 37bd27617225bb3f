"""JSON API of staff: sign-in and sessions, accounts, clocking, timesheets and the audit log.

The app factory (not here) puts the :class:`~edge.staff.store.StaffStore` on
``app.state.staff_store`` and includes :func:`routers`. Other routers protect themselves with
:func:`require_permission`::

    PiiViewer = Annotated[Principal, Depends(require_permission("members.view_pii"))]

A request authenticates with ``Authorization: Bearer <token>`` or the ``tillpi_session``
cookie that ``POST /api/auth/login`` sets.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Callable, Iterator

from fastapi import APIRouter, Cookie, Depends, Header, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from edge.staff.errors import (
    AccountLockedError,
    AuthenticationError,
    ClockingError,
    DuplicateStaffError,
    InvalidCredentialError,
    PermissionDeniedError,
    StaffError,
    StaffNotFoundError,
    UnknownPermissionError,
    UnknownRoleError,
)
from edge.staff.store import Principal, StaffStore
from edge.staff.timesheet import hours_text

__all__ = [
    "CurrentStaff",
    "SESSION_COOKIE",
    "StaffStoreDep",
    "current_principal",
    "get_staff_store",
    "http_error",
    "require_permission",
    "routers",
]

SESSION_COOKIE = "tillpi_session"


def get_staff_store(request: Request) -> StaffStore:
    store = getattr(request.app.state, "staff_store", None)
    if store is None:
        raise RuntimeError("app.state.staff_store is not set; the app factory must provide the StaffStore")
    return store


StaffStoreDep = Annotated[StaffStore, Depends(get_staff_store)]


def http_error(err: Exception) -> HTTPException:
    """The HTTP answer for a staff error (also used by other routers)."""
    if isinstance(err, AccountLockedError):
        until = err.locked_until.isoformat() if isinstance(err.locked_until, datetime) else None
        return HTTPException(status.HTTP_423_LOCKED, {"error": "locked", "locked_until": until})
    if isinstance(err, AuthenticationError):
        return HTTPException(
            status.HTTP_401_UNAUTHORIZED, {"error": "unauthenticated", "detail": str(err)},
            headers={"WWW-Authenticate": "Bearer"},
        )
    if isinstance(err, PermissionDeniedError):
        return HTTPException(status.HTTP_403_FORBIDDEN, {"error": "forbidden", "detail": str(err)})
    if isinstance(err, StaffNotFoundError):
        return HTTPException(status.HTTP_404_NOT_FOUND, {"error": "not_found", "detail": str(err)})
    if isinstance(err, (DuplicateStaffError, ClockingError)):
        return HTTPException(status.HTTP_409_CONFLICT, {"error": "conflict", "detail": str(err)})
    if isinstance(err, (InvalidCredentialError, UnknownRoleError, UnknownPermissionError)):
        return HTTPException(422, {"error": "invalid", "detail": str(err)})
    return HTTPException(status.HTTP_400_BAD_REQUEST, {"error": "bad_request", "detail": str(err)})


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except StaffError as err:
        raise http_error(err) from err


def _bearer(authorization: str | None, cookie: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return cookie or None


def current_principal(
    store: StaffStoreDep,
    authorization: Annotated[str | None, Header()] = None,
    tillpi_session: Annotated[str | None, Cookie()] = None,
) -> Principal:
    """The signed-in staff member (401 when there is none)."""
    token = _bearer(authorization, tillpi_session)
    if token is None:
        raise http_error(AuthenticationError("sign in first"))
    with _errors():
        return store.session_principal(token)


CurrentStaff = Annotated[Principal, Depends(current_principal)]


def require_permission(*permissions: str) -> Callable[..., Principal]:
    """A dependency: the signed-in staff member, 403 unless their role has every permission."""
    if not permissions:
        raise ValueError("require_permission needs at least one permission name")

    def dependency(principal: CurrentStaff) -> Principal:
        missing = [p for p in permissions if not principal.can(p)]
        if missing:
            raise http_error(PermissionDeniedError(f"{principal.id} lacks {', '.join(missing)}"))
        return principal

    dependency.__name__ = "require_" + "_".join(p.replace(".", "_") for p in permissions)
    return dependency


StaffManager = Annotated[Principal, Depends(require_permission("staff.manage"))]
AuditViewer = Annotated[Principal, Depends(require_permission("audit.view"))]


# -- bodies ------------------------------------------------------------------------------------
class LoginBody(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class NewStaffBody(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    role: str
    username: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    pin: str | None = None
    password: str | None = None


class RoleBody(BaseModel):
    role: str


class PinBody(BaseModel):
    pin: str


def _me(principal: Principal) -> dict[str, Any]:
    return {**principal.staff.as_json(), "permissions": sorted(principal.permissions)}


# -- routers -----------------------------------------------------------------------------------
def _auth_router() -> APIRouter:
    router = APIRouter(prefix="/api/auth", tags=["auth"])

    @router.post("/login")
    def login(body: LoginBody, store: StaffStoreDep, response: Response) -> dict[str, Any]:
        with _errors():
            session, principal = store.login(body.username, body.password)
        max_age = int((session.expires_at - store.now()).total_seconds())
        response.set_cookie(SESSION_COOKIE, session.token, max_age=max_age, httponly=True, samesite="strict")
        return {"token": session.token, "expires_at": session.expires_at.isoformat(), "staff": _me(principal)}

    @router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
    def logout(
        principal: CurrentStaff,
        store: StaffStoreDep,
        response: Response,
        authorization: Annotated[str | None, Header()] = None,
        tillpi_session: Annotated[str | None, Cookie()] = None,
    ) -> None:
        token = _bearer(authorization, tillpi_session)
        if token:
            store.logout(token)
        response.delete_cookie(SESSION_COOKIE)

    @router.get("/me")
    def me(principal: CurrentStaff, store: StaffStoreDep) -> dict[str, Any]:
        return {**_me(principal), "clocked_in": store.is_clocked_in(principal.id)}

    return router


def _staff_router() -> APIRouter:
    router = APIRouter(prefix="/api/staff", tags=["staff"])

    @router.get("")
    def list_staff(_: StaffManager, store: StaffStoreDep, include_inactive: bool = False) -> list[dict[str, Any]]:
        return [m.as_json() for m in store.list(include_inactive=include_inactive)]

    @router.post("", status_code=status.HTTP_201_CREATED)
    def create_staff(body: NewStaffBody, actor: StaffManager, store: StaffStoreDep) -> dict[str, Any]:
        with _errors():
            member = store.create(
                name=body.name, role=body.role, username=body.username, pin=body.pin, password=body.password, actor=actor
            )
        return member.as_json()

    @router.get("/roles")
    def roles(_: CurrentStaff, store: StaffStoreDep) -> dict[str, list[str]]:
        return store.role_table()

    @router.get("/{staff_id}")
    def get_staff(staff_id: str, actor: CurrentStaff, store: StaffStoreDep) -> dict[str, Any]:
        if staff_id != actor.id and not actor.can("staff.manage"):
            raise http_error(PermissionDeniedError("staff.manage needed to see another account"))
        with _errors():
            return store.get(staff_id).as_json()

    @router.put("/{staff_id}/role")
    def set_role(staff_id: str, body: RoleBody, actor: StaffManager, store: StaffStoreDep) -> dict[str, Any]:
        with _errors():
            return store.set_role(staff_id, body.role, actor=actor).as_json()

    @router.put("/{staff_id}/pin", status_code=status.HTTP_204_NO_CONTENT)
    def set_pin(staff_id: str, body: PinBody, actor: CurrentStaff, store: StaffStoreDep) -> None:
        with _errors():
            store.set_pin(staff_id, body.pin, actor=actor)

    @router.post("/{staff_id}/clock-in")
    def clock_in(staff_id: str, actor: CurrentStaff, store: StaffStoreDep) -> dict[str, Any]:
        with _errors():
            at = store.clock_in(staff_id, actor=actor)
        return {"staff_id": staff_id, "clocked_in_at": at.isoformat()}

    @router.post("/{staff_id}/clock-out")
    def clock_out(staff_id: str, actor: CurrentStaff, store: StaffStoreDep) -> dict[str, Any]:
        with _errors():
            at = store.clock_out(staff_id, actor=actor)
        return {"staff_id": staff_id, "clocked_out_at": at.isoformat()}

    @router.get("/{staff_id}/timesheet")
    def get_timesheet(
        staff_id: str,
        actor: CurrentStaff,
        store: StaffStoreDep,
        start: date | None = None,
        end: date | None = None,
    ) -> dict[str, Any]:
        if staff_id != actor.id and not actor.can("timesheet.view_all"):
            raise http_error(PermissionDeniedError("timesheet.view_all needed for another's timesheet"))
        today = store.local_today()
        end = end or today
        start = start or end - timedelta(days=end.weekday())
        if end < start or (end - start).days > 366:
            raise HTTPException(422, {"error": "invalid", "detail": "bad date range"})
        with _errors():
            sheet = store.timesheet(staff_id, start, end)
        return {
            "staff_id": staff_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "days": [{"date": d.isoformat(), "minutes": m, "hours": hours_text(m)} for d, m in sheet.days.items()],
            "weeks": [
                {"year": y, "week": w, "minutes": m, "hours": hours_text(m)} for (y, w), m in sorted(sheet.weeks.items())
            ],
            "total_minutes": sheet.total_minutes,
            "total_hours": hours_text(sheet.total_minutes),
            "open_shift": sheet.open_shift,
        }

    return router


def _audit_router() -> APIRouter:
    router = APIRouter(prefix="/api/audit", tags=["audit"])

    @router.get("")
    def query(
        _: AuditViewer,
        store: StaffStoreDep,
        actor: str | None = None,
        action: str | None = None,
        action_prefix: str | None = None,
        target: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        entries = store.audit_entries(
            actor=actor, action=action, action_prefix=action_prefix, target=target,
            since=since, until=until, before_id=before_id, limit=limit,
        )
        return [e.as_json() for e in entries]

    return router


def routers() -> list[APIRouter]:
    """The staff routers: ``/api/auth``, ``/api/staff``, ``/api/audit``."""
    return [_auth_router(), _staff_router(), _audit_router()]
