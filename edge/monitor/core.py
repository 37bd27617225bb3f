"""The store monitor: what kiosks say about themselves becomes presence, alarms, assistance
requests and the live console; alarms go back out as retained topics and kiosk lights.

No MQTT here (the adapter in :mod:`edge.monitor.mqtt` feeds :meth:`StoreMonitor.handle` and
publishes through the :class:`~edge.monitor.ports.BusPublisher` port); time comes from the
injected clock. Inputs, by topic kind:

* ``state`` (``KioskState``) -> :class:`~edge.presence.PresenceTracker` (session order) ->
  ``kiosk/offline`` observation on a change;
* ``health`` (``Health``) -> last seen, :class:`~edge.alarms.HealthWatchdog`, device
  observations, the Devices board;
* ``event`` (``DeviceEvent``) -> assistance requests (``device="assist"``, see
  :mod:`edge.monitor.assistance`) or device observations (drawer, bagging);
* ``alarm`` (our own retained topics coming back) -> a retained alarm whose key is no longer
  open is cleared (left over from before a restart).

Outputs, from :meth:`flush` (call it after handling messages and after :meth:`tick`; cheap
when nothing changed): console events on the :class:`~edge.monitor.hub.LiveHub`, retained
``tillpi/<store>/alarm/<key>`` (:class:`~edge.monitor.commands.AlarmMessage`, empty when
cleared), and ``set_light`` commands to kiosks whose light should change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from broker.contract import (
    ContractError,
    DeviceEvent,
    Health,
    KioskState,
    TopicError,
    alarm_topic,
    decode,
    kiosk_topic,
    parse_topic,
)
from edge.alarms import (
    AlarmEngine,
    AlarmSettings,
    AlarmState,
    AlarmView,
    Category,
    HealthWatchdog,
    Observation,
    Rule,
    Severity,
    observation_from_ledger_alarm,
    observation_from_presence,
    observations_from_event,
    observations_from_health,
)
from edge.errors import EdgeError
from edge.monitor.assistance import CLOSING_KINDS, OPENING_KINDS, AssistanceBoard, AssistanceRequest
from edge.monitor.commands import AlarmMessage, LightName, StaffCommand, approve_command, encode_model, light_command
from edge.monitor.hub import LiveHub
from edge.monitor.ports import BusPublisher, CursorStore
from edge.presence import PresenceChange, PresenceStatus, PresenceTracker
from retail.clock import Clock

__all__ = ["ApprovalError", "LedgerAlarmSource", "MonitorError", "MonitorRequestError", "StoreMonitor", "alarm_json", "light_for",
           "monitor_settings"]

log = logging.getLogger(__name__)

LEDGER_CURSOR = "ledger_alarm_events"
ASSIST_CONDITIONS = {"help": "help", "age_restricted": "age_check"}  # anything else: "intervention"


class MonitorError(EdgeError):
    """Root of the monitor's errors."""


class MonitorRequestError(MonitorError, ValueError):
    """A staff request the monitor cannot carry out as asked."""


class ApprovalError(MonitorRequestError):
    """A remote approval names no open request, or the request cannot be decided remotely."""


class LedgerAlarmSource(Protocol):
    """What the monitor reads of the ledger: its alarm events in order (``kind``, ``key``,
    ``detail``, ``at``)."""

    def alarm_events(self, kind: str | None = None) -> Sequence[Any]: ...


def monitor_settings(base: AlarmSettings | None = None) -> AlarmSettings:
    """``base`` plus the rule for attendant interventions other than help and age checks."""
    settings = base or AlarmSettings()
    if "assist/intervention" not in settings.rules:
        settings = settings.with_rule("assist/intervention", Rule(
            Severity.MAJOR, "Attendant needed at the kiosk", "收银机需要店员处理",
            category=Category.ASSISTANCE, escalate_after_s=60))
    return settings


