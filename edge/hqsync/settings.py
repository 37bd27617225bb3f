"""Settings of the edge's HQ sync: typed and checked when built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge.hqsync.errors import HqSyncConfigError

__all__ = ["HqSyncSettings"]


@dataclass(frozen=True)
class HqSyncSettings:
    """How the edge talks to HQ.

    ``hq_url``/``token_file``/``ca_file`` are for :func:`edge.hqsync.build_client`; the rest
    steers :class:`edge.hqsync.HqSync`: batch size, how often to push, pull the catalogue
    (``catalogue_interval_s``: a price change at HQ reaches the edge within this) and poll
    transfers, the back-off while HQ is away, how many times a rejected item is retried
    before it is parked, and how long sent rows are kept.
    """

    hq_url: str | None = None
    token_file: Path | None = None
    ca_file: Path | None = None
    timeout_s: float = 30.0
    connect_timeout_s: float = 5.0
    region: str | None = None
    batch_size: int = 500
    push_interval_s: float = 5.0
    catalogue_interval_s: float = 15.0
    transfer_interval_s: float = 60.0
    tick_s: float = 1.0
    backoff_initial_s: float = 2.0
    backoff_max_s: float = 300.0
    reject_attempts: int = 3
    prune_after_days: int = 30
    prune_interval_s: float = 3600.0
    max_batches_per_run: int = 1000

    def __post_init__(self) -> None:
        if self.hq_url is not None and not self.hq_url.startswith(("http://", "https://")):
            raise HqSyncConfigError(f"hq_url must be http(s), not {self.hq_url!r}")
        for name in ("token_file", "ca_file"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, Path(v))
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or not 1 <= self.batch_size <= 2000:
            raise HqSyncConfigError(f"batch_size must be 1..2000 (HQ's limit), not {self.batch_size!r}")
        for name in ("timeout_s", "connect_timeout_s", "push_interval_s", "catalogue_interval_s", "transfer_interval_s",
                     "tick_s", "backoff_initial_s", "backoff_max_s", "prune_interval_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                raise HqSyncConfigError(f"{name} must be a positive number, not {v!r}")
        if self.backoff_max_s < self.backoff_initial_s:
            raise HqSyncConfigError("backoff_max_s must be at least backoff_initial_s")
        for name in ("reject_attempts", "prune_after_days", "max_batches_per_run"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise HqSyncConfigError(f"{name} must be a whole number of at least 1, not {v!r}")
