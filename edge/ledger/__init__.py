"""The edge's SQLite store of record: sales, stock moves, HQ outbox, dead letters, alarms."""

from __future__ import annotations

from edge.ledger.store import AlarmEvent, DeadLetter, Ledger, SaleRows, SequenceGap, StockLevel, StoredSale

__all__ = ["AlarmEvent", "DeadLetter", "Ledger", "SaleRows", "SequenceGap", "StockLevel", "StoredSale"]
