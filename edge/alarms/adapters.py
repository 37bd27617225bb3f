"""Turning what the edge hears into :class:`~edge.alarms.model.Observation` s. Pure: plain dicts
and values in, observations out; no kiosk code, no bus, no clock.

* :func:`observations_from_health` - a kiosk health snapshot (the bus ``Health`` model dumped to
  a dict, or the kiosk collector's own ``to_dict()``): one observation per device condition and
  machine reading. Conditions that are *not* reported get an all-clear observation, so a printer
  going from ``paper_low`` to ``paper_out`` clears the first and raises the second.
* :func:`observation_from_presence` - the retained kiosk state (``online`` / ``lost``).
* :class:`HealthWatchdog` - "no health for three intervals" as observations.
* :func:`observations_from_event` - a kiosk ``DeviceEvent`` dict (drawer, help, age check,
  bagging).
* :func:`observation_from_ledger_alarm` - the ingest/ledger's alarm events (dead letter,
  sequence gap, sale id reused).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edge.alarms.errors import AlarmRequestError
from edge.alarms.model import Category, Observation
from edge.alarms.settings import AlarmSettings

__all__ = [
    "EVENT_MAP",
    "HealthWatchdog",
    "observation_from_ledger_alarm",
    "observation_from_presence",
    "observations_from_event",
    "observations_from_health",
]

log = logging.getLogger(__name__)

_GENERIC_STATUSES = ("fault", "degraded", "absent")
_MACHINE_DEVICES = ("kiosk", "cpu", "disk", "clock", "outbox", "ingest", "ledger", "bagging", "assist")


def _at(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _device_conditions(settings: AlarmSettings, device: str) -> set[str]:
    """Every condition a device could raise: its own rules and the generic device rules."""
    names: set[str] = set()
    for name, rule in settings.rules.items():
        dev, _, cond = name.rpartition("/")
        if dev == device:
            names.add(cond)
        elif not dev and rule.category is Category.DEVICE and device not in _MACHINE_DEVICES:
            names.add(cond)
    return names


def observations_from_health(
    snapshot: Mapping[str, Any], *, settings: AlarmSettings | None = None, kiosk_id: str | None = None
) -> list[Observation]:
    """The observations in one health snapshot. ``kiosk_id`` defaults to the snapshot's own."""
    if not isinstance(snapshot, Mapping):
        raise AlarmRequestError("a health snapshot must be a mapping")
    settings = settings or AlarmSettings()
    kiosk = kiosk_id or snapshot.get("kiosk_id")
    if not isinstance(kiosk, str) or not kiosk or "/" in kiosk:
        raise AlarmRequestError(f"health snapshot without a valid kiosk id: {kiosk!r}")
    at = _at(snapshot.get("at")) or _at(snapshot.get("taken_at"))
    out: list[Observation] = [Observation(kiosk, "kiosk", "health_missing", False, at=at)]

    def add(device: str, condition: str, active: bool, value: float | None = None, detail: str = "") -> None:
        out.append(Observation(kiosk, device, condition, active, value, at, detail))

    def numeric(device: str, condition: str, value: float | None, detail: str = "") -> None:
        if value is None:
            return
        rule = settings.rule_for(device, condition)
        add(device, condition, rule.is_active(False, value, False), value, detail)

    # devices
    for entry in snapshot.get("devices") or ():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("device"), str) or not entry.get("device"):
            log.warning("health snapshot of %s has a malformed device entry: %r", kiosk, entry)
            continue
        device = str(entry["device"]).replace("/", "_")
        status = str(entry.get("status") or "ok")
        code = str(entry.get("code") or "")
        detail = str(entry.get("detail") or "")
        active_condition: str | None = None
        if status != "ok":
            if code and settings.find_rule(device, code) is not None:
                active_condition = code
            elif status in _GENERIC_STATUSES:
                active_condition = status
                detail = f"{code}: {detail}" if code and detail else (code or detail)
            else:
                log.warning("health snapshot of %s: unknown status %r for %s", kiosk, status, device)
        for condition in sorted(_device_conditions(settings, device) | ({active_condition} if active_condition else set())):
            is_active = condition == active_condition
            add(device, condition, is_active, detail=detail if is_active else "")

    # the machine
    numeric("cpu", "hot", _number(snapshot.get("cpu_temp_c")))
    throttled = snapshot.get("throttled")
    throttling = snapshot.get("throttling")
    if isinstance(throttled, bool):
        add("cpu", "throttled", throttled)
    elif isinstance(throttling, Mapping):
        now = [str(x) for x in throttling.get("now") or ()]
        add("cpu", "throttled", bool(now), detail=", ".join(now))

    disk_pct = _number(snapshot.get("disk_free_pct"))
    disk = snapshot.get("disk")
    if disk_pct is None and isinstance(disk, Mapping):
        total, free = _number(disk.get("total_bytes")), _number(disk.get("free_bytes"))
        if total and free is not None:
            disk_pct = round(100.0 * free / total, 1)
    numeric("disk", "low", disk_pct)
    numeric("disk", "low_mb", _number(snapshot.get("disk_free_mb")))

    synced = snapshot.get("clock_synced")
    if isinstance(synced, bool):
        add("clock", "unsynced", not synced)
    elif snapshot.get("clock_sync") in ("synced", "unsynced"):
        add("clock", "unsynced", snapshot.get("clock_sync") == "unsynced")

    if "outbox_pending" in snapshot or "oldest_pending_age_s" in snapshot:
        pending = _number(snapshot.get("outbox_pending")) or 0.0
        age = _number(snapshot.get("oldest_pending_age_s"))
        value = 0.0 if pending == 0 or age is None else age
        numeric("outbox", "backlog", value, f"{int(pending)} sale(s) waiting" if pending else "")
    return out


