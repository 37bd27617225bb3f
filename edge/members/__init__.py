"""Members of the edge: records, phone lookup, e-cards, points and stored-value ledgers,
levels, birthday coupons, the win-back list and accrual from the sales ledger.

Nothing runs at import; build a :class:`MemberStore` from a connection and settings.
"""

from edge.members.accrual import AccrualProcessor, AccrualReport
from edge.members.errors import (
    DuplicateMemberError,
    InvalidMemberError,
    InvalidPhoneError,
    MemberCardError,
    MemberNotFoundError,
    MembersError,
)
from edge.members.model import Member, card_payload, kiosk_view, mask_phone, normalise_phone, parse_card_payload
from edge.members.store import BirthdayCoupon, MemberSettings, MemberStore, PointsEntry, StoredValueEntry

__all__ = [
    "AccrualProcessor", "AccrualReport", "BirthdayCoupon", "DuplicateMemberError", "InvalidMemberError",
    "InvalidPhoneError", "Member", "MemberCardError", "MemberNotFoundError", "MemberSettings", "MemberStore",
    "MembersError", "PointsEntry", "StoredValueEntry", "card_payload", "kiosk_view", "mask_phone",
    "normalise_phone", "parse_card_payload",
]
