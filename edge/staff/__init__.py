"""Staff of the edge: accounts, roles and permissions, PINs, passwords, badges, sessions,
lockout, clock-in/out with timesheets, and the append-only audit log.

Nothing runs at import; build a :class:`StaffStore` from a connection and settings.
"""

from typing import Callable

from edge.staff.audit import AuditEntry, AuditLog, audit, ensure_audit_schema, query_audit
from edge.staff.errors import (
    AccountLockedError,
    AuthenticationError,
    BadgeError,
    ClockingError,
    DuplicateStaffError,
    InvalidCredentialError,
    PermissionDeniedError,
    SessionError,
    StaffError,
    StaffNotFoundError,
    UnknownPermissionError,
    UnknownRoleError,
)
from edge.staff.lockout import LockoutPolicy
from edge.staff.roles import DEFAULT_ROLE_PERMISSIONS, PERMISSIONS, Role
from edge.staff.security import HashSettings, badge_payload, parse_badge_payload
from edge.staff.store import SYSTEM, Principal, Session, StaffMember, StaffSettings, StaffStore
from edge.staff.timesheet import Shift, Timesheet, hours_text, timesheet

__all__ = [
    "AccountLockedError", "AuditEntry", "AuditLog", "AuthenticationError", "BadgeError", "ClockingError",
    "DEFAULT_ROLE_PERMISSIONS", "DuplicateStaffError", "HashSettings", "InvalidCredentialError", "LockoutPolicy",
    "PERMISSIONS", "PermissionDeniedError", "Principal", "Role", "SYSTEM", "Session", "SessionError", "Shift",
    "StaffError", "StaffMember", "StaffNotFoundError", "StaffSettings", "StaffStore", "Timesheet",
    "UnknownPermissionError", "UnknownRoleError", "audit", "badge_payload", "ensure_audit_schema", "hours_text",
    "parse_badge_payload", "query_audit", "require_permission", "timesheet",
]


def require_permission(*permissions: str) -> Callable[..., Principal]:
    """FastAPI dependency factory (see :func:`edge.staff.api.require_permission`)."""
    from edge.staff.api import require_permission as _require

    return _require(*permissions)
