"""The edge's SQLite store of record: sales, stock moves, HQ outbox, dead letters, alarms."""

from __future__ import annotations

from edge.ledger.store import AlarmEvent, DeadLetter, Ledger, SequenceGap, StockLevel, StoredSale

__all__ = ["AlarmEvent", "DeadLetter", "Ledger", "SequenceGap", "StockLevel", "StoredSale"]
