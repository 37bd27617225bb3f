"""Typed errors of the members package: one root, each also the builtin it resembles.

Loyalty rule violations (not enough points, stored value too low, top-up above the maximum)
are raised as the rule's own :class:`retail.errors.LoyaltyError` subclasses.
"""

from __future__ import annotations

from edge.errors import EdgeError

__all__ = [
    "DuplicateMemberError",
    "InvalidMemberError",
    "InvalidPhoneError",
    "MemberCardError",
    "MemberNotFoundError",
    "MembersError",
]


class MembersError(EdgeError):
    """Root of every error raised by :mod:`edge.members`."""


class MemberNotFoundError(MembersError, LookupError):
    """No member with that id (or card, or phone)."""


class InvalidMemberError(MembersError, ValueError):
    """Member details that are not valid (empty name, birthday in the future, bad e-mail...)."""


class InvalidPhoneError(InvalidMemberError):
    """A phone number or phone search that is not digits of a sensible length."""


class DuplicateMemberError(MembersError, ValueError):
    """A phone number that another member already has."""


class MemberCardError(MembersError, ValueError):
    """A member e-card QR payload that is malformed or whose check does not match."""