def alarm_json(view: AlarmView) -> dict[str, Any]:
    a = view.alarm

    def ts(v: datetime | None) -> str | None:
        return v.isoformat() if v else None

    return {
        "id": a.id, "key": a.key, "kiosk_id": a.kiosk_id, "device": a.device, "condition": a.condition,
        "severity": a.effective_severity.value, "base_severity": a.severity.value, "category": a.category.value,
        "state": a.state.value, "first_seen_at": ts(a.first_seen_at), "raised_at": ts(a.raised_at),
        "updated_at": ts(a.updated_at), "occurrences": a.occurrences, "value": a.value, "detail": a.detail,
        "acked_by": a.acked_by, "ack_comment": a.ack_comment, "ack_until": ts(a.ack_until),
        "escalation_level": a.escalation_level, "flapping": a.flapping, "revision": a.revision,
        "label_en": view.label_en, "label_zh": view.label_zh, "stale": view.stale, "suppressed": view.suppressed,
    }


def light_for(views: Iterable[AlarmView]) -> LightName:
    """The light a kiosk should show for its open alarms: ``alarm`` for an unacknowledged
    major or critical device or sales-safety alarm, else ``assistance`` while a shopper waits,
    else ``idle``. Pending and stale alarms do not count."""
    raised = [v for v in views if v.alarm.state.is_raised and not v.stale]
    if any(v.alarm.state is AlarmState.ACTIVE and v.alarm.category in (Category.DEVICE, Category.SALES_SAFETY)
           and v.alarm.effective_severity.rank >= Severity.MAJOR.rank for v in raised):
        return "alarm"
    if any(v.alarm.category is Category.ASSISTANCE for v in raised):
        return "assistance"
    return "idle"


@dataclass(slots=True)
class _KioskHealth:
    at: datetime
    received_at: datetime
    interval_s: int
    devices: list[dict[str, str]]
    outbox_pending: int
    oldest_pending_age_s: int | None
    cpu_temp_c: float | None
    clock_synced: bool


