"""The self-checkout engine: a state machine driven by events, returning effects.

Import from here: the engine, its settings and snapshot, events and effects
(:mod:`kiosk.checkout.model`), the finished sale, the staff and member ports with their
simulators, the weight learner and the suspend tokens.
"""

from kiosk.checkout.engine import (
    ACCEPTS,
    COUPON_PREFIX,
    DEFAULT_APPROVAL_ROLES,
    RACY,
    TRANSITIONS,
    AttendantRequest,
    BaggingView,
    CheckoutEngine,
    CheckoutLine,
    CheckoutSettings,
    CheckoutSnapshot,
    PendingPayment,
    WeighingView,
)
from kiosk.checkout.errors import (
    CheckoutError,
    CheckoutInputError,
    DirectoryUnavailableError,
    IllegalEventError,
    SuspendTokenError,
    UnknownLineError,
    WeightLearnerError,
)
from kiosk.checkout.members import MEMBER_PREFIX, Member, MemberDirectory, SimulatedMemberDirectory, mask_phone
from kiosk.checkout.model import ApprovalMethod, AttendantReason, CheckoutState, LaneLight, ReceiptChoice
from kiosk.checkout.sale import Approval, FinishedSale, SaleLine, SalePayment, TaxLine
from kiosk.checkout.staff import STAFF_PREFIX, Role, SimulatedStaffDirectory, StaffDirectory, StaffMember
from kiosk.checkout.suspend import SUSPEND_PREFIX, SuspendedBasket, SuspendedLine, decode_suspended, encode_suspended
from kiosk.checkout.weights import WeightExpectation, WeightLearner, WeightStats

__all__ = [
    "ACCEPTS", "COUPON_PREFIX", "DEFAULT_APPROVAL_ROLES", "MEMBER_PREFIX", "RACY", "STAFF_PREFIX",
    "SUSPEND_PREFIX", "TRANSITIONS", "Approval", "ApprovalMethod", "AttendantReason",
    "AttendantRequest", "BaggingView", "CheckoutEngine", "CheckoutError", "CheckoutInputError",
    "CheckoutLine", "CheckoutSettings", "CheckoutSnapshot", "CheckoutState",
    "DirectoryUnavailableError", "FinishedSale", "IllegalEventError", "LaneLight", "Member",
    "MemberDirectory", "PendingPayment", "ReceiptChoice", "Role", "SaleLine", "SalePayment",
    "SimulatedMemberDirectory", "SimulatedStaffDirectory", "StaffDirectory", "StaffMember",
    "SuspendTokenError", "SuspendedBasket", "SuspendedLine", "TaxLine", "UnknownLineError",
    "WeighingView", "WeightExpectation", "WeightLearner", "WeightLearnerError", "WeightStats",
    "decode_suspended", "encode_suspended", "mask_phone",
]
