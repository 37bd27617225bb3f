"""Typed errors of the staff package: one root, each also the builtin it resembles."""

from __future__ import annotations

from edge.errors import EdgeError

__all__ = [
    "AccountLockedError",
    "AuthenticationError",
    "BadgeError",
    "ClockingError",
    "DuplicateStaffError",
    "InvalidCredentialError",
    "PermissionDeniedError",
    "SessionError",
    "StaffError",
    "StaffNotFoundError",
    "UnknownPermissionError",
    "UnknownRoleError",
]


class StaffError(EdgeError):
    """Root of every error raised by :mod:`edge.staff`."""


class StaffNotFoundError(StaffError, LookupError):
    """No staff account with that id or username."""


class DuplicateStaffError(StaffError, ValueError):
    """A username that another account already uses."""


class UnknownRoleError(StaffError, ValueError):
    """A role name that is not one of attendant, supervisor, manager, owner."""


class UnknownPermissionError(StaffError, ValueError):
    """A permission name that the permission table does not hold."""


class InvalidCredentialError(StaffError, ValueError):
    """A PIN or password that does not meet the rules (PIN 4-8 digits, password length)."""


class AuthenticationError(StaffError, PermissionError):
    """Wrong PIN, password, badge or session: who is asking could not be established."""


class AccountLockedError(AuthenticationError):
    """Too many failed attempts; the account is locked until ``locked_until``."""

    def __init__(self, message: str, locked_until: object = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


class SessionError(AuthenticationError):
    """A console session token that is unknown, expired or logged out."""


class BadgeError(AuthenticationError, ValueError):
    """A staff QR badge payload that is malformed, forged or revoked."""


class PermissionDeniedError(StaffError, PermissionError):
    """The staff member is known but their role lacks the permission."""


class ClockingError(StaffError, RuntimeError):
    """Clock-in while already clocked in, or clock-out while not clocked in."""
