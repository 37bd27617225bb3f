"""Typed errors of the operations tooling: one root, each also the builtin it resembles."""

from __future__ import annotations

__all__ = [
    "OpsError",
    "ProvisioningError",
    "PairingError",
    "PairingCodeError",
    "PairingExpiredError",
    "EnrolmentError",
    "EnrolmentRefusedError",
    "HqUnreachableError",
    "BackupError",
    "BackupCorruptError",
    "RestoreError",
    "RestoreTargetNotEmptyError",
    "UpgradeError",
    "HealthCheckError",
]


class OpsError(Exception):
    """Root of every error raised by :mod:`tillpi_ops`."""


class ProvisioningError(OpsError, ValueError):
    """A device cannot be provisioned as asked (bad id, store not set up, bundle in the way ...)."""


class PairingError(OpsError, ValueError):
    """A pairing code or QR payload is not acceptable."""


class PairingCodeError(PairingError):
    """The code or payload is malformed or its HMAC does not match (mistyped or forged)."""


class PairingExpiredError(PairingError):
    """The code was genuine but its validity has passed."""


class EnrolmentError(OpsError, RuntimeError):
    """Enrolling the edge with HQ failed."""


class EnrolmentRefusedError(EnrolmentError, PermissionError):
    """HQ refused the enrolment code (unknown, used or expired)."""


class HqUnreachableError(EnrolmentError, ConnectionError):
    """HQ could not be reached or answered something that is not the enrolment API."""


class BackupError(OpsError, RuntimeError):
    """A backup could not be taken."""


class BackupCorruptError(BackupError, ValueError):
    """A backup's files do not match its manifest (checksum, integrity check, row counts)."""


class RestoreError(OpsError, RuntimeError):
    """A backup could not be restored."""


class RestoreTargetNotEmptyError(RestoreError, FileExistsError):
    """A restore goes only into an empty (or missing) folder, never over live data."""


class UpgradeError(OpsError, RuntimeError):
    """Opening a data folder with this software failed (a migration failed, schema too new ...)."""


class HealthCheckError(OpsError, ValueError):
    """A health check was asked for with a bad argument."""