def observation_from_presence(kiosk_id: str, status: str, *, at: datetime | None = None, detail: str = "") -> Observation:
    """The retained kiosk state: ``lost`` (its will, or ``offline``) raises ``kiosk/offline``,
    ``online`` clears it."""
    if status not in ("online", "lost", "offline"):
        raise AlarmRequestError(f"unknown presence status {status!r}")
    return Observation(kiosk_id, "kiosk", "offline", status != "online", at=at, detail=detail)


@dataclass(frozen=True, slots=True)
class _Seen:
    at: datetime
    interval_s: float


class HealthWatchdog:
    """Notices kiosks whose health snapshots stopped: after ``missed_intervals`` intervals
    without one, :meth:`check` returns an active ``kiosk/health_missing`` observation for it
    (every time, until a snapshot arrives; the engine keeps one alarm). Snapshots themselves
    carry the all-clear (see :func:`observations_from_health`)."""

    def __init__(self, missed_intervals: int = 3) -> None:
        if missed_intervals < 1:
            raise AlarmRequestError("missed_intervals must be >= 1")
        self.missed_intervals = missed_intervals
        self._seen: dict[str, _Seen] = {}

    def seen(self, kiosk_id: str, at: datetime, interval_s: float) -> None:
        """A snapshot of ``kiosk_id`` arrived at ``at`` (edge time) announcing ``interval_s``."""
        if interval_s <= 0:
            raise AlarmRequestError("interval_s must be positive")
        self._seen[kiosk_id] = _Seen(at, float(interval_s))

    def forget(self, kiosk_id: str) -> None:
        self._seen.pop(kiosk_id, None)

    def check(self, now: datetime) -> list[Observation]:
        out = []
        for kiosk, s in sorted(self._seen.items()):
            silent = (now - s.at).total_seconds()
            if silent >= self.missed_intervals * s.interval_s:
                out.append(Observation(kiosk, "kiosk", "health_missing", True, value=silent, at=now,
                                       detail=f"no health for {silent:.0f} s"))
        return out


# kind -> (device or None for the event's own device, condition, active)
EVENT_MAP: Mapping[str, tuple[str | None, str, bool]] = {
    "opened_without_sale": (None, "opened_without_sale", True),
    "left_open": (None, "left_open", True),
    "closed": (None, "left_open", False),
    "not_opened": (None, "did_not_open", True),
    "did_not_open": (None, "did_not_open", True),
    "help_requested": ("assist", "help", True),
    "help_cancelled": ("assist", "help", False),
    "help_answered": ("assist", "help", False),
    "age_check_requested": ("assist", "age_check", True),
    "age_check_approved": ("assist", "age_check", False),
    "age_check_declined": ("assist", "age_check", False),
    "age_check_cancelled": ("assist", "age_check", False),
    "bagging_mismatch": ("bagging", "mismatch", True),
    "bagging_resolved": ("bagging", "mismatch", False),
    "bagging_ok": ("bagging", "mismatch", False),
}


def observations_from_event(event: Mapping[str, Any]) -> list[Observation]:
    """The observation in a kiosk ``DeviceEvent`` dict (``kiosk_id``, ``device``, ``kind``,
    ``detail``, ``at``); ``[]`` for routine events (``opened``) and kinds nobody maps."""
    kiosk, device, kind = event.get("kiosk_id"), event.get("device"), event.get("kind")
    if not isinstance(kiosk, str) or not kiosk or not isinstance(kind, str) or not isinstance(device, str):
        raise AlarmRequestError(f"malformed device event: {dict(event)!r}")
    mapped = EVENT_MAP.get(kind)
    if mapped is None:
        log.debug("event %s from %s/%s raises no alarm", kind, kiosk, device)
        return []
    dev, condition, active = mapped
    return [Observation(kiosk, (dev or device).replace("/", "_"), condition, active,
                        at=_at(event.get("at")), detail=str(event.get("detail") or ""))]


def _kiosk_of_topic(topic: str) -> str | None:
    parts = topic.split("/")
    if len(parts) >= 4 and parts[2] == "kiosk" and parts[3] and "+" not in parts[3] and "#" not in parts[3]:
        return parts[3]
    return None


def observation_from_ledger_alarm(kind: str, key: str, detail: str = "", at: datetime | None = None) -> Observation | None:
    """An alarm event of the edge ingest/ledger (``kind``, ``key``, ``detail``) as an observation:
    ``dead_letter`` (key: the topic), ``sale_id_reused`` and ``sequence_reused`` (key:
    ``<kiosk>/<id>``), ``sequence_gap`` / ``sequence_gap_cleared`` (key: the kiosk). ``None``
    for kinds it does not know."""
    if kind == "dead_letter":
        return Observation(_kiosk_of_topic(key), "ingest", "dead_letter", True, at=at, detail=f"{key}: {detail}"[:500])
    if kind in ("sale_id_reused", "sequence_reused"):
        kiosk = key.split("/", 1)[0] or None
        return Observation(kiosk, "ledger", kind, True, at=at, detail=detail[:500])
    if kind in ("sequence_gap", "sequence_gap_cleared"):
        return Observation(key or None, "ledger", "sequence_gap", kind == "sequence_gap", at=at, detail=detail[:500])
    log.debug("ledger alarm kind %s is not mapped", kind)
    return None
