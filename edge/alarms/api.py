"""JSON API of alarms: open alarms, acknowledge, clear (resolve), silence, history with filters.

The app factory puts the :class:`~edge.alarms.engine.AlarmEngine` on ``app.state.alarm_engine``,
its clock on ``app.state.clock`` (and the staff store on ``app.state.staff_store``; every staff action is audited there).
Permissions: reading needs a signed-in staff member; acknowledging and clearing need
``alarms.ack``; silences need ``alarms.silence``.

    GET    /api/alarms                       open alarms, most severe first (?kiosk=&severity=)
    GET    /api/alarms/history               transitions, newest first (?kiosk=&key=&severity=
                                             &transition=&since=&until=&limit=)
    GET    /api/alarms/silences              active silences
    POST   /api/alarms/silences              {pattern, minutes, comment}
    DELETE /api/alarms/silences/{id}
    GET    /api/alarms/{id or key}
    POST   /api/alarms/{id}/ack              {comment, minutes?}
    POST   /api/alarms/{id}/resolve          {comment}
    POST   /api/alarms/{id}/silence          {minutes, comment, scope: alarm|device|kiosk}
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, Iterator, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from edge.alarms.engine import AlarmEngine
from edge.alarms.errors import AlarmError, AlarmNotFoundError, AlarmRequestError, AlarmStateError
from edge.alarms.model import STORE_SCOPE, Severity, Silence, Transition
from edge.monitor.core import alarm_json as alarm_view_json
from edge.staff.api import CurrentStaff, require_permission
from edge.staff.store import Principal

__all__ = ["AlarmEngineDep", "alarm_view_json", "get_alarm_engine", "router"]

MAX_MINUTES = 7 * 24 * 60


def get_alarm_engine(request: Request) -> AlarmEngine:
    engine = getattr(request.app.state, "alarm_engine", None)
    if engine is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the alarm engine is not available")
    return engine


AlarmEngineDep = Annotated[AlarmEngine, Depends(get_alarm_engine)]
Acker = Annotated[Principal, Depends(require_permission("alarms.ack"))]
Silencer = Annotated[Principal, Depends(require_permission("alarms.silence"))]


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except AlarmNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, {"error": "not_found", "detail": str(exc)}) from None
    except AlarmStateError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"error": "conflict", "detail": str(exc)}) from None
    except (AlarmRequestError, AlarmError) as exc:
        raise HTTPException(422, {"error": "invalid", "detail": str(exc)}) from None


def _now(request: Request) -> datetime:
    clock = getattr(request.app.state, "clock", None)
    if clock is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the app has no clock (app.state.clock)")
    now: datetime = clock.now()
    return now


def _silence_json(s: Silence) -> dict[str, Any]:
    return {"id": s.id, "pattern": s.pattern, "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(),
            "by": s.by, "comment": s.comment}


def _audit(request: Request, actor: Principal, action: str, target: str, detail: str = "") -> None:
    store = getattr(request.app.state, "staff_store", None)
    if store is not None:
        store.audit(actor=actor, action=action, target=target, detail=detail[:500])


class AckBody(BaseModel):
    comment: Annotated[str, Field(max_length=500)] = ""
    minutes: Annotated[float, Field(gt=0, le=MAX_MINUTES)] | None = None


class ResolveBody(BaseModel):
    comment: Annotated[str, Field(max_length=500)] = ""


class SilenceAlarmBody(BaseModel):
    minutes: Annotated[float, Field(gt=0, le=MAX_MINUTES)] = 60
    comment: Annotated[str, Field(max_length=500)] = ""
    scope: Literal["alarm", "device", "kiosk"] = "alarm"


class SilenceBody(BaseModel):
    pattern: Annotated[str, Field(min_length=1, max_length=200)]
    minutes: Annotated[float, Field(gt=0, le=MAX_MINUTES)] = 60
    comment: Annotated[str, Field(max_length=500)] = ""


def router() -> APIRouter:
    """The ``/api/alarms`` router."""
    r = APIRouter(prefix="/api/alarms", tags=["alarms"])

    @r.get("")
    def list_alarms(_: CurrentStaff, engine: AlarmEngineDep, kiosk: str | None = None,
                    severity: Severity | None = None) -> list[dict[str, Any]]:
        views = engine.open_alarms()
        if kiosk is not None:
            views = [v for v in views if (v.alarm.kiosk_id or STORE_SCOPE) == kiosk]
        if severity is not None:
            views = [v for v in views if v.alarm.effective_severity is severity]
        return [alarm_view_json(v) for v in views]

    @r.get("/history")
    def history(
        _: CurrentStaff,
        engine: AlarmEngineDep,
        kiosk: str | None = None,
        key: str | None = None,
        severity: Severity | None = None,
        transition: Transition | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=2000)] = 200,
        everything: Annotated[bool, Query(alias="all")] = False,
    ) -> list[dict[str, Any]]:
        """Newest first. Without ``transition`` or ``all``, the bookkeeping steps (pending,
        discarded) are left out."""
        quiet = {Transition.PENDING, Transition.DISCARDED} if transition is None and not everything else set()
        entries = engine.history(key=key)
        out: list[dict[str, Any]] = []
        for h in reversed(entries):
            scope, device, condition = (h.key.split("/", 2) + ["", ""])[:3]
            if kiosk is not None and scope != kiosk:
                continue
            if (transition is not None and h.transition is not transition) or h.transition in quiet:
                continue
            if since is not None and h.at < since:
                continue
            if until is not None and h.at >= until:
                continue
            rule = engine.settings.rule_for(device, condition)
            if severity is not None and rule.severity is not severity:
                continue
            en, zh = (rule.label_en, rule.label_zh)
            out.append({
                "alarm_id": h.alarm_id, "key": h.key, "kiosk_id": None if scope == STORE_SCOPE else scope,
                "device": device, "condition": condition, "severity": rule.severity.value,
                "transition": h.transition.value, "from_state": h.from_state.value if h.from_state else None,
                "to_state": h.to_state.value, "at": h.at.isoformat(), "who": h.who, "comment": h.comment,
                "label_en": en, "label_zh": zh,
            })
            if len(out) >= limit:
                break
        return out

    @r.get("/silences")
    def silences(_: CurrentStaff, engine: AlarmEngineDep) -> list[dict[str, Any]]:
        return [_silence_json(s) for s in engine.silences()]

    @r.post("/silences", status_code=status.HTTP_201_CREATED)
    def add_silence(body: SilenceBody, actor: Silencer, engine: AlarmEngineDep, request: Request) -> dict[str, Any]:
        with _errors():
            until = _now(request) + timedelta(minutes=body.minutes)
            s = engine.add_silence(body.pattern, until=until, by=actor.id, comment=body.comment)
        _audit(request, actor, "alarms.silence", f"alarm:{s.pattern}", body.comment)
        return _silence_json(s)

    @r.delete("/silences/{silence_id}")
    def end_silence(silence_id: str, actor: Silencer, engine: AlarmEngineDep, request: Request) -> dict[str, Any]:
        with _errors():
            s = engine.end_silence(silence_id, by=actor.id)
        _audit(request, actor, "alarms.unsilence", f"alarm:{s.pattern}")
        return _silence_json(s)

    @r.get("/{alarm_id:path}/history")
    def alarm_history(alarm_id: str, _: CurrentStaff, engine: AlarmEngineDep) -> list[dict[str, Any]]:
        return [{"transition": h.transition.value, "to_state": h.to_state.value, "at": h.at.isoformat(),
                 "who": h.who, "comment": h.comment} for h in engine.history(alarm_id)]

    @r.post("/{alarm_id}/ack")
    def acknowledge(alarm_id: str, body: AckBody, actor: Acker, engine: AlarmEngineDep,
                    request: Request) -> dict[str, Any]:
        with _errors():
            view = engine.acknowledge(alarm_id, by=actor.id, comment=body.comment,
                                      for_s=None if body.minutes is None else body.minutes * 60)
        _audit(request, actor, "alarms.ack", f"alarm:{view.alarm.key}", body.comment)
        return alarm_view_json(view)

    @r.post("/{alarm_id}/resolve")
    def resolve(alarm_id: str, body: ResolveBody, actor: Acker, engine: AlarmEngineDep,
                request: Request) -> dict[str, Any]:
        with _errors():
            key = engine.alarm(alarm_id).alarm.key
            engine.resolve(alarm_id, by=actor.id, comment=body.comment)
        _audit(request, actor, "alarms.resolve", f"alarm:{key}", body.comment)
        return {"key": key, "state": "cleared"}

    @r.post("/{alarm_id}/silence", status_code=status.HTTP_201_CREATED)
    def silence_alarm(alarm_id: str, body: SilenceAlarmBody, actor: Silencer, engine: AlarmEngineDep,
                      request: Request) -> dict[str, Any]:
        with _errors():
            a = engine.alarm(alarm_id).alarm
            scope = a.kiosk_id or STORE_SCOPE
            pattern = {"alarm": a.key, "device": f"{scope}/{a.device}/*", "kiosk": f"{scope}/*"}[body.scope]
            until = _now(request) + timedelta(minutes=body.minutes)
            s = engine.add_silence(pattern, until=until, by=actor.id, comment=body.comment)
        _audit(request, actor, "alarms.silence", f"alarm:{pattern}", body.comment)
        return _silence_json(s)

    @r.get("/{alarm_id:path}")
    def get_alarm(alarm_id: str, _: CurrentStaff, engine: AlarmEngineDep) -> dict[str, Any]:
        with _errors():
            return alarm_view_json(engine.alarm(alarm_id))

    return r
