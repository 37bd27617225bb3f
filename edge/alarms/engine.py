"""The alarm engine: observations in, alarms with a lifecycle and notifications out.

Lifecycle of one key (``kiosk-03/printer/paper_out``)::

    (nothing) --condition on--> PENDING --raise delay--> ACTIVE --ack--> ACKNOWLEDGED
        PENDING --condition off before the delay--> discarded (never notified)
        ACKNOWLEDGED --ack expires--> ACTIVE (notified again)
        ACTIVE/ACKNOWLEDGED --condition off for the clear delay--> CLEARED (removed from the open set)

* One open alarm per key; the condition coming back while it is open counts an occurrence.
* Flapping: ``flap_count`` on-edges within ``flap_window_s`` latch the alarm as flapping,
  notified once; while flapping it neither clears nor notifies raises and clears; it unlatches
  after ``flap_quiet_s`` without an on-edge.
* Suppression (kept, shown, not notified): silences by key pattern, maintenance windows per
  kiosk (not for sales-safety alarms), and inhibition: a kiosk's device and assistance alarms
  are stale while one of its presence alarms (offline, health missing) is raised. An alarm
  raised while suppressed is announced once the suppression ends, if it is still raised.
* Escalation: an announced, unacknowledged alarm is notified again one level higher after the
  escalation time of its severity (or rule), up to ``max_escalation_level``.

Every transition is appended to the store's history in the same transaction as the new state
and the notifications it caused; notifications are then handed to the notifier and marked
sent. A restarted engine reloads everything and sends only what was never marked sent.

Time comes from the injected clock. Call :meth:`AlarmEngine.tick` periodically (every second or
few) to advance the time-based transitions; tests call it after ``FakeClock.advance()``.
Thread-safe: one lock around every operation.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from edge.alarms.errors import AlarmNotFoundError, AlarmRequestError, AlarmStateError
from edge.alarms.model import (
    Alarm,
    AlarmState,
    Category,
    HistoryEntry,
    KeyTracker,
    MaintenanceWindow,
    Notification,
    Observation,
    Silence,
    Transition,
)
from edge.alarms.ports import AlarmRepository, Notifier, StoreChanges
from edge.alarms.settings import AlarmSettings, Rule
from edge.alarms.texts import notification_text
from retail.clock import Clock

__all__ = ["AlarmEngine", "AlarmView"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlarmView:
    """An open alarm as staff see it. ``stale``: its kiosk is offline, so it may be out of date.
    ``suppressed``: why it is not being notified (``silenced``, ``maintenance``, ``inhibited``)."""

    alarm: Alarm
    label_en: str
    label_zh: str
    stale: bool
    suppressed: str | None


@dataclass(slots=True)
class _Op:
    now: datetime
    changes: StoreChanges = field(default_factory=StoreChanges)
    touched: dict[str, Alarm] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    trackers: set[str] = field(default_factory=set)


class AlarmEngine:
    """See the module docstring. ``store`` is an :class:`~edge.alarms.store.AlarmRepository`
    (:class:`~edge.alarms.store.AlarmStore` on SQLite in production)."""

    def __init__(
        self,
        store: AlarmRepository,
        *,
        clock: Clock,
        notifier: Notifier,
        settings: AlarmSettings | None = None,
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._notifier = notifier
        self.settings = settings or AlarmSettings()
        self._new_id = id_factory or (lambda: uuid.uuid4().hex)
        self._lock = threading.RLock()
        self._alarms: dict[str, Alarm] = {a.key: a for a in store.open_alarms()}
        self._trackers: dict[str, KeyTracker] = {t.key: t for t in store.trackers()}
        self._silences: list[Silence] = store.silences()
        self._windows: list[MaintenanceWindow] = store.maintenance_windows()
        self._closed = False
        if self._alarms:
            log.info("alarm engine resumed with %d open alarm(s)", len(self._alarms))

    # -- queries --------------------------------------------------------------------------------
    def open_alarms(self) -> list[AlarmView]:
        """Every open alarm (pending included), most severe first, then oldest first."""
        with self._lock:
            now = self._clock.now()
            views = [self._view(a, now) for a in self._alarms.values()]
        views.sort(key=lambda v: (-v.alarm.effective_severity.rank, v.alarm.first_seen_at, v.alarm.key))
        return views

    def alarm(self, alarm_id_or_key: str) -> AlarmView:
        with self._lock:
            return self._view(self._find(alarm_id_or_key), self._clock.now())

    def history(self, alarm_id: str | None = None, *, key: str | None = None) -> list[HistoryEntry]:
        return self._store.history(alarm_id, key=key)

    def silences(self, *, active_only: bool = True) -> list[Silence]:
        with self._lock:
            now = self._clock.now()
            return [s for s in self._silences if not active_only or s.starts_at <= now < s.ends_at]

    def maintenance_windows(self, *, active_only: bool = True) -> list[MaintenanceWindow]:
        with self._lock:
            now = self._clock.now()
            return [w for w in self._windows if not active_only or w.starts_at <= now < w.ends_at]

    def labels(self, alarm: Alarm) -> tuple[str, str]:
        rule = self.settings.find_rule(alarm.device, alarm.condition)
        if rule is None:
            fb = self.settings.fallback
            return f"{fb.label_en} ({alarm.condition})", f"{fb.label_zh}（{alarm.condition}）"
        return rule.label_en, rule.label_zh

    def _view(self, a: Alarm, now: datetime) -> AlarmView:
        en, zh = self.labels(a)
        return AlarmView(a.copy(), en, zh, self._inhibited(a), self._suppression(a, now))

    def _find(self, alarm_id_or_key: str) -> Alarm:
        alarm = self._alarms.get(alarm_id_or_key) or next(
            (a for a in self._alarms.values() if a.id == alarm_id_or_key), None)
        if alarm is None:
            raise AlarmNotFoundError(f"no open alarm {alarm_id_or_key!r}")
        return alarm

    # -- input ----------------------------------------------------------------------------------
    def observe(self, observation: Observation) -> AlarmView | None:
        """Feed one observation; returns the key's open alarm afterwards, if any."""
        return self.observe_many([observation]).get(observation.key)

    def observe_many(self, observations: Iterable[Observation]) -> dict[str, AlarmView | None]:
        """Feed several observations in one transaction (a whole health snapshot)."""
        with self._lock:
            self._check_open()
            op = _Op(self._clock.now())
            keys: list[str] = []
            for obs in observations:
                keys.append(obs.key)
                self._observe(obs, op)
            self._commit(op)
            return {k: (self._view(self._alarms[k], op.now) if k in self._alarms else None) for k in keys}

    def tick(self) -> None:
        """Advance the time-based transitions (raise and clear delays, ack expiry, escalation,
        flapping unlatch, announcements after suppression), resend what was never sent, and let
        the notifier flush."""
        with self._lock:
            self._check_open()
            op = _Op(self._clock.now())
            # presence first: it decides which device alarms are inhibited
            ordered = sorted(self._alarms.values(), key=lambda a: a.category is not Category.PRESENCE)
            for alarm in ordered:
                if alarm.key in self._alarms:
                    self._evaluate(alarm, op)
            self._prune_trackers(op)
            self._commit(op)
        try:
            self._notifier.flush()
        except Exception:  # noqa: BLE001 - a broken notifier must not stop the engine
            log.exception("notifier flush failed")

    # -- staff actions --------------------------------------------------------------------------
    def acknowledge(self, alarm_id_or_key: str, *, by: str, comment: str = "", for_s: float | None = None) -> AlarmView:
        """Acknowledge a raised alarm for ``for_s`` seconds (default ``ack_expiry_s``); on expiry it
        returns to active and is notified again. Acknowledging again extends it."""
        by = _who(by)
        duration = self.settings.ack_expiry_s if for_s is None else for_s
        if not 0 < duration <= self.settings.max_ack_s:
            raise AlarmRequestError(f"acknowledge for 0 < seconds <= {self.settings.max_ack_s:g}, not {duration!r}")
        with self._lock:
            self._check_open()
            alarm = self._find(alarm_id_or_key)
            if not alarm.state.is_raised:
                raise AlarmStateError(f"alarm {alarm.key} is {alarm.state.value}; only a raised alarm is acknowledged")
            op = _Op(self._clock.now())
            alarm.acked_by, alarm.ack_comment = by, comment
            alarm.ack_until = op.now + timedelta(seconds=duration)
            self._transition(op, alarm, Transition.ACKNOWLEDGED, AlarmState.ACKNOWLEDGED, who=by, comment=comment,
                             notify=alarm.announced)
            self._commit(op)
            return self._view(alarm, op.now)

    def resolve(self, alarm_id_or_key: str, *, by: str, comment: str = "") -> None:
        """Close an alarm by hand: an event alarm (a dead letter looked at, a drawer checked), or
        any alarm whose condition is already gone. Refused while the condition still holds."""
        by = _who(by)
        with self._lock:
            self._check_open()
            alarm = self._find(alarm_id_or_key)
            rule = self._rule(alarm)
            tracker = self._trackers.get(alarm.key)
            if not rule.latching and tracker is not None and tracker.active:
                raise AlarmStateError(f"alarm {alarm.key}: the condition still holds; it clears by itself when it ends")
            op = _Op(self._clock.now())
            self._transition(op, alarm, Transition.RESOLVED, AlarmState.CLEARED, who=by, comment=comment,
                             notify=alarm.announced)
            self._commit(op)

    def add_silence(self, pattern: str, *, until: datetime, by: str, comment: str = "",
                    starts_at: datetime | None = None) -> Silence:
        """Silence alarms whose key matches ``pattern`` (``kiosk-03/*``, ``*/printer/*``) until
        ``until``. Alarms still raised when it ends are announced then."""
        by = _who(by)
        if not pattern or not pattern.strip():
            raise AlarmRequestError("a silence needs a key pattern")
        with self._lock:
            self._check_open()
            now = self._clock.now()
            start = starts_at or now
            if until <= max(now, start):
                raise AlarmRequestError("a silence must end in the future and after it starts")
            silence = Silence(self._new_id(), pattern.strip(), start, until, by, comment)
            self._store.add_silence(silence)
            self._silences.append(silence)
            log.info("silence %s on %s until %s by %s", silence.id, silence.pattern, until.isoformat(), by)
            return silence

    def end_silence(self, silence_id: str, *, by: str) -> Silence:
        by = _who(by)
        with self._lock:
            self._check_open()
            ended = self._store.end_silence(silence_id, self._clock.now())
            self._silences = [ended if s.id == silence_id else s for s in self._silences]
            log.info("silence %s ended by %s", silence_id, by)
            return ended

    def start_maintenance(self, kiosk_id: str, *, until: datetime, by: str, comment: str = "") -> MaintenanceWindow:
        """Put a kiosk under maintenance until ``until``: its alarms are kept but not notified
        (sales-safety alarms still are)."""
        by = _who(by)
        if not kiosk_id or "/" in kiosk_id:
            raise AlarmRequestError(f"invalid kiosk id {kiosk_id!r}")
        with self._lock:
            self._check_open()
            now = self._clock.now()
            if until <= now:
                raise AlarmRequestError("a maintenance window must end in the future")
            window = MaintenanceWindow(self._new_id(), kiosk_id, now, until, by, comment)
            self._store.add_maintenance(window)
            self._windows.append(window)
            log.info("maintenance of %s until %s by %s", kiosk_id, until.isoformat(), by)
            return window

    def end_maintenance(self, window_id: str, *, by: str) -> MaintenanceWindow:
        by = _who(by)
        with self._lock:
            self._check_open()
            ended = self._store.end_maintenance(window_id, self._clock.now())
            self._windows = [ended if w.id == window_id else w for w in self._windows]
            log.info("maintenance window %s ended by %s", window_id, by)
            return ended

    # -- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop accepting work. The store and notifier belong to the caller and stay open."""
        self._closed = True

    def __enter__(self) -> AlarmEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise AlarmStateError("the alarm engine is closed")

    # -- the core -------------------------------------------------------------------------------
    def _rule(self, alarm: Alarm) -> Rule:
        return self.settings.rule_for(alarm.device, alarm.condition)

    def _observe(self, obs: Observation, op: _Op) -> None:
        now = op.now
        rule = self.settings.rule_for(obs.device, obs.condition)
        key = obs.key
        known = self._trackers.get(key)
        was = known is not None and known.active
        if rule.latching:
            active, edge_up, edge_down = False, obs.active, False
        else:
            active = rule.is_active(obs.active, obs.value, was)
            edge_up, edge_down = active and not was, was and not active
        if known is None and not active and not edge_up and key not in self._alarms:
            return  # an all-clear for a key nobody is tracking: nothing to remember
        tracker = known or KeyTracker(key)
        self._trackers[key] = tracker
        if edge_up or edge_down:
            tracker.changed_at = now
            op.trackers.add(key)
        if tracker.active != active or tracker.value != obs.value:
            op.trackers.add(key)
        tracker.active, tracker.value = active, obs.value
        if edge_up and not rule.latching:  # events (latching rules) count occurrences, they do not flap
            tracker.edges = [e for e in tracker.edges if (now - e).total_seconds() < self.settings.flap_window_s] + [now]

        alarm = self._alarms.get(key)
        if alarm is None and (edge_up or active):
            alarm = Alarm(
                id=self._new_id(), key=key, kiosk_id=obs.kiosk_id, device=obs.device, condition=obs.condition,
                severity=rule.severity, category=rule.category, state=AlarmState.PENDING,
                first_seen_at=tracker.changed_at if (active and not edge_up and tracker.changed_at) else now,
                updated_at=now, value=obs.value, detail=obs.detail,
            )
            self._alarms[key] = alarm
            self._history(op, alarm, Transition.PENDING, None)
            op.touched[key] = alarm
        elif alarm is not None and edge_up:
            alarm.occurrences += 1
            if alarm.state is not AlarmState.PENDING:
                self._history(op, alarm, Transition.REOCCURRED, alarm.state)
            op.touched[key] = alarm
        if alarm is None:
            return
        if (obs.value is not None and alarm.value != obs.value) or (obs.detail and alarm.detail != obs.detail):
            alarm.value = obs.value if obs.value is not None else alarm.value
            alarm.detail = obs.detail or alarm.detail
            op.touched[key] = alarm

        if edge_down and alarm.state is AlarmState.PENDING and not alarm.flapping:
            self._transition(op, alarm, Transition.DISCARDED, AlarmState.CLEARED, notify=False,
                             comment="condition ended before the raise delay")
            return
        if edge_up and not rule.latching and not alarm.flapping and len(tracker.edges) >= self.settings.flap_count:
            alarm.flapping, alarm.flapping_since = True, now
            target = AlarmState.ACTIVE if alarm.state is AlarmState.PENDING else alarm.state
            if alarm.raised_at is None:
                alarm.raised_at, alarm.escalate_from = now, now
            span = (now - tracker.edges[0]).total_seconds()
            self._transition(op, alarm, Transition.FLAPPING, target, notify=True,
                             comment=f"{len(tracker.edges)} times in {span:.0f} s")
        self._evaluate(alarm, op)
        if alarm.category is Category.PRESENCE and alarm.kiosk_id is not None:
            for other in list(self._alarms.values()):
                if other.kiosk_id == alarm.kiosk_id and other is not alarm and other.key in self._alarms:
                    self._evaluate(other, op)

    def _evaluate(self, alarm: Alarm, op: _Op) -> None:
        """Apply every time-based transition due for ``alarm`` at ``op.now``."""
        if alarm.key not in self._alarms or self._alarms[alarm.key] is not alarm:
            return
        now, s = op.now, self.settings
        rule = self._rule(alarm)
        tracker = self._trackers.get(alarm.key) or KeyTracker(alarm.key)

        if alarm.flapping and (not tracker.edges or (now - tracker.edges[-1]).total_seconds() >= s.flap_quiet_s):
            alarm.flapping = False
            self._history(op, alarm, Transition.FLAPPING_ENDED, alarm.state)
            op.touched[alarm.key] = alarm

        if alarm.state is AlarmState.PENDING:
            if not (rule.latching or tracker.active):
                self._transition(op, alarm, Transition.DISCARDED, AlarmState.CLEARED, notify=False,
                                 comment="condition ended before the raise delay")
                return
            if (now - alarm.first_seen_at).total_seconds() < rule.raise_delay_s:
                return
            alarm.raised_at = alarm.escalate_from = now
            self._transition(op, alarm, Transition.RAISED, AlarmState.ACTIVE, notify=True)

        if (not rule.latching and not alarm.flapping and not tracker.active
                and (tracker.changed_at is None or (now - tracker.changed_at).total_seconds() >= rule.clear_delay_s)):
            self._transition(op, alarm, Transition.CLEARED, AlarmState.CLEARED, notify=alarm.announced)
            return

        if alarm.state is AlarmState.ACKNOWLEDGED and alarm.ack_until is not None and now >= alarm.ack_until:
            alarm.escalate_from = now
            who = alarm.acked_by or ""
            alarm.acked_by, alarm.ack_comment, alarm.ack_until = None, "", None
            self._transition(op, alarm, Transition.ACK_EXPIRED, AlarmState.ACTIVE, notify=True,
                             comment=f"acknowledged by {who}" if who else "")

        suppressed = self._suppression(alarm, now)
        if not alarm.announced and suppressed is None:
            alarm.escalate_from = now
            self._transition(op, alarm, Transition.ANNOUNCED, alarm.state, notify=True)
            return

        if alarm.state is AlarmState.ACTIVE and alarm.announced and not alarm.flapping and suppressed is None:
            after = s.escalation_time(rule)
            start = alarm.escalate_from or alarm.raised_at or alarm.first_seen_at
            if (after is not None and alarm.escalation_level < s.max_escalation_level
                    and (now - start).total_seconds() >= after):
                alarm.escalation_level += 1
                alarm.escalate_from = now
                self._transition(op, alarm, Transition.ESCALATED, alarm.state, notify=True,
                                 comment=f"level {alarm.escalation_level}")

    # -- suppression ----------------------------------------------------------------------------
    def _inhibited(self, alarm: Alarm) -> bool:
        if not alarm.category.inhibitable or alarm.kiosk_id is None:
            return False
        return any(
            a.kiosk_id == alarm.kiosk_id and a.category is Category.PRESENCE and a.state.is_raised
            for a in self._alarms.values()
        )

    def _suppression(self, alarm: Alarm, now: datetime) -> str | None:
        if any(s.covers(alarm.key, now) for s in self._silences):
            return "silenced"
        if alarm.category is not Category.SALES_SAFETY and any(w.covers(alarm.kiosk_id, now) for w in self._windows):
            return "maintenance"
        if self._inhibited(alarm):
            return "inhibited"
        return None

    # -- bookkeeping ----------------------------------------------------------------------------
    def _history(self, op: _Op, alarm: Alarm, transition: Transition, from_state: AlarmState | None,
                 *, who: str = "", comment: str = "") -> None:
        op.changes.history.append(HistoryEntry(alarm.id, alarm.key, transition, from_state, alarm.state, op.now, who, comment))

    def _transition(self, op: _Op, alarm: Alarm, transition: Transition, to_state: AlarmState, *,
                    notify: bool, who: str = "", comment: str = "") -> None:
        from_state = alarm.state
        alarm.state = to_state
        alarm.revision += 1
        alarm.updated_at = op.now
        self._history(op, alarm, transition, from_state, who=who, comment=comment)
        if notify and to_state is not AlarmState.PENDING:
            quiet_while_flapping = alarm.flapping and transition in (Transition.RAISED, Transition.CLEARED)
            if not quiet_while_flapping and self._suppression(alarm, op.now) is None:
                if transition in (Transition.RAISED, Transition.ANNOUNCED, Transition.FLAPPING):
                    alarm.announced = True
                en, zh = self.labels(alarm)
                text_en, text_zh = notification_text(alarm, en, zh, transition, who=who, comment=comment)
                op.changes.notifications.append(Notification(
                    id=f"{alarm.id}:{alarm.revision}:{transition.value}", alarm_id=alarm.id, key=alarm.key,
                    kiosk_id=alarm.kiosk_id, transition=transition, severity=alarm.effective_severity,
                    level=alarm.escalation_level, text_en=text_en, text_zh=text_zh, at=op.now,
                ))
        if to_state is AlarmState.CLEARED:
            del self._alarms[alarm.key]
            op.touched.pop(alarm.key, None)
            op.closed.add(alarm.id)
        else:
            op.touched[alarm.key] = alarm

    def _prune_trackers(self, op: _Op) -> None:
        window = self.settings.flap_window_s
        for key, t in list(self._trackers.items()):
            if t.edges and (op.now - t.edges[-1]).total_seconds() >= max(window, self.settings.flap_quiet_s):
                recent = [e for e in t.edges if (op.now - e).total_seconds() < window]
                if recent != t.edges:
                    t.edges = recent
                    op.trackers.add(key)
            if not t.active and key not in self._alarms and not t.edges:
                del self._trackers[key]
                op.trackers.discard(key)
                op.changes.drop_trackers.append(key)

    def _commit(self, op: _Op) -> None:
        ch = op.changes
        ch.upsert = [a.copy() for a in op.touched.values() if a.id not in op.closed]
        ch.delete = sorted(op.closed)
        ch.trackers = [KeyTracker(t.key, t.active, t.changed_at, t.value, list(t.edges))
                       for k in sorted(op.trackers) if (t := self._trackers.get(k)) is not None]
        if ch:
            self._store.apply(ch)
        self._deliver()

    def _deliver(self) -> None:
        """Hand every not-yet-sent notification to the notifier as one message, then mark them."""
        pending = self._store.unsent_notifications()
        if not pending:
            return
        try:
            self._notifier.notify(pending)
        except Exception:  # noqa: BLE001 - kept unsent; tried again on the next operation or tick
            log.exception("notifier failed; %d notification(s) kept for a retry", len(pending))
            return
        self._store.mark_sent([n.id for n in pending], self._clock.now())


def _who(by: str) -> str:
    if not isinstance(by, str) or not by.strip():
        raise AlarmRequestError("say who does it (a staff name or id)")
    return by.strip()
