"""Opening the edge database: one SQLite file, WAL, full sync, foreign keys on.

:class:`SqliteComponent` is the common base of the edge's stores and services over that file:
one connection, a re-entrant lock, migrations run on opening (the connection closed again if
they fail), ``BEGIN IMMEDIATE`` write transactions, a typed "closed" error and an idempotent
``close()``.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, ClassVar, Iterator, Self

from edge.errors import EdgeError

__all__ = ["ComponentClosedError", "SqliteComponent", "connect"]


def connect(path: str | Path, *, check_same_thread: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit: ``BEGIN IMMEDIATE``)."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=check_same_thread, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class ComponentClosedError(EdgeError, RuntimeError):
    """A :class:`SqliteComponent` was used after ``close()`` (subclasses name their own)."""


class SqliteComponent:
    """One connection to the edge database, guarded by a re-entrant lock (context manager;
    idempotent ``close()``; thread-safe).

    ``path_or_conn`` is a file path (the component opens and owns the connection) or an open
    connection (owned only when ``owns_connection`` is true). ``migrations`` runs on the
    connection before anything else; if it raises, an owned connection is closed again.
    Subclasses set ``_closed_error`` and ``_closed_message`` to the typed error they raise when
    used after ``close()``.
    """

    _closed_error: ClassVar[type[Exception]] = ComponentClosedError
    _closed_message: ClassVar[str] = "the component is closed"

    def __init__(
        self,
        path_or_conn: str | Path | sqlite3.Connection,
        *,
        migrations: Callable[[sqlite3.Connection], object] | None = None,
        owns_connection: bool = False,
    ) -> None:
        self._lock = threading.RLock()
        if isinstance(path_or_conn, sqlite3.Connection):
            conn, self._owns = path_or_conn, owns_connection
        else:
            conn, self._owns = connect(path_or_conn), True
        self._conn: sqlite3.Connection | None = conn
        if migrations is None:
            return
        try:
            migrations(conn)
        except BaseException:
            if self._owns:
                conn.close()
            self._conn = None
            raise

    def __enter__(self) -> Self:
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
            raise self._closed_error(self._closed_message)
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``); all or nothing."""
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, held alone for the duration (no transaction opened)."""
        with self._lock:
            yield self._db()
