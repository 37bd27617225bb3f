"""The receipt spool: every receipt is kept until it has printed, so none is lost.

SQLite (WAL, ``synchronous=FULL``) keyed by sale id. The printer adapters keep a receipt here
*before* they try to print it and mark it printed after; a receipt whose print failed (paper
out, cover open, offline, an exception) stays pending and can be reprinted.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.devices.printer.errors import ReceiptNotFoundError, SpoolError
from kiosk.receipt.data import ReceiptData
from retail.clock import Clock, SystemClock

if TYPE_CHECKING:
    from kiosk.devices.printer.port import ReceiptPrinter
    from kiosk.devices.printer.status import PrintResult

__all__ = ["ReceiptSpool", "SpooledReceipt"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS receipts (
    sale_id    TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    kept_at    TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    printed_at TEXT
);
CREATE INDEX IF NOT EXISTS receipts_pending ON receipts (printed_at);
"""


@dataclass(frozen=True, slots=True)
class SpooledReceipt:
    sale_id: str
    kept_at: datetime
    attempts: int
    last_error: str
    printed_at: datetime | None


class ReceiptSpool:
    """Receipts by sale id. ``path=":memory:"`` (the default) keeps them for the process only."""

    def __init__(self, path: str | Path = ":memory:", *, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._closed = False
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            if str(path) != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise SpoolError(f"cannot open the receipt spool {path}: {exc}") from exc

    # -- resource -----------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    def __enter__(self) -> ReceiptSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _exec(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            if self._closed:
                raise SpoolError("the receipt spool is closed")
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise SpoolError(f"receipt spool: {exc}") from exc

    # -- keeping ------------------------------------------------------------------------------
    def keep(self, data: ReceiptData) -> None:
        """Keep ``data`` until printed. Keeping the same sale again changes nothing."""
        body = json.dumps(data.to_dict(), ensure_ascii=False, sort_keys=True)
        self._exec(
            "INSERT OR IGNORE INTO receipts (sale_id, body, kept_at) VALUES (?, ?, ?)",
            (data.sale_id, body, self._clock.now().isoformat()),
        )

    def get(self, sale_id: str) -> ReceiptData:
        rows = self._exec("SELECT body FROM receipts WHERE sale_id = ?", (sale_id,))
        if not rows:
            raise ReceiptNotFoundError(sale_id)
        return ReceiptData.from_dict(json.loads(str(rows[0][0])))

    def __contains__(self, sale_id: object) -> bool:
        return bool(self._exec("SELECT 1 FROM receipts WHERE sale_id = ?", (str(sale_id),)))

    def info(self, sale_id: str) -> SpooledReceipt:
        rows = self._exec(
            "SELECT sale_id, kept_at, attempts, last_error, printed_at FROM receipts WHERE sale_id = ?",
            (sale_id,),
        )
        if not rows:
            raise ReceiptNotFoundError(sale_id)
        return _row(rows[0])

    def pending(self) -> list[SpooledReceipt]:
        """Receipts not printed yet, oldest first."""
        rows = self._exec(
            "SELECT sale_id, kept_at, attempts, last_error, printed_at FROM receipts "
            "WHERE printed_at IS NULL ORDER BY rowid"
        )
        return [_row(r) for r in rows]

    def mark_attempt(self, sale_id: str) -> int:
        """Count one print attempt; returns the attempts so far."""
        self._exec("UPDATE receipts SET attempts = attempts + 1 WHERE sale_id = ?", (sale_id,))
        return self.info(sale_id).attempts

    def mark_failed(self, sale_id: str, error: str) -> None:
        """Record a failed print; the receipt is pending again (even if it printed before)."""
        self._exec("UPDATE receipts SET last_error = ?, printed_at = NULL WHERE sale_id = ?", (error, sale_id))

    def mark_printed(self, sale_id: str) -> None:
        if sale_id not in self:
            raise ReceiptNotFoundError(sale_id)
        self._exec(
            "UPDATE receipts SET printed_at = ?, last_error = '' WHERE sale_id = ?",
            (self._clock.now().isoformat(), sale_id),
        )

    def purge_printed(self, before: datetime) -> int:
        """Forget printed receipts printed before ``before``; returns how many."""
        rows = self._exec(
            "DELETE FROM receipts WHERE printed_at IS NOT NULL AND printed_at < ? RETURNING sale_id",
            (before.isoformat(),),
        )
        return len(rows)

    # -- reprinting ---------------------------------------------------------------------------
    def reprint(self, sale_id: str, printer: ReceiptPrinter) -> PrintResult:
        """Print the kept receipt ``sale_id`` again (pending or already printed)."""
        data = self.get(sale_id)
        result = printer.print_receipt(data)
        self.mark_printed(sale_id)
        return result

    def reprint_pending(self, printer: ReceiptPrinter) -> list[PrintResult]:
        """Print every pending receipt, oldest first; stops at the first failure (raised)."""
        results = []
        for item in self.pending():
            results.append(self.reprint(item.sale_id, printer))
        return results


def _row(r: tuple[object, ...]) -> SpooledReceipt:
    printed = r[4]
    return SpooledReceipt(
        sale_id=str(r[0]),
        kept_at=datetime.fromisoformat(str(r[1])),
        attempts=int(r[2]),  # type: ignore[call-overload]
        last_error=str(r[3]),
        printed_at=None if printed is None else datetime.fromisoformat(str(printed)),
    )
