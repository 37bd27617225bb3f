"""What the sync's operations report (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

__all__ = ["CatalogueReport", "Figures", "KioskReconciliation", "ReconciliationReport", "SyncReport", "TransferReport"]

SyncState = Literal["drained", "partial", "unavailable", "backoff", "auth_stopped", "no_token"]


@dataclass
class SyncReport:
    """One :meth:`HqSync.run_once`: how it ended and what HQ answered."""

    state: SyncState
    batches: int = 0
    accepted: int = 0
    duplicate: int = 0
    conflict: int = 0
    rejected: int = 0
    parked: int = 0
    pending: int = 0
    retry_in_s: float = 0.0
    error: str = ""
    batch_ids: list[str] = field(default_factory=list)


@dataclass
class CatalogueReport:
    version: int
    since_version: int
    products: int = 0
    prices: int = 0
    promotions: int = 0
    applied: int = 0
    skipped: list[str] = field(default_factory=list)
    catalogue_version: int | None = None


@dataclass
class TransferReport:
    received: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    told_hq: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class Figures:
    count: int = 0
    total_minor: int = 0
    highest_seq: int = 0


@dataclass(frozen=True)
class KioskReconciliation:
    kiosk_id: str
    edge: Figures
    hq: Figures

    @property
    def agrees(self) -> bool:
        return self.edge == self.hq


@dataclass
class ReconciliationReport:
    """Per kiosk for one business day: the edge's sales against HQ's."""

    business_date: date
    kiosks: list[KioskReconciliation]
    outbox_pending: int

    @property
    def agrees(self) -> bool:
        return all(k.agrees for k in self.kiosks)

    @property
    def mismatches(self) -> list[KioskReconciliation]:
        return [k for k in self.kiosks if not k.agrees]
