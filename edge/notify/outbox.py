"""The notification outbox: messages wait in SQLite until a :class:`Notifier` accepted them.

``enqueue`` is idempotent by message key and can run inside another component's transaction
(the message is queued if and only if the change that caused it commits). :meth:`Outbox.drain`
sends what is due, one message at a time and outside any transaction; a temporary failure is
retried with exponential backoff on the injected clock, a permanent one (or too many
attempts) marks the message failed. Delivery is at least once: a crash between the server's
acceptance and the ``sent`` mark sends that one message again (it carries its key in the
``X-Tillpi-Key`` header).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from edge.db import connect
from edge.notify.errors import DeliveryError, NotifyError, PermanentDeliveryError
from edge.notify.messages import Message, MessageKind
from edge.notify.ports import Notifier
from edge.schema import migrate_component
from retail.clock import Clock

__all__ = ["DrainReport", "Outbox", "OutboxEntry", "RetryPolicy", "enqueue", "ensure_outbox_schema"]

log = logging.getLogger(__name__)

OUTBOX_STEPS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE notify_outbox (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            recipient TEXT NOT NULL,
            language TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            sent_at TEXT
        )""",
        "CREATE INDEX notify_outbox_due ON notify_outbox (status, next_attempt_at)",
    ),
)


def ensure_outbox_schema(conn: sqlite3.Connection) -> None:
    migrate_component(conn, "notify", OUTBOX_STEPS)


def enqueue(db: sqlite3.Connection, message: Message, *, at: datetime) -> bool:
    """Queue ``message`` with ``db`` (inside the caller's transaction); False if its key was queued before."""
    cur = db.execute(
        "INSERT INTO notify_outbox (key, kind, recipient, language, subject, body, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        (message.key, message.kind.value, message.to, message.language, message.subject, message.body,
         at.isoformat(), at.isoformat()),
    )
    return cur.rowcount == 1


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delay after the n-th failure: ``first_delay * 2**(n-1)``, at most ``max_delay``."""

    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 10

    def __post_init__(self) -> None:
        if self.first_delay <= timedelta(0) or self.max_delay < self.first_delay or self.max_attempts < 1:
            raise NotifyError("a retry policy needs positive delays and at least one attempt")

    def delay(self, attempts: int) -> timedelta:
        return min(self.first_delay * (2 ** max(attempts - 1, 0)), self.max_delay)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    key: str
    kind: MessageKind
    to: str
    language: str
    subject: str
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    sent_at: datetime | None

    def message(self) -> Message:
        return Message(self.key, self.kind, self.to, self.language, self.subject, self.body)


@dataclass(frozen=True, slots=True)
class DrainReport:
    sent: int = 0
    retry_later: int = 0
    failed: int = 0


_ENTRY = "key, kind, recipient, language, subject, body, status, attempts, next_attempt_at, last_error, sent_at"


def _entry(row: tuple[Any, ...]) -> OutboxEntry:
    return OutboxEntry(
        row[0], MessageKind(row[1]), row[2], row[3], row[4], row[5], row[6], int(row[7]),
        datetime.fromisoformat(row[8]), row[9], datetime.fromisoformat(row[10]) if row[10] else None,
    )


class Outbox:
    """The outbox on its own connection (context manager; ``close()`` is idempotent)."""

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock, policy: RetryPolicy | None = None,
                 owns_connection: bool = False) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._owns = owns_connection
        self._clock = clock
        self.policy = policy or RetryPolicy()
        self._lock = threading.RLock()
        ensure_outbox_schema(conn)

    @classmethod
    def open(cls, path: str | Path, *, clock: Clock, policy: RetryPolicy | None = None) -> Outbox:
        return cls(connect(path), clock=clock, policy=policy, owns_connection=True)

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._owns:
                self._conn.close()
            self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise NotifyError("the outbox is closed")
        return self._conn

    def _write(self, sql: str, args: tuple[Any, ...]) -> int:
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                cur = db.execute(sql, args)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return cur.rowcount

    def enqueue(self, message: Message) -> bool:
        """Queue ``message``; False when a message with its key was queued before."""
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                new = enqueue(db, message, at=self._clock.now())
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return new

    def get(self, key: str) -> OutboxEntry | None:
        with self._lock:
            row = self._db().execute(f"SELECT {_ENTRY} FROM notify_outbox WHERE key = ?", (key,)).fetchone()
        return _entry(row) if row else None

    def entries(self, status: str | None = None) -> list[OutboxEntry]:
        sql = f"SELECT {_ENTRY} FROM notify_outbox" + (" WHERE status = ?" if status else "") + " ORDER BY id"
        with self._lock:
            rows = self._db().execute(sql, (status,) if status else ()).fetchall()
        return [_entry(r) for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            return int(self._db().execute("SELECT COUNT(*) FROM notify_outbox WHERE status = 'pending'").fetchone()[0])

    def next_due_at(self) -> datetime | None:
        with self._lock:
            row = self._db().execute(
                "SELECT MIN(next_attempt_at) FROM notify_outbox WHERE status = 'pending'"
            ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def drain(self, notifier: Notifier, *, limit: int = 50) -> DrainReport:
        """Send up to ``limit`` due messages; return what happened."""
        now = self._clock.now()
        with self._lock:
            rows = self._db().execute(
                f"SELECT {_ENTRY} FROM notify_outbox WHERE status = 'pending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT ?",
                (now.isoformat(), limit),
            ).fetchall()
        sent = retry = failed = 0
        for entry in map(_entry, rows):
            attempts = entry.attempts + 1
            try:
                notifier.send(entry.message())
            except DeliveryError as err:
                permanent = isinstance(err, PermanentDeliveryError) or attempts >= self.policy.max_attempts
                if permanent:
                    failed += 1
                    log.error("message %s failed for good after %d attempts: %s", entry.key, attempts, err)
                    self._write(
                        "UPDATE notify_outbox SET status = 'failed', attempts = ?, last_error = ? WHERE key = ?",
                        (attempts, str(err)[:500], entry.key),
                    )
                else:
                    retry += 1
                    when = self._clock.now() + self.policy.delay(attempts)
                    log.warning("message %s not sent (attempt %d), retry at %s: %s", entry.key, attempts, when, err)
                    self._write(
                        "UPDATE notify_outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE key = ?",
                        (attempts, when.isoformat(), str(err)[:500], entry.key),
                    )
                continue
            sent += 1
            self._write(
                "UPDATE notify_outbox SET status = 'sent', attempts = ?, sent_at = ?, last_error = '' WHERE key = ?",
                (attempts, self._clock.now().isoformat(), entry.key),
            )
        return DrainReport(sent, retry, failed)
