"""The audit log: an append-only table of who did what to what, with before and after.

Every override, refund, price change, stored-value top-up and permission change is written
here. Other components call :func:`audit` with their own connection *inside their own
transaction*, so the change and its audit entry commit together or not at all::

    with store.transaction() as db:
        db.execute("UPDATE prices ...")
        audit(db, actor="S0002", action="price.override", target="sku:4006381333931",
              before={"price_minor": 1299}, after={"price_minor": 999}, at=clock.now())

The table refuses UPDATE and DELETE (SQLite triggers), so entries cannot be rewritten.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edge.schema import migrate_component
from edge.staff.errors import StaffError
from retail.clock import Clock

__all__ = ["AUDIT_STEPS", "AuditEntry", "AuditLog", "audit", "ensure_audit_schema", "query_audit"]

log = logging.getLogger(__name__)

AUDIT_STEPS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            before_json TEXT,
            after_json TEXT,
            detail TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX audit_log_at ON audit_log (at)",
        "CREATE INDEX audit_log_actor ON audit_log (actor, at)",
        "CREATE INDEX audit_log_action ON audit_log (action, at)",
        "CREATE INDEX audit_log_target ON audit_log (target, at)",
        """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    ),
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    before: Any
    after: Any
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "before": self.before,
            "after": self.after,
            "detail": self.detail,
        }


def ensure_audit_schema(conn: sqlite3.Connection) -> None:
    """Create or upgrade the audit table (the ``audit`` component of the edge schema)."""
    migrate_component(conn, "audit", AUDIT_STEPS)


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def audit(
    db: sqlite3.Connection,
    *,
    actor: str,
    action: str,
    target: str,
    at: datetime,
    before: Any = None,
    after: Any = None,
    detail: str = "",
) -> int:
    """Append one entry with ``db`` (inside the caller's transaction); return its id.

    ``before`` and ``after`` are JSON-able values (``str()`` is used for anything else).
    """
    if not actor or not action or not target:
        raise StaffError("an audit entry needs an actor, an action and a target")
    if at.tzinfo is None:
        raise StaffError("an audit time must be timezone-aware")
    cur = db.execute(
        "INSERT INTO audit_log (at, actor, action, target, before_json, after_json, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at.isoformat(), actor, action, target, _dump(before), _dump(after), detail),
    )
    log.info("audit: %s %s %s", actor, action, target)
    return int(cur.lastrowid or 0)


def _row(row: tuple[Any, ...]) -> AuditEntry:
    return AuditEntry(
        id=row[0],
        at=datetime.fromisoformat(row[1]),
        actor=row[2],
        action=row[3],
        target=row[4],
        before=json.loads(row[5]) if row[5] is not None else None,
        after=json.loads(row[6]) if row[6] is not None else None,
        detail=row[7],
    )


def query_audit(
    db: sqlite3.Connection,
    *,
    actor: str | None = None,
    action: str | None = None,
    action_prefix: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEntry]:
    """Entries newest first; ``before_id`` pages back through older entries."""
    where: list[str] = []
    args: list[Any] = []
    for column, value in (("actor", actor), ("action", action), ("target", target)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if action_prefix is not None:
        where.append("substr(action, 1, ?) = ?")
        args += [len(action_prefix), action_prefix]
    if since is not None:
        where.append("at >= ?")
        args.append(since.isoformat())
    if until is not None:
        where.append("at < ?")
        args.append(until.isoformat())
    if before_id is not None:
        where.append("id < ?")
        args.append(before_id)
    sql = "SELECT id, at, actor, action, target, before_json, after_json, detail FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(max(1, min(int(limit), 1000)))
    return [_row(r) for r in db.execute(sql, args).fetchall()]


class AuditLog:
    """The audit log on its own connection (for components without a transaction at hand)."""

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock, lock: threading.RLock | None = None) -> None:
        self._conn = conn
        self._clock = clock
        self._lock = lock or threading.RLock()
        ensure_audit_schema(conn)

    def record(self, *, actor: str, action: str, target: str, before: Any = None, after: Any = None, detail: str = "") -> int:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                entry = audit(
                    self._conn, actor=actor, action=action, target=target,
                    before=before, after=after, detail=detail, at=self._clock.now(),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return entry

    def query(self, **filters: Any) -> list[AuditEntry]:
        with self._lock:
            return query_audit(self._conn, **filters)
