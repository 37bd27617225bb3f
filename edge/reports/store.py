"""The reports' own read connection to the edge database, for the API (a context manager
with an idempotent ``close()``; thread-safe). The report functions themselves are plain
functions of a connection in :mod:`edge.reports.sales`, :mod:`edge.reports.breakdown` and
:mod:`edge.reports.profit`."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from datetime import date, timezone, tzinfo
from pathlib import Path
from typing import Iterator

from edge.db import connect
from edge.errors import EdgeError
from edge.ledger.migrations import migrate as migrate_ledger
from retail.clock import Clock

__all__ = ["ReportStore", "ReportsClosedError"]


class ReportsClosedError(EdgeError, RuntimeError):
    """The report store was used after ``close()``."""


class ReportStore:
    def __init__(self, path: str | Path, *, clock: Clock, shop_timezone: tzinfo = timezone.utc) -> None:
        self._clock = clock
        self._tz = shop_timezone
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = connect(path)
        try:
            migrate_ledger(self._conn)
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    def __enter__(self) -> ReportStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """The connection, held alone for the duration (autocommit; roll-ups may write)."""
        with self._lock:
            if self._conn is None:
                raise ReportsClosedError("the report store is closed")
            yield self._conn

    def today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()
