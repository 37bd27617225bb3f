"""Engine and sessions, built from settings by :class:`Database` (no module-level engine).

SQLite runs in WAL mode with ``synchronous=FULL`` and foreign keys on; a write transaction
starts with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing halfway.
PostgreSQL runs at READ COMMITTED; idempotency comes from unique keys and ``ON CONFLICT``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from hq.errors import HqConfigError
from hq.settings import Settings

__all__ = ["Database"]

log = logging.getLogger(__name__)

_IMMEDIATE = "tillpi_sqlite_immediate"


def _sqlite_engine(url: str, echo: bool) -> Engine:
    parsed = make_url(url)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy's pysqlite recipe)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """The HQ database: an engine and a session factory. A context manager; ``close()`` is
    idempotent and disposes of the pool."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = settings.database_url
        try:
            self.url = make_url(url)
        except Exception as exc:  # noqa: BLE001 - re-raised typed
            raise HqConfigError(f"not a database URL: {url!r}") from exc
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, settings.sql_echo)
        else:
            self.engine = create_engine(
                url, echo=settings.sql_echo, pool_size=settings.pool_size, max_overflow=settings.pool_size,
                pool_pre_ping=True,
            )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._closed = False

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest migration (``alembic upgrade head``)."""
        from hq.migrations import upgrade_head

        upgrade_head(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session; rolled back at the end unless the caller committed."""
        with self._sessions() as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        with self._sessions() as s:
            if self.is_sqlite:
                s.connection(execution_options={_IMMEDIATE: True})
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
