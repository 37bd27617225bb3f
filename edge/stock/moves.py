"""Writing stock moves into the ledger's ``stock_moves`` table: INSERT only, never UPDATE or
DELETE. On-hand is derived from the moves (see :mod:`edge.stock.service`).

Quantities are signed by their effect on stock: a receipt is positive, waste negative. A
move's ``at`` is its business time (when it happened in the shop), stored as UTC ISO 8601.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from edge.stock.errors import InvalidMoveError

__all__ = ["MOVE_KINDS", "Move", "iso_utc", "record_moves"]

MOVE_KINDS: frozenset[str] = frozenset({"sale", "return", "receipt", "adjustment", "count", "transfer", "waste"})


def iso_utc(at: datetime) -> str:
    """A timezone-aware time as UTC ISO 8601 (the ledger's sortable form)."""
    if at.tzinfo is None:
        raise InvalidMoveError("stock move times must be timezone-aware")
    return at.astimezone(timezone.utc).isoformat()


@dataclass(frozen=True, slots=True)
class Move:
    kind: str
    sku: str
    qty: int = 0
    grams: int = 0
    ref: str = ""
    source: str = "edge"
    at: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind not in MOVE_KINDS:
            raise InvalidMoveError(f"unknown move kind {self.kind!r}; known: {', '.join(sorted(MOVE_KINDS))}")
        if not self.sku:
            raise InvalidMoveError("a move needs a SKU")
        for name in ("qty", "grams"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidMoveError(f"{name} is a whole number, not {value!r}")
        if self.at is None:
            raise InvalidMoveError("a move needs its business time")
        iso_utc(self.at)


def record_moves(db: sqlite3.Connection, moves: Iterable[Move]) -> int:
    """INSERT the moves (inside the caller's transaction); returns how many."""
    rows = [(m.kind, m.sku, m.qty, m.grams, m.ref, m.source, iso_utc(m.at)) for m in moves if m.at is not None]
    db.executemany("INSERT INTO stock_moves (kind, sku, qty, grams, ref, source, at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)
