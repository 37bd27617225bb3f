"""The kiosk's durable sale journal (SQLite): the store of record for every sale it makes."""

from __future__ import annotations

from kiosk.outbox.errors import OutboxClosedError, OutboxError, OutboxIdentityError, OutboxSchemaError
from kiosk.outbox.journal import AckOutcome, JournalEntry, SaleOutbox

__all__ = [
    "AckOutcome",
    "JournalEntry",
    "OutboxClosedError",
    "OutboxError",
    "OutboxIdentityError",
    "OutboxSchemaError",
    "SaleOutbox",
]