class StoreMonitor:
    """See the module docstring. Thread-safe: one lock around the monitor's own state; the
    alarm engine has its own."""

    def __init__(
        self,
        store_id: str,
        engine: AlarmEngine,
        *,
        clock: Clock,
        hub: LiveHub | None = None,
        publisher: BusPublisher | None = None,
        ledger: LedgerAlarmSource | None = None,
        cursor: CursorStore | None = None,
        watchdog: HealthWatchdog | None = None,
        ledger_poll_s: float = 5.0,
    ) -> None:
        self.store_id = store_id
        self.engine = engine
        self._clock = clock
        self.hub = hub or LiveHub()
        self.publisher = publisher
        self._ledger = ledger
        self._cursor = cursor
        self.watchdog = watchdog or HealthWatchdog(engine.settings.health_missed_intervals)
        self.presence = PresenceTracker()
        self.assistance = AssistanceBoard()
        self._decisions: dict[tuple[str, str], dict[str, Any]] = {}
        self._health: dict[str, _KioskHealth] = {}
        self._lock = threading.RLock()
        self._dirty = threading.Event()
        self._dirty.set()  # publish the first state
        self._sent_alarms: dict[str, tuple[int, bool, str | None]] = {}
        self._retained: set[str] = set()
        self._lights: dict[str, LightName] = {}
        self._ledger_poll_s = ledger_poll_s
        self._next_ledger_poll = 0.0
        self.on_dirty: Callable[[], None] | None = None
        self.invalid_messages = 0
        self.handled = 0

    # -- change signalling --------------------------------------------------------------------
    def poke(self) -> None:
        """Something changed (an alarm, a silence): :meth:`flush` has work. Cheap; any thread."""
        self._dirty.set()
        if self.on_dirty is not None:
            self.on_dirty()

    @property
    def dirty(self) -> bool:
        return self._dirty.is_set()

    # -- inbound ------------------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes) -> None:
        """One message from the bus (never raises for a bad message: logs and counts it)."""
        try:
            ref = parse_topic(topic)
        except TopicError:
            self.invalid_messages += 1
            log.warning("monitor: ignored message on unknown topic %r", topic)
            return
        if ref.store_id != self.store_id:
            return
        self.handled += 1
        try:
            if ref.kind == "alarm":
                self._on_retained_alarm(topic, payload)
            elif ref.kiosk_id is None:
                return
            elif ref.kind == "state":
                self._on_state(ref.kiosk_id, payload)
            elif ref.kind == "health":
                self._on_health(ref.kiosk_id, payload)
            elif ref.kind == "event":
                self._on_event(ref.kiosk_id, payload)
        except ContractError as exc:
            self.invalid_messages += 1
            log.warning("monitor: ignored invalid %s from %s: %s", ref.kind, ref.kiosk_id, exc)

    def _on_state(self, kiosk: str, payload: bytes) -> None:
        if not payload:  # the retained state was deleted: the kiosk was decommissioned
            self.presence.forget(kiosk)
            self.watchdog.forget(kiosk)
            self._kiosk_changed(kiosk)
            return
        state: KioskState = decode("state", payload)
        if state.kiosk_id != kiosk:
            raise ContractError("invalid", f"state of {state.kiosk_id} on {kiosk}'s topic")
        now = self._clock.now()
        change = self.presence.apply(kiosk, state.status, state.session, at=now, software_version=state.software_version)
        if change is not None:
            self._presence_changed(change)
        self._kiosk_changed(kiosk)

    def _presence_changed(self, change: PresenceChange) -> None:
        online = change.after is PresenceStatus.ONLINE
        detail = "" if online else f"session {change.session} lost"
        self.engine.observe(observation_from_presence(change.kiosk_id, "online" if online else "lost",
                                                      at=change.at, detail=detail))
        if online:
            with self._lock:
                self._lights.pop(change.kiosk_id, None)  # a reconnected kiosk gets its light again
            self._dirty.set()
        else:
            self.watchdog.forget(change.kiosk_id)  # offline already says it; no second alarm

    def _on_health(self, kiosk: str, payload: bytes) -> None:
        if not payload:  # expired or deleted retained snapshot
            return
        health: Health = decode("health", payload)
        if health.kiosk_id != kiosk:
            raise ContractError("invalid", f"health of {health.kiosk_id} on {kiosk}'s topic")
        now = self._clock.now()
        self.presence.seen(kiosk, now)
        self.watchdog.seen(kiosk, now, health.interval_s)
        data = health.model_dump(mode="json", by_alias=True)
        self.engine.observe_many(observations_from_health(data, settings=self.engine.settings, kiosk_id=kiosk))
        with self._lock:
            self._health[kiosk] = _KioskHealth(
                health.at, now, health.interval_s,
                [{"device": d.device, "status": d.status, "code": d.code, "detail": d.detail} for d in health.devices],
                health.outbox_pending, health.oldest_pending_age_s, health.cpu_temp_c, health.clock_synced)
        self._kiosk_changed(kiosk)

    def _on_event(self, kiosk: str, payload: bytes) -> None:
        event: DeviceEvent = decode("event", payload)
        if event.kiosk_id != kiosk:
            raise ContractError("invalid", f"event of {event.kiosk_id} on {kiosk}'s topic")
        now = self._clock.now()
        self.presence.seen(kiosk, now)
        if event.kind in OPENING_KINDS or event.kind in CLOSING_KINDS:
            with self._lock:
                if event.kind in OPENING_KINDS:
                    req = self.assistance.open(kiosk, event.kind, event.detail, now, event.event_id)
                    log.info("assistance at %s: %s", kiosk, req.summary_en())
                else:
                    for gone in self.assistance.close(kiosk, event.kind, event.detail):
                        self._decisions.pop((kiosk, gone.request_id or ""), None)
                observations = self._assist_observations(kiosk, event.at)
            self.engine.observe_many(observations)
            self._assistance_changed()
        else:
            self.engine.observe_many(observations_from_event(event.model_dump(mode="json", by_alias=True)))
        self._kiosk_changed(kiosk)

    def _assist_observations(self, kiosk: str, at: datetime) -> list[Observation]:
        by_condition: dict[str, list[AssistanceRequest]] = {"help": [], "age_check": [], "intervention": []}
        for req in self.assistance.all():
            if req.kiosk_id == kiosk:
                by_condition[ASSIST_CONDITIONS.get(req.reason, "intervention")].append(req)
        return [Observation(kiosk, "assist", cond, bool(reqs), at=at,
                            detail="; ".join(r.summary_en() for r in reqs)[:500])
                for cond, reqs in by_condition.items()]

    def _on_retained_alarm(self, topic: str, payload: bytes) -> None:
        if not payload:
            return
        with self._lock:
            known = topic in self._retained
        if not known and self.publisher is not None:
            # a retained alarm from before a restart whose alarm is no longer open
            try:
                key = topic.split("/alarm/", 1)[1]
                self.engine.alarm(key)
            except Exception:  # noqa: BLE001 - not open (or unreadable): clear the topic
                self.publisher.publish(topic, b"", qos=1, retain=True)
                log.info("cleared leftover retained alarm %s", topic)
                return
            self._dirty.set()

    # -- time -----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Time-based work: missing health, ledger alarm events, the engine's delays."""
        now = self._clock.now()
        missing = self.watchdog.check(now)
        if missing:
            online = [o for o in missing
                      if (p := self.presence.get(o.kiosk_id or "")) is None or p.status is not PresenceStatus.OFFLINE]
            if online:
                self.engine.observe_many(online)
        if self._ledger is not None and self._clock.monotonic() >= self._next_ledger_poll:
            self._next_ledger_poll = self._clock.monotonic() + self._ledger_poll_s
            self.poll_ledger()
        self.engine.tick()

    def poll_ledger(self) -> int:
        """Feed ledger alarm events not handled before (the cursor survives restarts)."""
        if self._ledger is None:
            return 0
        done = self._cursor.get(LEDGER_CURSOR) if self._cursor is not None else getattr(self, "_ledger_done", 0)
        events = list(self._ledger.alarm_events())
        fresh = events[done:]
        if not fresh:
            return 0
        observations = []
        for ev in fresh:
            at = None
            try:
                at = datetime.fromisoformat(str(ev.at))
            except ValueError:
                pass
            obs = observation_from_ledger_alarm(str(ev.kind), str(ev.key), str(ev.detail), at)
            if obs is not None:
                observations.append(obs)
        if observations:
            self.engine.observe_many(observations)
        if self._cursor is not None:
            self._cursor.set(LEDGER_CURSOR, len(events))
        else:
            self._ledger_done = len(events)
        return len(fresh)

    # -- staff actions ------------------------------------------------------------------------
    def approve(self, kiosk_id: str, request_id: str, *, staff_id: str, approve: bool = True,
                why: str = "") -> StaffCommand:
        """Send the kiosk a remote decision on its attendant request ``request_id``. The caller
        has checked the staff member's permission (see :attr:`AssistanceRequest.permission`)."""
        with self._lock:
            req = self.assistance.get(kiosk_id, request_id)
            if req is None:
                raise ApprovalError(f"no open request {request_id!r} at {kiosk_id}")
            if req.permission is None:
                raise ApprovalError(f"a {req.reason} request is decided at the kiosk, not remotely")
        if self.publisher is None:
            raise ApprovalError("the edge is not connected to the store bus")
        now = self._clock.now()
        cmd = approve_command(kiosk_id, request_id, staff_id, approve=approve, why=why, now=now)
        self.publisher.publish(kiosk_topic(self.store_id, kiosk_id, "cmd"), encode_model(cmd), qos=1)
        with self._lock:
            self._decisions[(kiosk_id, request_id)] = {"by": staff_id, "approve": approve, "at": now.isoformat()}
        log.info("remote %s of %s at %s by %s", "approval" if approve else "refusal", request_id, kiosk_id, staff_id)
        self._assistance_changed()
        return cmd

    def request(self, kiosk_id: str, request_id: str) -> AssistanceRequest | None:
        with self._lock:
            return self.assistance.get(kiosk_id, request_id)

    # -- views ----------------------------------------------------------------------------------
    def kiosk_json(self, kiosk: str) -> dict[str, Any]:
        p = self.presence.get(kiosk)
        with self._lock:
            h = self._health.get(kiosk)
        out: dict[str, Any] = p.as_json() if p else {"kiosk_id": kiosk, "status": "unknown", "session": 0,
                                                       "since": None, "last_seen": None, "software_version": ""}
        out.update({
            "devices": list(h.devices) if h else [],
            "outbox_pending": h.outbox_pending if h else None,
            "oldest_pending_age_s": h.oldest_pending_age_s if h else None,
            "health_at": h.received_at.isoformat() if h else None,
            "interval_s": h.interval_s if h else None,
            "cpu_temp_c": h.cpu_temp_c if h else None,
            "clock_synced": h.clock_synced if h else None,
        })
        return out

    def kiosks_json(self) -> list[dict[str, Any]]:
        with self._lock:
            ids = set(self._health)
        ids.update(p.kiosk_id for p in self.presence.all())
        return [self.kiosk_json(k) for k in sorted(ids)]

    def assistance_json(self) -> list[dict[str, Any]]:
        with self._lock:
            out = []
            for req in self.assistance.all():
                item = req.as_json()
                item["decision"] = self._decisions.get((req.kiosk_id, req.request_id or ""))
                out.append(item)
            return out

    def alarms_json(self) -> list[dict[str, Any]]:
        return [alarm_json(v) for v in self.engine.open_alarms()]

    def snapshot(self) -> dict[str, Any]:
        return {"type": "snapshot", "alarms": self.alarms_json(), "kiosks": self.kiosks_json(),
                "assistance": self.assistance_json(), "at": self._clock.now().isoformat()}

    def _kiosk_changed(self, kiosk: str) -> None:
        self.hub.publish({"type": "kiosk", "kiosk": self.kiosk_json(kiosk)})

    def _assistance_changed(self) -> None:
        self.hub.publish({"type": "assistance", "requests": self.assistance_json()})

    # -- outbound -------------------------------------------------------------------------------
    def flush(self) -> bool:
        """Publish what changed since the last flush; ``False`` when nothing had."""
        if not self._dirty.is_set():
            return False
        self._dirty.clear()
        views = self.engine.open_alarms()
        current = {v.alarm.key: v for v in views}
        with self._lock:
            marks = {k: (v.alarm.revision, v.stale, v.suppressed) for k, v in current.items()}
            changed = marks != self._sent_alarms
            gone = [k for k in self._sent_alarms if k not in current]
            updated = [k for k, m in marks.items() if self._sent_alarms.get(k) != m]
            self._sent_alarms = marks
        if changed:
            self.hub.publish({"type": "alarms", "alarms": [alarm_json(v) for v in views],
                              "at": self._clock.now().isoformat()})
        if self.publisher is not None:
            self._publish_retained(current, updated, gone)
            self._publish_lights(views)
        return True

    def _publish_retained(self, current: dict[str, AlarmView], updated: list[str], gone: list[str]) -> None:
        publisher = self.publisher
        if publisher is None:
            return
        for key in gone:
            topic = self._alarm_topic(key)
            if topic is not None:
                publisher.publish(topic, b"", qos=1, retain=True)
                with self._lock:
                    self._retained.discard(topic)
        for key in updated:
            view = current[key]
            topic = self._alarm_topic(key)
            if topic is None:
                continue
            a = view.alarm
            msg = AlarmMessage(alarm_id=a.id, key=a.key, kiosk_id=a.kiosk_id, device=a.device, condition=a.condition,
                               severity=a.effective_severity.value, state=a.state.value,  # type: ignore[arg-type]
                               label_en=view.label_en, label_zh=view.label_zh, detail=a.detail[:500],
                               stale=view.stale, since=a.first_seen_at, updated_at=a.updated_at)
            with self._lock:
                self._retained.add(topic)
            publisher.publish(topic, encode_model(msg), qos=1, retain=True)

    def _alarm_topic(self, key: str) -> str | None:
        try:
            return alarm_topic(self.store_id, *key.split("/"))
        except TopicError:
            log.warning("alarm key %r cannot be a topic; not published", key)
            return None

    def _publish_lights(self, views: list[AlarmView]) -> None:
        publisher = self.publisher
        if publisher is None:
            return
        per_kiosk: dict[str, list[AlarmView]] = {}
        for v in views:
            if v.alarm.kiosk_id:
                per_kiosk.setdefault(v.alarm.kiosk_id, []).append(v)
        now = self._clock.now()
        for p in self.presence.all():
            if p.status is not PresenceStatus.ONLINE:
                continue
            want = light_for(per_kiosk.get(p.kiosk_id, []))
            with self._lock:
                if self._lights.get(p.kiosk_id) == want:
                    continue
                self._lights[p.kiosk_id] = want
            cmd = light_command(p.kiosk_id, want, now=now)
            publisher.publish(kiosk_topic(self.store_id, p.kiosk_id, "cmd"), encode_model(cmd), qos=1)
            log.info("light of %s: %s", p.kiosk_id, want)

    def lights(self) -> dict[str, LightName]:
        with self._lock:
            return dict(self._lights)
