"""Roles and permissions: the default table every new edge database starts from.

Pure data and rules (no I/O). The edge database keeps its own copy of the role-permission
table (seeded from :data:`DEFAULT_ROLE_PERMISSIONS`), so an owner can grant or revoke a
permission; every such change is audited by :class:`edge.staff.store.StaffStore`.
"""

from __future__ import annotations

from enum import Enum
from typing import Iterable, Mapping

from edge.staff.errors import UnknownPermissionError, UnknownRoleError

__all__ = [
    "DEFAULT_ROLE_PERMISSIONS",
    "PERMISSIONS",
    "Role",
    "check_permission_name",
    "parse_role",
]


class Role(str, Enum):
    """Staff roles, lowest to highest."""

    ATTENDANT = "attendant"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


#: Every permission name the edge knows, with what it allows (English; the console translates).
PERMISSIONS: Mapping[str, str] = {
    "alarms.ack": "acknowledge a device alarm or assistance request",
    "alarms.silence": "silence an alarm for a while",
    "interventions.approve.age": "approve an age-restricted item at a kiosk",
    "interventions.approve.price_override": "override a price at a kiosk",
    "interventions.approve.weight": "approve a bagging-area weight mismatch",
    "refunds.create": "refund a sale or part of it",
    "members.view": "look members up (phone numbers masked)",
    "members.edit": "enrol members and change their details",
    "members.top_up": "top up a member's stored value",
    "members.points.adjust": "adjust a member's points by hand",
    "members.view_pii": "see members' full phone numbers and e-mail addresses",
    "stock.adjust": "adjust stock, record waste and stocktakes",
    "catalogue.edit": "edit products, prices and barcodes",
    "promotions.edit": "edit promotions and coupons",
    "reports.view": "see sales reports",
    "expenses.edit": "enter and void shop expenses",
    "dayclose.close": "close a business day (Z report)",
    "timesheet.view_all": "see every staff member's timesheet",
    "audit.view": "read the audit log",
    "staff.manage": "create staff accounts, reset PINs and passwords, change roles",
    "permissions.manage": "change which permissions a role has",
}

_ATTENDANT = frozenset(
    {
        "alarms.ack",
        "interventions.approve.age",
        "interventions.approve.weight",
        "members.view",
        "members.edit",
    }
)
_SUPERVISOR = _ATTENDANT | {
    "alarms.silence",
    "interventions.approve.price_override",
    "refunds.create",
    "members.top_up",
    "stock.adjust",
    "reports.view",
}
_MANAGER = _SUPERVISOR | {
    "members.view_pii",
    "members.points.adjust",
    "catalogue.edit",
    "promotions.edit",
    "timesheet.view_all",
    "audit.view",
    "staff.manage",
    "expenses.edit",
    "dayclose.close",
}
_OWNER = frozenset(PERMISSIONS)

DEFAULT_ROLE_PERMISSIONS: Mapping[Role, frozenset[str]] = {
    Role.ATTENDANT: frozenset(_ATTENDANT),
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.MANAGER: frozenset(_MANAGER),
    Role.OWNER: _OWNER,
}


def parse_role(value: str | Role) -> Role:
    """The :class:`Role` named ``value``; :class:`UnknownRoleError` otherwise."""
    if isinstance(value, Role):
        return value
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        raise UnknownRoleError(f"unknown role {value!r}; roles are {[r.value for r in Role]}") from None


def check_permission_name(name: str, known: Iterable[str] = PERMISSIONS) -> str:
    """``name`` if it is a known permission; :class:`UnknownPermissionError` otherwise."""
    if name not in set(known):
        raise UnknownPermissionError(f"unknown permission {name!r}")
    return name
