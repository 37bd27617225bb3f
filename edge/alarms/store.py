"""Where alarms live: the :class:`AlarmRepository` port, the SQLite :class:`AlarmStore` and an
in-memory :class:`SimulatedAlarmRepository`.

Tables of the SQLite store (WAL, ``synchronous=FULL``, migrations by ``PRAGMA user_version``):

* ``alarms`` - the current state of every open alarm, one row per key;
* ``alarm_trackers`` - per key: is the condition on, since when, recent on-edges (flapping);
* ``alarm_history`` - append-only transitions (triggers refuse UPDATE and DELETE);
* ``silences`` and ``maintenance_windows``;
* ``notifications_sent`` - every notification the engine decided on, keyed by its idempotency
  id, with ``sent_at`` set once handed to the notifier (an outbox: unsent ones are sent after a
  restart, sent ones never again).

The engine hands one :class:`StoreChanges` per operation to :meth:`AlarmRepository.apply`,
which writes it in one transaction.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from edge.alarms.errors import AlarmNotFoundError, AlarmStoreClosedError, AlarmStoreError, AlarmStoreSchemaError
from edge.alarms.model import (
    Alarm,
    AlarmState,
    Category,
    HistoryEntry,
    KeyTracker,
    MaintenanceWindow,
    Notification,
    Severity,
    Silence,
    Transition,
)
from edge.alarms.ports import AlarmRepository, StoreChanges

__all__ = ["AlarmRepository", "AlarmStore", "SimulatedAlarmRepository", "StoreChanges"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# SQLite

def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _dt(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


_MIGRATION_1 = """
        CREATE TABLE alarms (
            id TEXT PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            kiosk_id TEXT,
            device TEXT NOT NULL,
            condition TEXT NOT NULL,
            severity TEXT NOT NULL,
            category TEXT NOT NULL,
            state TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            raised_at TEXT,
            occurrences INTEGER NOT NULL,
            value REAL,
            detail TEXT NOT NULL DEFAULT '',
            acked_by TEXT,
            ack_comment TEXT NOT NULL DEFAULT '',
            ack_until TEXT,
            escalation_level INTEGER NOT NULL DEFAULT 0,
            escalate_from TEXT,
            flapping INTEGER NOT NULL DEFAULT 0,
            flapping_since TEXT,
            announced INTEGER NOT NULL DEFAULT 0,
            revision INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX alarms_kiosk ON alarms (kiosk_id);
        CREATE TABLE alarm_trackers (
            key TEXT PRIMARY KEY,
            active INTEGER NOT NULL,
            changed_at TEXT,
            value REAL,
            edges TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE alarm_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            alarm_id TEXT NOT NULL,
            key TEXT NOT NULL,
            transition TEXT NOT NULL,
            from_state TEXT,
            to_state TEXT NOT NULL,
            who TEXT NOT NULL DEFAULT '',
            comment TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL
        );
        CREATE INDEX alarm_history_alarm ON alarm_history (alarm_id);
        CREATE INDEX alarm_history_key ON alarm_history (key);
        CREATE TRIGGER alarm_history_no_update BEFORE UPDATE ON alarm_history
            BEGIN SELECT RAISE(ABORT, 'alarm_history is append-only'); END;
        CREATE TRIGGER alarm_history_no_delete BEFORE DELETE ON alarm_history
            BEGIN SELECT RAISE(ABORT, 'alarm_history is append-only'); END;
        CREATE TABLE silences (
            id TEXT PRIMARY KEY,
            pattern TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            by TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE maintenance_windows (
            id TEXT PRIMARY KEY,
            kiosk_id TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            by TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE notifications_sent (
            id TEXT PRIMARY KEY,
            alarm_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX notifications_unsent ON notifications_sent (sent_at) WHERE sent_at IS NULL;
"""

# One SQL script per schema version; never edit a shipped one, append a new one.
MIGRATIONS: tuple[str, ...] = (_MIGRATION_1,)


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run a migration statement by statement inside the caller's transaction (``executescript``
    would commit it)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            if statement.strip():
                db.execute(statement)
            statement = ""
    if statement.strip():
        raise AlarmStoreError(f"incomplete migration statement: {statement[:80]!r}")

_ALARM_COLUMNS = (
    "id", "key", "kiosk_id", "device", "condition", "severity", "category", "state", "first_seen_at",
    "updated_at", "raised_at", "occurrences", "value", "detail", "acked_by", "ack_comment", "ack_until",
    "escalation_level", "escalate_from", "flapping", "flapping_since", "announced", "revision",
)


def _alarm_row(a: Alarm) -> tuple[object, ...]:
    return (
        a.id, a.key, a.kiosk_id, a.device, a.condition, a.severity.value, a.category.value, a.state.value,
        _ts(a.first_seen_at), _ts(a.updated_at), _ts(a.raised_at), a.occurrences, a.value, a.detail,
        a.acked_by, a.ack_comment, _ts(a.ack_until), a.escalation_level, _ts(a.escalate_from),
        int(a.flapping), _ts(a.flapping_since), int(a.announced), a.revision,
    )


def _alarm_from(r: sqlite3.Row) -> Alarm:
    return Alarm(
        id=r["id"], key=r["key"], kiosk_id=r["kiosk_id"], device=r["device"], condition=r["condition"],
        severity=Severity(r["severity"]), category=Category(r["category"]), state=AlarmState(r["state"]),
        first_seen_at=_dt(r["first_seen_at"]),  # type: ignore[arg-type]
        updated_at=_dt(r["updated_at"]),  # type: ignore[arg-type]
        raised_at=_dt(r["raised_at"]), occurrences=int(r["occurrences"]), value=r["value"], detail=r["detail"],
        acked_by=r["acked_by"], ack_comment=r["ack_comment"], ack_until=_dt(r["ack_until"]),
        escalation_level=int(r["escalation_level"]), escalate_from=_dt(r["escalate_from"]),
        flapping=bool(r["flapping"]), flapping_since=_dt(r["flapping_since"]), announced=bool(r["announced"]),
        revision=int(r["revision"]),
    )


class AlarmStore:
    """The alarm engine's SQLite store. Thread-safe (one connection behind a lock); a context
    manager whose ``close()`` is idempotent. ``":memory:"`` works for throwaway use."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        try:
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
        except sqlite3.Error as exc:
            raise AlarmStoreError(f"cannot open alarm store {self.path}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    # -- plumbing -------------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise AlarmStoreClosedError("the alarm store is closed")
        return self._conn

    def _migrate(self) -> None:
        db = self._db()
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise AlarmStoreSchemaError(
                f"{self.path} has alarm schema {version}; this software knows up to {len(MIGRATIONS)}"
            )
        for number in range(version + 1, len(MIGRATIONS) + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                _run_script(db, MIGRATIONS[number - 1])
                db.execute(f"PRAGMA user_version = {number}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            log.info("alarm store %s migrated to schema %d", self.path, number)

    def pragmas(self) -> dict[str, object]:
        """The durability settings in force: ``journal_mode`` and ``synchronous`` (2 = FULL)."""
        with self._lock:
            db = self._db()
            return {"journal_mode": db.execute("PRAGMA journal_mode").fetchone()[0],
                    "synchronous": db.execute("PRAGMA synchronous").fetchone()[0]}

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db().execute("PRAGMA user_version").fetchone()[0])

    def _rows(self, sql: str, args: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db().execute(sql, args).fetchall())

    def _write(self, work: Callable[[sqlite3.Connection], None]) -> None:
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                work(db)
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                db.execute("ROLLBACK")
                raise AlarmStoreError(f"alarm store write failed: {exc}") from exc
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # -- alarms ---------------------------------------------------------------------------------
    def open_alarms(self) -> list[Alarm]:
        return [_alarm_from(r) for r in self._rows("SELECT * FROM alarms ORDER BY first_seen_at, id")]

    def trackers(self) -> list[KeyTracker]:
        return [
            KeyTracker(r["key"], bool(r["active"]), _dt(r["changed_at"]), r["value"],
                       [datetime.fromisoformat(t) for t in json.loads(r["edges"])])
            for r in self._rows("SELECT * FROM alarm_trackers ORDER BY key")
        ]

    def apply(self, changes: StoreChanges) -> None:
        if not changes:
            return

        def work(db: sqlite3.Connection) -> None:
            placeholders = ", ".join("?" for _ in _ALARM_COLUMNS)
            if changes.upsert:
                # a key's open alarm may have been replaced: drop any other row holding the key
                db.executemany("DELETE FROM alarms WHERE key = ? AND id <> ?", [(a.key, a.id) for a in changes.upsert])
                db.executemany(
                    f"INSERT OR REPLACE INTO alarms ({', '.join(_ALARM_COLUMNS)}) VALUES ({placeholders})",
                    [_alarm_row(a) for a in changes.upsert],
                )
            if changes.delete:
                db.executemany("DELETE FROM alarms WHERE id = ?", [(i,) for i in changes.delete])
            if changes.history:
                db.executemany(
                    "INSERT INTO alarm_history (alarm_id, key, transition, from_state, to_state, who, comment, at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(h.alarm_id, h.key, h.transition.value, None if h.from_state is None else h.from_state.value,
                      h.to_state.value, h.who, h.comment, _ts(h.at)) for h in changes.history],
                )
            if changes.trackers:
                db.executemany(
                    "INSERT OR REPLACE INTO alarm_trackers (key, active, changed_at, value, edges) VALUES (?, ?, ?, ?, ?)",
                    [(t.key, int(t.active), _ts(t.changed_at), t.value, json.dumps([e.isoformat() for e in t.edges]))
                     for t in changes.trackers],
                )
            if changes.drop_trackers:
                db.executemany("DELETE FROM alarm_trackers WHERE key = ?", [(k,) for k in changes.drop_trackers])
            if changes.notifications:
                db.executemany(
                    "INSERT OR IGNORE INTO notifications_sent (id, alarm_id, payload, created_at) VALUES (?, ?, ?, ?)",
                    [(n.id, n.alarm_id, json.dumps(n.to_dict(), ensure_ascii=False), _ts(n.at))
                     for n in changes.notifications],
                )

        self._write(work)

    def history(self, alarm_id: str | None = None, *, key: str | None = None) -> list[HistoryEntry]:
        clauses, args = [], []
        if alarm_id is not None:
            clauses.append("alarm_id = ?")
            args.append(alarm_id)
        if key is not None:
            clauses.append("key = ?")
            args.append(key)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return [
            HistoryEntry(r["alarm_id"], r["key"], Transition(r["transition"]),
                         None if r["from_state"] is None else AlarmState(r["from_state"]), AlarmState(r["to_state"]),
                         _dt(r["at"]), r["who"], r["comment"])  # type: ignore[arg-type]
            for r in self._rows(f"SELECT * FROM alarm_history {where} ORDER BY id", tuple(args))
        ]

    # -- silences and maintenance ---------------------------------------------------------------
    def add_silence(self, silence: Silence) -> None:
        self._write(lambda db: db.execute(
            "INSERT INTO silences (id, pattern, starts_at, ends_at, by, comment) VALUES (?, ?, ?, ?, ?, ?)",
            (silence.id, silence.pattern, _ts(silence.starts_at), _ts(silence.ends_at), silence.by, silence.comment)))

    def end_silence(self, silence_id: str, at: datetime) -> Silence:
        found = [s for s in self.silences() if s.id == silence_id]
        if not found:
            raise AlarmNotFoundError(f"no silence {silence_id!r}")
        ended = min(found[0].ends_at, max(at, found[0].starts_at))
        self._write(lambda db: db.execute("UPDATE silences SET ends_at = ? WHERE id = ?", (_ts(ended), silence_id)))
        return Silence(found[0].id, found[0].pattern, found[0].starts_at, ended, found[0].by, found[0].comment)

    def silences(self) -> list[Silence]:
        return [Silence(r["id"], r["pattern"], _dt(r["starts_at"]), _dt(r["ends_at"]), r["by"], r["comment"])  # type: ignore[arg-type]
                for r in self._rows("SELECT * FROM silences ORDER BY starts_at, id")]

    def add_maintenance(self, window: MaintenanceWindow) -> None:
        self._write(lambda db: db.execute(
            "INSERT INTO maintenance_windows (id, kiosk_id, starts_at, ends_at, by, comment) VALUES (?, ?, ?, ?, ?, ?)",
            (window.id, window.kiosk_id, _ts(window.starts_at), _ts(window.ends_at), window.by, window.comment)))

    def end_maintenance(self, window_id: str, at: datetime) -> MaintenanceWindow:
        found = [w for w in self.maintenance_windows() if w.id == window_id]
        if not found:
            raise AlarmNotFoundError(f"no maintenance window {window_id!r}")
        w = found[0]
        ended = min(w.ends_at, max(at, w.starts_at))
        self._write(lambda db: db.execute("UPDATE maintenance_windows SET ends_at = ? WHERE id = ?", (_ts(ended), window_id)))
        return MaintenanceWindow(w.id, w.kiosk_id, w.starts_at, ended, w.by, w.comment)

    def maintenance_windows(self) -> list[MaintenanceWindow]:
        return [MaintenanceWindow(r["id"], r["kiosk_id"], _dt(r["starts_at"]), _dt(r["ends_at"]), r["by"], r["comment"])  # type: ignore[arg-type]
                for r in self._rows("SELECT * FROM maintenance_windows ORDER BY starts_at, id")]

    # -- notifications --------------------------------------------------------------------------
    def unsent_notifications(self) -> list[Notification]:
        return [Notification.from_dict(json.loads(r["payload"]))
                for r in self._rows("SELECT payload FROM notifications_sent WHERE sent_at IS NULL ORDER BY created_at, rowid")]

    def known_notification(self, notification_id: str) -> bool:
        return bool(self._rows("SELECT 1 FROM notifications_sent WHERE id = ?", (notification_id,)))

    def sent_count(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM notifications_sent WHERE sent_at IS NOT NULL")[0][0])

    def mark_sent(self, notification_ids: Sequence[str], at: datetime) -> None:
        if notification_ids:
            self._write(lambda db: db.executemany(
                "UPDATE notifications_sent SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
                [(_ts(at), i) for i in notification_ids]))

    # -- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> AlarmStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# simulator

class SimulatedAlarmRepository:
    """Simulator: an in-memory :class:`AlarmRepository` for laptops and fast tests. Keeps copies,
    so callers mutating what they got back do not change what is stored. ``history`` is
    append-only here too."""

    def __init__(self) -> None:
        self._alarms: dict[str, Alarm] = {}
        self._trackers: dict[str, KeyTracker] = {}
        self._history: list[HistoryEntry] = []
        self._silences: dict[str, Silence] = {}
        self._windows: dict[str, MaintenanceWindow] = {}
        self._notes: dict[str, tuple[Notification, datetime | None]] = {}
        self._lock = threading.RLock()
        self._closed = False

    def _check(self) -> None:
        if self._closed:
            raise AlarmStoreClosedError("the simulated alarm store is closed")

    def open_alarms(self) -> list[Alarm]:
        with self._lock:
            self._check()
            return sorted((a.copy() for a in self._alarms.values()), key=lambda a: (a.first_seen_at, a.id))

    def trackers(self) -> list[KeyTracker]:
        with self._lock:
            self._check()
            return [KeyTracker(t.key, t.active, t.changed_at, t.value, list(t.edges))
                    for t in sorted(self._trackers.values(), key=lambda t: t.key)]

    def apply(self, changes: StoreChanges) -> None:
        with self._lock:
            self._check()
            for a in changes.upsert:
                for other in [o for o in self._alarms.values() if o.key == a.key and o.id != a.id]:
                    del self._alarms[other.id]
                self._alarms[a.id] = a.copy()
            for alarm_id in changes.delete:
                self._alarms.pop(alarm_id, None)
            self._history.extend(changes.history)
            for t in changes.trackers:
                self._trackers[t.key] = KeyTracker(t.key, t.active, t.changed_at, t.value, list(t.edges))
            for k in changes.drop_trackers:
                self._trackers.pop(k, None)
            for n in changes.notifications:
                self._notes.setdefault(n.id, (n, None))

    def history(self, alarm_id: str | None = None, *, key: str | None = None) -> list[HistoryEntry]:
        with self._lock:
            self._check()
            return [h for h in self._history
                    if (alarm_id is None or h.alarm_id == alarm_id) and (key is None or h.key == key)]

    def add_silence(self, silence: Silence) -> None:
        with self._lock:
            self._check()
            self._silences[silence.id] = silence

    def end_silence(self, silence_id: str, at: datetime) -> Silence:
        with self._lock:
            self._check()
            s = self._silences.get(silence_id)
            if s is None:
                raise AlarmNotFoundError(f"no silence {silence_id!r}")
            ended = Silence(s.id, s.pattern, s.starts_at, min(s.ends_at, max(at, s.starts_at)), s.by, s.comment)
            self._silences[silence_id] = ended
            return ended

    def silences(self) -> list[Silence]:
        with self._lock:
            self._check()
            return sorted(self._silences.values(), key=lambda s: (s.starts_at, s.id))

    def add_maintenance(self, window: MaintenanceWindow) -> None:
        with self._lock:
            self._check()
            self._windows[window.id] = window

    def end_maintenance(self, window_id: str, at: datetime) -> MaintenanceWindow:
        with self._lock:
            self._check()
            w = self._windows.get(window_id)
            if w is None:
                raise AlarmNotFoundError(f"no maintenance window {window_id!r}")
            ended = MaintenanceWindow(w.id, w.kiosk_id, w.starts_at, min(w.ends_at, max(at, w.starts_at)), w.by, w.comment)
            self._windows[window_id] = ended
            return ended

    def maintenance_windows(self) -> list[MaintenanceWindow]:
        with self._lock:
            self._check()
            return sorted(self._windows.values(), key=lambda w: (w.starts_at, w.id))

    def unsent_notifications(self) -> list[Notification]:
        with self._lock:
            self._check()
            return [n for n, sent in self._notes.values() if sent is None]

    def known_notification(self, notification_id: str) -> bool:
        with self._lock:
            self._check()
            return notification_id in self._notes

    def sent_count(self) -> int:
        with self._lock:
            return sum(1 for _, sent in self._notes.values() if sent is not None)

    def mark_sent(self, notification_ids: Sequence[str], at: datetime) -> None:
        with self._lock:
            self._check()
            for i in notification_ids:
                if i in self._notes and self._notes[i][1] is None:
                    self._notes[i] = (self._notes[i][0], at)

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> SimulatedAlarmRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
