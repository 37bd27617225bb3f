"""The reports' own read connection to the edge database, for the API (a context manager
with an idempotent ``close()``; thread-safe). The report functions themselves are plain
functions of a connection in :mod:`edge.reports.sales`, :mod:`edge.reports.breakdown` and
:mod:`edge.reports.profit`."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from datetime import date, timezone, tzinfo
from pathlib import Path

from edge.db import SqliteComponent
from edge.errors import EdgeError
from edge.ledger.migrations import migrate as migrate_ledger
from retail.clock import Clock

__all__ = ["ReportStore", "ReportsClosedError"]


class ReportsClosedError(EdgeError, RuntimeError):
    """The report store was used after ``close()``."""


class ReportStore(SqliteComponent):
    _closed_error = ReportsClosedError
    _closed_message = "the report store is closed"

    def __init__(self, path: str | Path, *, clock: Clock, shop_timezone: tzinfo = timezone.utc) -> None:
        self._clock = clock
        self._tz = shop_timezone
        super().__init__(path, migrations=migrate_ledger)

    def connection(self) -> AbstractContextManager[sqlite3.Connection]:
        """The connection, held alone for the duration (autocommit; roll-ups may write)."""
        return self._reading()

    def today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()
