"""Typed errors of the edge's HQ sync: one root, each also the builtin it resembles."""

from __future__ import annotations

from edge.errors import EdgeError

__all__ = [
    "EnrolmentError",
    "HqAuthError",
    "HqConflictError",
    "HqForbiddenError",
    "HqRequestError",
    "HqSyncClosedError",
    "HqSyncConfigError",
    "HqSyncError",
    "HqUnavailableError",
]


class HqSyncError(EdgeError):
    """Root of every error raised by :mod:`edge.hqsync`."""


class HqSyncConfigError(HqSyncError, ValueError):
    """An HQ sync setting is not valid."""


class HqSyncClosedError(HqSyncError, RuntimeError):
    """The sync (or a client) was used after ``close()``."""


class HqUnavailableError(HqSyncError, ConnectionError):
    """HQ could not be reached or did not answer: connection refused, a timeout, a 5xx, a
    dropped response. Retry later; whatever was sent may or may not have been applied."""


class HqAuthError(HqSyncError, PermissionError):
    """HQ refused the edge's token (401): the token is wrong, expired or revoked."""


class HqForbiddenError(HqSyncError, PermissionError):
    """HQ knows the token but refuses the action (403), e.g. another store's data."""


class HqRequestError(HqSyncError, ValueError):
    """HQ refused the request itself (400, 404, 413, 422): sending it again will not help."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HQ answered {status}: {detail}")
        self.status = status
        self.detail = detail


class HqConflictError(HqRequestError):
    """HQ refused the request because of the state of what it names (409)."""


class EnrolmentError(HqSyncError, RuntimeError):
    """The edge could not enrol with HQ (bad or used code, HQ away)."""
