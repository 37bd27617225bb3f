"""The edge's link to head office: push the HQ outbox exactly once, pull the catalogue and
prices, move transfers, reconcile, enrol.

* :class:`HqSync` — the sync over the ledger database (``run_once``, ``tick``, ``start``/``close``).
* :class:`HqClient` — the port; :class:`HttpHqClient` (httpx) and :class:`SimulatedHqClient`
  (an in-memory HQ, a simulator) implement it.
* :func:`enrol` — trade an enrolment code for the edge's token (stored 0600 in the data folder).
* :func:`build_client` — the HTTP client from :class:`HqSyncSettings`.
"""

from __future__ import annotations

from pathlib import Path

from edge.hqsync.client import BatchResult, HqClient, HttpHqClient, ItemResult, ReconciliationRow
from edge.hqsync.errors import (
    EnrolmentError,
    HqAuthError,
    HqConflictError,
    HqForbiddenError,
    HqRequestError,
    HqSyncClosedError,
    HqSyncConfigError,
    HqSyncError,
    HqUnavailableError,
)
from edge.hqsync.reports import CatalogueReport, Figures, KioskReconciliation, ReconciliationReport, SyncReport, TransferReport
from edge.hqsync.settings import HqSyncSettings
from edge.hqsync.simulated import SimulatedHq, SimulatedHqClient
from edge.hqsync.sync import HqSync
from edge.hqsync.tokens import TOKEN_FILE_NAME, TokenFile, enrol

__all__ = [
    "TOKEN_FILE_NAME",
    "BatchResult",
    "CatalogueReport",
    "EnrolmentError",
    "Figures",
    "HqAuthError",
    "HqClient",
    "HqConflictError",
    "HqForbiddenError",
    "HqRequestError",
    "HqSync",
    "HqSyncClosedError",
    "HqSyncConfigError",
    "HqSyncError",
    "HqSyncSettings",
    "HqUnavailableError",
    "HttpHqClient",
    "ItemResult",
    "KioskReconciliation",
    "ReconciliationReport",
    "ReconciliationRow",
    "SimulatedHq",
    "SimulatedHqClient",
    "SyncReport",
    "TokenFile",
    "TransferReport",
    "build_client",
    "enrol",
]


def build_client(settings: HqSyncSettings, *, data_dir: str | Path | None = None) -> HttpHqClient:
    """The HTTP client from settings: ``token_file`` or ``data_dir/hq_token``."""
    if settings.hq_url is None:
        raise HqSyncConfigError("hq_url is not set")
    token_file = settings.token_file or (Path(data_dir) / TOKEN_FILE_NAME if data_dir is not None else None)
    if token_file is None:
        raise HqSyncConfigError("set token_file or give the data folder")
    return HttpHqClient(settings.hq_url, token_file=token_file, ca_file=settings.ca_file, timeout_s=settings.timeout_s,
                        connect_timeout_s=settings.connect_timeout_s)
