"""The self-checkout engine: a state machine driven by events, returning effects.

Nothing here touches a device, a screen or the network. The composition root feeds events
(touches, scans, scale readings, approvals, payment results, clock ticks) into
:meth:`CheckoutEngine.handle`, which returns the **effects** to carry out (beep, flash, light,
drawer, printer, QR, payment requests, help requests, the finished sale to journal). Observers
registered with :meth:`CheckoutEngine.subscribe` get a :class:`CheckoutSnapshot` after every
event, synchronously on the caller's thread (the UI hands over to its main thread).

States and transitions
----------------------
All transitions are listed in :data:`TRANSITIONS` and made by one method (``_go``), which
refuses any other. Which events each state accepts is :data:`ACCEPTS`.

An event the current state does not accept:

* is **ignored** (logged, with a ``ShowMessage("not_now")`` effect) when it is a touch or a
  scan that a screen lagging behind a state change can send — the types in :data:`RACY`;
* raises :class:`~kiosk.checkout.errors.IllegalEventError` otherwise (``CashTendered``
  without an open cash session, ``RequestPriceOverride`` outside scanning): those come from
  staff flows or code, where a wrong state is a bug.

Events accepted in every state: ``ChooseLanguage``, ``Scan`` (sorted out inside: a staff badge
works anywhere), ``ProduceReading``, ``BagReading``, ``RequestHelp``, ``ApprovePin``,
``ApproveRemote``, ``PaymentResult``, ``PaymentQrReady``, ``EdgeStatus``, ``Tick``.

Help
----
A shopper's help request is a flag on top of any state (it never blocks a payment in flight):
it publishes a help request and turns the light to assistance until an attendant
acknowledges it (PIN, badge or remote approval), which goes into the sale's approvals.

Bagging
-------
After each item the bagging scale must grow by the item's expected weight (learnt per SKU by
:class:`~kiosk.checkout.weights.WeightLearner`, else the catalogue's ``unit_weight_g``) within
tolerance. Only stable readings count. Weight added with no scan, weight taken away, a wrong
weight, or nothing placed within ``bagging_timeout_s`` pause the lane for an attendant; putting
things right on the scale clears the pause by itself. Removing a bagged line asks the shopper
to take it off the scale.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone, tzinfo
from enum import Enum
from typing import Any, Callable, Mapping

from kiosk.catalogue_replica import CatalogueReplica
from kiosk.checkout.errors import (
    CheckoutInputError,
    DirectoryUnavailableError,
    IllegalEventError,
    SuspendTokenError,
    UnknownLineError,
)
from kiosk.checkout.members import MEMBER_PREFIX, Member, MemberDirectory, mask_phone
from kiosk.checkout.model import (
    ApprovalMethod,
    ApprovalRefused,
    ApprovePin,
    ApproveRemote,
    AttendantReason,
    BackToScanning,
    BagReading,
    BasketSuspended,
    Beep,
    CancelCardPayment,
    CancelPayment,
    CancelQrPayment,
    CancelTransaction,
    CancelWeighing,
    CashTendered,
    ChangeQuantity,
    CheckoutState,
    ChooseLanguage,
    ChooseReceipt,
    ClearMember,
    CloseLookup,
    ConfirmWeight,
    EdgeStatus,
    Effect,
    EnterCoupon,
    EnterPhone,
    Event,
    Flash,
    LaneLight,
    OpenDrawer,
    OpenLookup,
    Pay,
    PayByCard,
    PayByCash,
    PayByPoints,
    PayByQr,
    PayByStoredValue,
    PaymentQrReady,
    PrintReceipt,
    ProduceReading,
    PublishHelpCleared,
    PublishHelpRequest,
    ReceiptChoice,
    RemoveLine,
    RequestHelp,
    RequestPriceOverride,
    RequestQrPayment,
    RequestSkipBagging,
    SaleFinished,
    Scan,
    SelectItem,
    SetLight,
    ShowMessage,
    ShowQr,
    Start,
    StartCardPayment,
    Suspend,
    TareProduceScale,
    Tick,
    TransactionCancelled,
)
from kiosk.checkout.sale import Approval, FinishedSale, SaleLine, SalePayment, TaxLine
from kiosk.checkout.staff import Role, StaffDirectory, StaffMember, parse_staff_badge
from kiosk.checkout.suspend import (
    SUSPEND_PREFIX,
    SuspendedBasket,
    SuspendedLine,
    decode_suspended,
    encode_suspended,
)
from kiosk.checkout.weights import WeightExpectation, WeightLearner
from kiosk.payments.model import PaymentOutcome, PaymentRequest, PaymentResult, Tender, new_payment_id
from retail.barcodes import (
    DEFAULT_VARIABLE_MEASURE_RULES,
    GtinCode,
    Gs1Code,
    OtherCode,
    VariableMeasureCode,
    VariableMeasureRules,
    format_gtin,
    parse_scan,
)
from retail.basket import Basket, BasketLine, LineKind
from retail.catalogue import CatalogueItem
from retail.clock import Clock
from retail.errors import BarcodeError, BasketError, LoyaltyError
from retail.loyalty import LoyaltyProgram, redeem_points, spend_stored_value
from retail.money import CashRounding, Money
from retail.pricing import MemberContext, PricedBasket, price_basket
from retail.promotions import PromotionSet
from retail.tax import TaxMode

__all__ = [
    "ACCEPTS",
    "COUPON_PREFIX",
    "DEFAULT_APPROVAL_ROLES",
    "RACY",
    "TRANSITIONS",
    "AttendantRequest",
    "BaggingView",
    "CheckoutEngine",
    "CheckoutLine",
    "CheckoutSettings",
    "CheckoutSnapshot",
    "PendingPayment",
    "WeighingView",
]

log = logging.getLogger(__name__)

COUPON_PREFIX = "TILLPI-COUPON:"

S = CheckoutState
_ALL = frozenset(S)
_SHOPPING = frozenset({S.SCANNING, S.LOOKING_UP, S.WEIGHING, S.WAITING_FOR_BAGGING})

TRANSITIONS: Mapping[CheckoutState, frozenset[CheckoutState]] = {
    S.WELCOME: frozenset({S.SCANNING, S.LOOKING_UP, S.NEEDS_ATTENDANT, S.WAITING_FOR_BAGGING, S.WEIGHING}),
    S.SCANNING: frozenset(
        {S.LOOKING_UP, S.WEIGHING, S.WAITING_FOR_BAGGING, S.NEEDS_ATTENDANT, S.PAYING, S.THANK_YOU, S.WELCOME}
    ),
    S.LOOKING_UP: frozenset({S.SCANNING, S.WEIGHING, S.WAITING_FOR_BAGGING, S.NEEDS_ATTENDANT, S.WELCOME}),
    S.WEIGHING: frozenset({S.LOOKING_UP, S.SCANNING, S.WAITING_FOR_BAGGING, S.NEEDS_ATTENDANT, S.WELCOME}),
    S.WAITING_FOR_BAGGING: frozenset({S.SCANNING, S.NEEDS_ATTENDANT, S.WELCOME}),
    S.NEEDS_ATTENDANT: frozenset({S.SCANNING, S.WAITING_FOR_BAGGING, S.LOOKING_UP, S.WEIGHING, S.PAYING, S.WELCOME}),
    S.PAYING: frozenset({S.SCANNING, S.NEEDS_ATTENDANT, S.RECEIPT, S.WELCOME}),
    S.RECEIPT: frozenset({S.THANK_YOU}),
    S.THANK_YOU: frozenset({S.WELCOME}),
}
"""Every allowed state change; ``_go`` refuses any other."""

ACCEPTS: Mapping[type, frozenset[CheckoutState]] = {
    ChooseLanguage: _ALL,
    Start: frozenset({S.WELCOME, S.THANK_YOU}),
    Scan: _ALL,
    OpenLookup: frozenset({S.WELCOME, S.SCANNING}),
    CloseLookup: frozenset({S.LOOKING_UP, S.WEIGHING}),
    SelectItem: frozenset({S.SCANNING, S.LOOKING_UP}),
    ProduceReading: _ALL,
    TareProduceScale: frozenset({S.WEIGHING}),
    ConfirmWeight: frozenset({S.WEIGHING}),
    CancelWeighing: frozenset({S.WEIGHING}),
    BagReading: _ALL,
    ChangeQuantity: frozenset({S.SCANNING}),
    RemoveLine: frozenset({S.SCANNING, S.WAITING_FOR_BAGGING}),
    RequestSkipBagging: frozenset({S.WAITING_FOR_BAGGING}),
    RequestPriceOverride: frozenset({S.SCANNING}),
    EnterPhone: frozenset({S.WELCOME, S.SCANNING, S.LOOKING_UP, S.PAYING}),
    ClearMember: frozenset({S.SCANNING, S.LOOKING_UP, S.PAYING}),
    EnterCoupon: frozenset({S.SCANNING, S.LOOKING_UP, S.PAYING}),
    CancelTransaction: _SHOPPING | {S.PAYING},
    Suspend: frozenset({S.SCANNING}),
    RequestHelp: _ALL,
    Pay: frozenset({S.SCANNING}),
    BackToScanning: frozenset({S.PAYING}),
    PayByCard: frozenset({S.PAYING}),
    PayByQr: frozenset({S.PAYING}),
    PayByStoredValue: frozenset({S.PAYING}),
    PayByPoints: frozenset({S.PAYING}),
    PayByCash: frozenset({S.PAYING}),
    CashTendered: frozenset({S.PAYING}),
    PaymentQrReady: _ALL,
    PaymentResult: _ALL,
    CancelPayment: frozenset({S.PAYING}),
    ChooseReceipt: frozenset({S.RECEIPT}),
    ApprovePin: _ALL,
    ApproveRemote: _ALL,
    EdgeStatus: _ALL,
    Tick: _ALL,
}
"""Which states accept each event type."""

RACY: frozenset[type] = frozenset(
    {
        Start, OpenLookup, CloseLookup, SelectItem, TareProduceScale, ConfirmWeight, CancelWeighing,
        ChangeQuantity, RemoveLine, RequestSkipBagging, EnterPhone, ClearMember, EnterCoupon,
        CancelTransaction, Suspend, Pay, BackToScanning, PayByCard, PayByQr, PayByStoredValue,
        PayByPoints, PayByCash, CancelPayment, ChooseReceipt,
    }
)
"""Touch events ignored (not refused) in a state that does not take them."""

DEFAULT_APPROVAL_ROLES: Mapping[AttendantReason, Role] = {
    AttendantReason.AGE_RESTRICTED: Role.ATTENDANT,
    AttendantReason.VOID_ITEM: Role.ATTENDANT,
    AttendantReason.CANCEL_TRANSACTION: Role.ATTENDANT,
    AttendantReason.PRICE_OVERRIDE: Role.SUPERVISOR,
    AttendantReason.UNEXPECTED_ITEM: Role.ATTENDANT,
    AttendantReason.ITEM_REMOVED: Role.ATTENDANT,
    AttendantReason.BAGGING_MISMATCH: Role.ATTENDANT,
    AttendantReason.BAGGING_TIMEOUT: Role.ATTENDANT,
    AttendantReason.SKIP_BAGGING: Role.ATTENDANT,
    AttendantReason.CASH_PAYMENT: Role.ATTENDANT,
    AttendantReason.HELP: Role.ATTENDANT,
}


@dataclass(frozen=True)
class CheckoutSettings:
    """A lane's checkout settings (validated by the composition root's settings)."""

    store_id: str = "store-1"
    lane_id: str = "lane-1"
    currency: str = "CNY"
    default_language: str = "en"
    languages: tuple[str, ...] = ("en", "zh_CN")
    bagging_enabled: bool = True
    bagging_timeout_s: float = 15.0
    bag_noise_g: int = 10
    min_bag_weight_g: int = 5
    void_needs_approval: bool = True
    receipt_timeout_s: float = 30.0
    thank_you_s: float = 5.0
    qr_display_s: float = 30.0
    default_receipt: ReceiptChoice = ReceiptChoice.NONE
    cash_rounding: CashRounding = CashRounding.NONE
    approval_roles: Mapping[AttendantReason, Role] = field(default_factory=lambda: dict(DEFAULT_APPROVAL_ROLES))
    tax_mode: TaxMode = TaxMode.INCLUSIVE
    local_tz: tzinfo = timezone.utc
    suspend_max_age_s: float = 24 * 3600.0
    e_receipt_url: str = "https://receipts.tillpi.invalid/r/"

    def __post_init__(self) -> None:
        Money.zero(self.currency)
        if self.default_language not in self.languages:
            raise CheckoutInputError(f"default language {self.default_language!r} is not among {self.languages}")
        for name in ("bagging_timeout_s", "receipt_timeout_s", "thank_you_s", "qr_display_s", "suspend_max_age_s"):
            if getattr(self, name) <= 0:
                raise CheckoutInputError(f"{name} must be positive")
        if self.bag_noise_g < 0 or self.min_bag_weight_g < 1:
            raise CheckoutInputError("bag_noise_g must be ≥ 0 and min_bag_weight_g ≥ 1")

    def role_for(self, reason: AttendantReason) -> Role:
        return self.approval_roles.get(reason, DEFAULT_APPROVAL_ROLES[reason])


# ============================================================================================
# What observers see
# ============================================================================================


@dataclass(frozen=True, slots=True)
class AttendantRequest:
    request_id: str
    reason: AttendantReason
    required_role: Role
    requested_at: datetime
    line_id: str | None = None
    sku: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CheckoutLine:
    """One active basket line as priced, for the screen."""

    line_id: str
    sku: str
    name_en: str
    name_zh: str
    kind: LineKind
    quantity: int
    weight_g: int | None
    unit_price: Money
    gross: Money
    savings: Money
    payable: Money
    saving_names: tuple[tuple[str, str, Money], ...]  # (name_en, name_zh, amount)
    bagging: str
    age_restricted: bool
    price_override: bool

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class WeighingView:
    sku: str
    name_en: str
    name_zh: str
    price_per_kg: Money
    gross_g: int
    tare_g: int
    net_g: int
    stable: bool
    price: Money | None  # None until a stable weight > 0

    @property
    def acceptable(self) -> bool:
        return self.stable and self.net_g > 0


@dataclass(frozen=True, slots=True)
class BaggingView:
    line_id: str
    expected_g: int | None  # None: any weight is accepted (and learnt)
    tolerance_g: int
    removing: bool  # True when the shopper must take the item off
    seconds_left: float  # whole seconds left before an attendant is called, rounded up


@dataclass(frozen=True, slots=True)
class PendingPayment:
    payment_id: str
    tender: Tender
    amount: Money
    provider: str = ""


@dataclass(frozen=True, slots=True)
class CheckoutSnapshot:
    """Everything a screen binds to, in one immutable value."""

    state: CheckoutState
    language: str
    lines: tuple[CheckoutLine, ...]
    subtotal: Money
    savings: Money
    total: Money
    item_count: int
    last_line_id: str | None
    request: AttendantRequest | None
    member: Member | None
    member_phone_masked: str | None
    coupons: tuple[str, ...]
    sale_id: str | None
    amount_due: Money | None
    paid: Money
    change: Money
    payments: tuple[SalePayment, ...]
    pending_payment: PendingPayment | None
    cash_drawer_open: bool
    qr: ShowQr | None
    weighing: WeighingView | None
    bagging: BaggingView | None
    help_requested: bool
    edge_online: bool
    message: ShowMessage | None
    finished_sale: FinishedSale | None
    suspend_token: str | None
    catalogue_version: str

    @property
    def reason(self) -> AttendantReason | None:
        return self.request.reason if self.request else None


# ============================================================================================
# Internal records
# ============================================================================================


class _Bag(str, Enum):
    PENDING = "pending"
    BAGGED = "bagged"
    SKIPPED = "skipped"
    NOT_CHECKED = "not_checked"


@dataclass
class _LineInfo:
    gtin: str | None = None
    bag: _Bag = _Bag.PENDING
    bagged_g: int = 0
    bagged_pieces: int = 0
    override: bool = False
    original: BasketLine | None = None  # the line a price override replaced
    carried: bool = False  # resumed from a suspended basket


@dataclass
class _Expect:
    line_id: str
    sku: str
    pieces: int
    grams: int | None
    tolerance_g: int
    started: float
    learn: bool
    removing: bool = False


@dataclass
class _Weighing:
    item: CatalogueItem
    tare_g: int = 0
    gtin: str | None = None


@dataclass
class _Payment:
    payment_id: str
    tender: Tender
    amount: Money
    status: PaymentOutcome | None  # None while pending
    at: datetime
    provider: str = ""
    reference: str = ""
    tendered: Money | None = None
    change: Money | None = None
    points: int | None = None


@dataclass
class _Pending:
    request: AttendantRequest
    resume: CheckoutState
    on_approve: Callable[[Approval], None]
    on_deny: Callable[[Approval], None] | None  # None: the request cannot be refused
    action: str


# ============================================================================================
# The engine
# ============================================================================================


class CheckoutEngine:
    """One lane's checkout (see the module docstring).

    ``suspend_secret`` is the store's HMAC key for suspended baskets (≥ 16 bytes, from the
    settings, never the repository). ``loyalty`` enables points as a tender.
    """

    def __init__(
        self,
        catalogue: CatalogueReplica,
        *,
        clock: Clock,
        members: MemberDirectory,
        staff: StaffDirectory,
        suspend_secret: bytes,
        promotions: PromotionSet | None = None,
        settings: CheckoutSettings | None = None,
        learner: WeightLearner | None = None,
        loyalty: LoyaltyProgram | None = None,
        variable_measure_rules: VariableMeasureRules | None = None,
    ) -> None:
        self._settings = settings or CheckoutSettings()
        if catalogue.currency not in (None, self._settings.currency):
            raise CheckoutInputError(f"catalogue in {catalogue.currency}, the lane sells in {self._settings.currency}")
        if len(suspend_secret) < 16:
            raise CheckoutInputError("the suspend secret must be at least 16 bytes")
        self._catalogue = catalogue
        self._promotions = promotions
        self._clock = clock
        self._members = members
        self._staff = staff
        self._secret = bytes(suspend_secret)
        self._learner = learner or WeightLearner()
        self._loyalty = loyalty
        self._rules = variable_measure_rules or DEFAULT_VARIABLE_MEASURE_RULES
        self._lock = threading.RLock()
        self._subscribers: list[Callable[[CheckoutSnapshot], None]] = []
        self._effect_listeners: list[Callable[[tuple[Effect, ...]], None]] = []
        self._out: list[Effect] = []
        self._edge_online = True
        self._light = LaneLight.IDLE
        self._bag_baseline: int | None = None
        self._bag_last: BagReading | None = None
        self._produce_last: ProduceReading | None = None
        self._help_request_id: str | None = None
        self._state = S.WELCOME
        self._reset_session()

    # -- public surface ----------------------------------------------------------------------------
    @property
    def state(self) -> CheckoutState:
        return self._state

    @property
    def language(self) -> str:
        return self._language

    @property
    def edge_online(self) -> bool:
        return self._edge_online

    @property
    def learner(self) -> WeightLearner:
        return self._learner

    @property
    def catalogue(self) -> CatalogueReplica:
        return self._catalogue

    @property
    def priced(self) -> PricedBasket:
        return self._priced

    def search(self, text: str, *, limit: int = 50) -> tuple[CatalogueItem, ...]:
        """Lookup-screen search (English, Chinese, pinyin initials, PLU)."""
        return self._catalogue.search(text, limit=limit)

    def set_catalogue(self, catalogue: CatalogueReplica, promotions: PromotionSet | None = None) -> None:
        """Swap in a new catalogue version; only between shoppers (in the welcome state)."""
        with self._lock:
            if self._state is not S.WELCOME:
                raise IllegalEventError("the catalogue changes only between shoppers (welcome state)")
            if catalogue.currency not in (None, self._settings.currency):
                raise CheckoutInputError(f"catalogue in {catalogue.currency}, the lane sells in {self._settings.currency}")
            self._catalogue = catalogue
            self._promotions = promotions
            self._reset_session()

    def subscribe(self, callback: Callable[[CheckoutSnapshot], None]) -> Callable[[], None]:
        """Call ``callback(snapshot)`` after every event, on the thread that sent the event."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def on_effects(self, callback: Callable[[tuple[Effect, ...]], None]) -> Callable[[], None]:
        """Call ``callback(effects)`` after every event that produced effects (the root's wiring)."""
        with self._lock:
            self._effect_listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._effect_listeners:
                    self._effect_listeners.remove(callback)

        return unsubscribe

    def tick(self) -> tuple[Effect, ...]:
        return self.handle(Tick())

    def handle(self, event: Event) -> tuple[Effect, ...]:
        """Process one event; returns the effects to carry out (also sent to ``on_effects``)."""
        handler = self._HANDLERS.get(type(event))
        if handler is None:
            raise CheckoutInputError(f"not a checkout event: {event!r}")
        with self._lock:
            self._out = []
            self._check_timeouts()
            if self._state not in ACCEPTS[type(event)]:
                if type(event) in RACY:
                    log.info("ignored %s in state %s", type(event).__name__, self._state.value)
                    self._message("not_now", type(event).__name__)
                else:
                    raise IllegalEventError(f"{type(event).__name__} is not accepted in state {self._state.value}")
            else:
                handler(self, event)
            self._update_light()
            effects = tuple(self._out)
            self._out = []
            subscribers = list(self._subscribers)
            listeners = list(self._effect_listeners)
            snap = self._snapshot() if subscribers else None
        for callback in subscribers:
            callback(snap)  # type: ignore[arg-type]
        if effects:
            for listener in listeners:
                listener(effects)
        return effects

    def snapshot(self) -> CheckoutSnapshot:
        with self._lock:
            return self._snapshot()

    # -- session ----------------------------------------------------------------------------------
    def _reset_session(self) -> None:
        s = self._settings
        self._language = s.default_language
        self._basket = Basket(s.currency)
        self._info: dict[str, _LineInfo] = {}
        self._priced = price_basket(self._basket, self._promotions, at=self._local_now(), tax_mode=s.tax_mode)
        self._member: Member | None = None
        self._coupons: list[str] = []
        self._sale_id: str | None = None
        self._started_at: datetime | None = None
        self._finalised_at: datetime | None = None
        self._payments: dict[str, _Payment] = {}
        self._pending_payment: str | None = None
        self._cash_open = False
        self._cash_rounding = Money.zero(s.currency)
        self._approvals: list[Approval] = []
        self._request: _Pending | None = None
        self._resume_to: CheckoutState = S.SCANNING
        self._expect: _Expect | None = None
        self._weighing: _Weighing | None = None
        self._finished: FinishedSale | None = None
        self._deadline: float | None = None
        self._qr: ShowQr | None = None
        self._message_last: ShowMessage | None = None
        self._age_verified = 0
        self._suspend_token: str | None = None
        self._last_line_id: str | None = None
        self._rebaseline = False
        if self._help_request_id is not None:
            self._out.append(PublishHelpCleared(self._help_request_id, AttendantReason.HELP))
            self._help_request_id = None

    def _begin_session(self) -> None:
        if self._started_at is None:
            self._started_at = self._clock.now()

    def _local_now(self) -> datetime:
        return self._clock.now().astimezone(self._settings.local_tz)

    def _go(self, new: CheckoutState) -> None:
        old = self._state
        if new is old:
            return
        if new not in TRANSITIONS[old]:
            raise IllegalEventError(f"no transition from {old.value} to {new.value}")
        self._state = new
        log.debug("checkout %s → %s", old.value, new.value)
        if new in (S.SCANNING, S.WAITING_FOR_BAGGING, S.LOOKING_UP, S.WEIGHING, S.PAYING):
            self._reevaluate_bag()

    def _message(self, code: str, detail: str = "") -> None:
        msg = ShowMessage(code, detail)
        self._message_last = msg
        self._out.append(msg)

    def _error(self, code: str, detail: str = "") -> None:
        self._out.append(Beep("error"))
        self._message(code, detail)

    # -- pricing ----------------------------------------------------------------------------------
    def _member_context(self) -> MemberContext | None:
        return MemberContext(self._member.member_id, self._member.level) if self._member else None

    def _reprice(self) -> None:
        self._priced = price_basket(
            self._basket,
            self._promotions,
            at=self._local_now(),
            member=self._member_context(),
            coupons=frozenset(self._coupons),
            tax_mode=self._settings.tax_mode,
        )

    # -- timeouts ---------------------------------------------------------------------------------
    def _check_timeouts(self) -> None:
        now = self._clock.monotonic()
        if self._state is S.WAITING_FOR_BAGGING and self._expect is not None:
            if now - self._expect.started >= self._settings.bagging_timeout_s:
                e = self._expect
                self._request_attendant(
                    AttendantReason.BAGGING_TIMEOUT,
                    line_id=e.line_id,
                    sku=e.sku,
                    detail="nothing taken off the bagging area" if e.removing else "nothing placed in the bagging area",
                    action="accept the bagging area as it is",
                    on_approve=self._bagging_override,
                    on_deny=None,
                )
        elif self._state is S.RECEIPT and self._deadline is not None and now >= self._deadline:
            self._choose_receipt(self._settings.default_receipt)
        elif self._state is S.THANK_YOU and self._deadline is not None and now >= self._deadline:
            self._go(S.WELCOME)
            self._reset_session()

    # -- light ------------------------------------------------------------------------------------
    def _update_light(self) -> None:
        if self._state is S.NEEDS_ATTENDANT and self._request is not None and self._request.request.reason in (
            AttendantReason.UNEXPECTED_ITEM,
            AttendantReason.ITEM_REMOVED,
        ):
            want = LaneLight.ALARM
        elif self._state is S.NEEDS_ATTENDANT or self._help_request_id is not None:
            want = LaneLight.ASSISTANCE
        else:
            want = LaneLight.IDLE
        if want is not self._light:
            self._light = want
            self._out.append(SetLight(want))

    # ==========================================================================================
    # Attendant requests and approvals
    # ==========================================================================================
    def _request_attendant(
        self,
        reason: AttendantReason,
        *,
        action: str,
        on_approve: Callable[[Approval], None],
        on_deny: Callable[[Approval], None] | None,
        line_id: str | None = None,
        sku: str | None = None,
        detail: str = "",
        resume: CheckoutState | None = None,
    ) -> None:
        if self._request is not None:
            raise IllegalEventError(f"an attendant request ({self._request.request.reason.value}) is already open")
        request = AttendantRequest(
            str(uuid.uuid4()), reason, self._settings.role_for(reason), self._clock.now(), line_id, sku, detail
        )
        self._request = _Pending(request, resume or self._state, on_approve, on_deny, action)
        self._go(S.NEEDS_ATTENDANT)
        self._out.append(Beep("attention"))
        self._out.append(PublishHelpRequest(request.request_id, reason, request.required_role, detail))
        log.info("lane %s needs an attendant: %s %s", self._settings.lane_id, reason.value, detail)

    def _clear_request(self) -> _Pending:
        pending = self._request
        if pending is None:
            raise IllegalEventError("no attendant request is open")
        self._request = None
        self._out.append(PublishHelpCleared(pending.request.request_id, pending.request.reason))
        return pending

    def _resume(self, pending: _Pending) -> None:
        self._go(pending.resume)

    def _decide(self, staff: StaffMember | None, method: ApprovalMethod, approve: bool, why: str) -> None:
        pending = self._request
        if pending is None:
            if self._help_request_id is not None:
                self._acknowledge_help(staff, method, why)
                return
            self._out.append(ApprovalRefused("", staff.staff_id if staff else None, "nothing_to_approve"))
            return
        req = pending.request
        if staff is None:
            self._out.append(ApprovalRefused(req.request_id, None, "not_recognised"))
            self._error("approval_not_recognised")
            return
        if not staff.may(req.required_role):
            log.warning(
                "%s (%s) may not approve %s (needs %s)", staff.staff_id, staff.role.label, req.reason.value, req.required_role.label
            )
            self._out.append(ApprovalRefused(req.request_id, staff.staff_id, "role_too_low"))
            self._error("approval_role_too_low", req.required_role.label)
            return
        if not approve and pending.on_deny is None:
            self._out.append(ApprovalRefused(req.request_id, staff.staff_id, "cannot_refuse"))
            return
        approval = Approval(
            req.request_id, req.reason, staff.staff_id, staff.role, method, approve, self._clock.now(),
            pending.action if approve else f"refused: {pending.action}", req.line_id, req.sku, why,
        )
        self._approvals.append(approval)
        self._clear_request()
        log.info("%s %s %s by %s", req.reason.value, "approved" if approve else "refused", req.request_id, staff.staff_id)
        if self._help_request_id is not None:
            self._acknowledge_help(staff, method, "attendant came")
        self._resume_to = pending.resume
        if approve:
            pending.on_approve(approval)
        elif pending.on_deny is not None:
            pending.on_deny(approval)

    def _acknowledge_help(self, staff: StaffMember | None, method: ApprovalMethod, why: str) -> None:
        request_id = self._help_request_id
        if request_id is None:
            return
        if staff is None:
            self._out.append(ApprovalRefused(request_id, None, "not_recognised"))
            self._error("approval_not_recognised")
            return
        self._approvals.append(
            Approval(request_id, AttendantReason.HELP, staff.staff_id, staff.role, method, True, self._clock.now(), "help given", why=why)
        )
        self._help_request_id = None
        self._out.append(PublishHelpCleared(request_id, AttendantReason.HELP))

    def _on_approve_pin(self, ev: ApprovePin) -> None:
        try:
            staff = self._staff.verify_pin(ev.pin)
        except DirectoryUnavailableError:
            self._error("staff_directory_unavailable")
            return
        self._decide(staff, ApprovalMethod.PIN, ev.approve, ev.why)

    def _on_badge(self, text: str) -> None:
        parsed = parse_staff_badge(text)
        if parsed is None:
            self._error("unknown_code")
            return
        try:
            staff = self._staff.verify_badge(*parsed)
        except DirectoryUnavailableError:
            self._error("staff_directory_unavailable")
            return
        self._decide(staff, ApprovalMethod.BADGE, True, "")

    def _on_approve_remote(self, ev: ApproveRemote) -> None:
        current = self._request.request.request_id if self._request else None
        if ev.request_id not in (current, self._help_request_id):
            self._out.append(ApprovalRefused(ev.request_id, ev.staff_id, "stale_request"))
            return
        try:
            staff = self._staff.get(ev.staff_id)
        except DirectoryUnavailableError:
            self._out.append(ApprovalRefused(ev.request_id, ev.staff_id, "staff_directory_unavailable"))
            return
        if ev.request_id == current:
            self._decide(staff, ApprovalMethod.REMOTE, ev.approve, ev.why)
        else:
            self._acknowledge_help(staff, ApprovalMethod.REMOTE, ev.why)

    def _on_help(self, _ev: RequestHelp) -> None:
        if self._help_request_id is not None:
            return
        self._help_request_id = str(uuid.uuid4())
        self._out.append(PublishHelpRequest(self._help_request_id, AttendantReason.HELP, self._settings.role_for(AttendantReason.HELP), self._state.value))
        self._message("help_on_the_way")

    # ==========================================================================================
    # Simple events
    # ==========================================================================================
    def _on_language(self, ev: ChooseLanguage) -> None:
        if ev.language not in self._settings.languages:
            raise CheckoutInputError(f"language {ev.language!r} is not offered ({self._settings.languages})")
        self._language = ev.language
        if self._state is S.WELCOME:
            self._begin_session()
            self._go(S.SCANNING)

    def _on_start(self, _ev: Start) -> None:
        if self._state is S.THANK_YOU:
            self._go(S.WELCOME)
            self._reset_session()
            return
        self._begin_session()
        self._go(S.SCANNING)

    def _on_edge(self, ev: EdgeStatus) -> None:
        if bool(ev.online) != self._edge_online:
            self._edge_online = bool(ev.online)
            log.info("edge %s", "online" if ev.online else "offline")

    def _on_tick(self, _ev: Tick) -> None:
        return  # timeouts are checked for every event

    # ==========================================================================================
    # Scanning
    # ==========================================================================================
    def _on_scan(self, ev: Scan) -> None:
        text = ev.text.strip() if isinstance(ev.text, str) else ""
        if text.startswith("TILLPI-STAFF:"):
            self._on_badge(text)
            return
        state = self._state
        if state is S.NEEDS_ATTENDANT:
            self._error("attendant_needed")
            return
        if state is S.WAITING_FOR_BAGGING:
            self._error("bag_item_first")
            return
        if text.startswith(SUSPEND_PREFIX):
            self._resume_suspended(text)
            return
        if text.startswith(MEMBER_PREFIX):
            if state in (S.WELCOME, S.SCANNING, S.LOOKING_UP, S.PAYING):
                self._begin_if_welcome()
                self._identify_member(member_id=text[len(MEMBER_PREFIX) :].strip())
            else:
                self._message("not_now", "member")
            return
        if text.startswith(COUPON_PREFIX):
            if state in (S.WELCOME, S.SCANNING, S.LOOKING_UP, S.PAYING):
                self._begin_if_welcome()
                self._add_coupon(text[len(COUPON_PREFIX) :])
            else:
                self._message("not_now", "coupon")
            return
        if state not in (S.WELCOME, S.SCANNING, S.LOOKING_UP):
            self._message("not_now", "scan")
            return
        try:
            code = parse_scan(text, ev.symbology, self._rules)
        except BarcodeError as exc:
            self._error("unreadable_code", str(exc))
            return
        self._begin_if_welcome()
        if self._state is S.LOOKING_UP:
            self._go(S.SCANNING)
        self._scan_code(code)

    def _begin_if_welcome(self) -> None:
        if self._state is S.WELCOME:
            self._begin_session()
            self._go(S.SCANNING)

    def _scan_code(self, code: object) -> None:
        if isinstance(code, GtinCode):
            item = self._catalogue.by_gtin(code.key14)
            if item is None:
                self._error("item_not_found", code.gtin)
                return
            self._add_item(item, 1, gtin=code.gtin)
        elif isinstance(code, VariableMeasureCode):
            item = self._catalogue.by_variable_measure(code)
            if item is None:
                self._error("item_not_found", code.code)
                return
            try:
                if code.price_minor is not None:
                    line_id = self._basket.add_label_price(item, Money(code.price_minor, self._settings.currency), weight_g=code.weight_g)
                else:
                    line_id = self._basket.add_label_weight(item, code.weight_g or 0)
            except BasketError as exc:
                self._error("label_refused", str(exc))
                return
            self._info[line_id] = _LineInfo(gtin=code.code)
            self._after_add(line_id, item, pieces=1, known_weight_g=code.weight_g)
        elif isinstance(code, Gs1Code):
            es = code.element_string
            item = self._catalogue.by_gtin(es.gtin) if es.gtin else None
            if item is None:
                self._error("item_not_found", es.gtin or "")
                return
            gtin = format_gtin(es.gtin) if es.gtin else None
            try:
                if es.price is not None and es.price.currency == self._settings.currency:
                    line_id = self._basket.add_label_price(item, es.price, weight_g=es.net_weight_g or None)
                elif es.net_weight_g and item.by_weight:
                    line_id = self._basket.add_label_weight(item, es.net_weight_g)
                else:
                    self._add_item(item, 1, gtin=gtin)
                    return
            except BasketError as exc:
                self._error("label_refused", str(exc))
                return
            self._info[line_id] = _LineInfo(gtin=gtin)
            self._after_add(line_id, item, pieces=1, known_weight_g=es.net_weight_g or None)
        elif isinstance(code, OtherCode):
            self._error("unknown_code", code.text[:40])

    def _add_item(self, item: CatalogueItem, quantity: int, *, gtin: str | None = None) -> None:
        if item.by_weight:
            self._weighing = _Weighing(item, tare_g=0, gtin=gtin)
            self._go(S.WEIGHING)
            self._out.append(Beep("ok"))
            return
        try:
            line_id = self._basket.add_item(item, quantity)
        except BasketError as exc:
            raise CheckoutInputError(str(exc)) from exc
        if line_id not in self._info:
            self._info[line_id] = _LineInfo(gtin=gtin)
        else:
            self._info[line_id].bag = _Bag.PENDING
        self._after_add(line_id, item, pieces=quantity, known_weight_g=None)

    def _after_add(self, line_id: str, item: CatalogueItem, *, pieces: int, known_weight_g: int | None) -> None:
        self._reprice()
        self._last_line_id = line_id
        self._out.append(Beep("ok"))
        self._out.append(Flash())
        line = self._basket.line(line_id)
        if known_weight_g is not None:
            expectation = WeightExpectation(known_weight_g, item.weight_tolerance_g, False)
            learn = False
        elif line.kind is LineKind.UNIT:
            expectation = self._learner.expectation(
                item.sku, catalogue_weight_g=item.unit_weight_g, configured_tolerance_g=item.weight_tolerance_g, pieces=pieces
            )
            learn = True
        else:
            expectation = WeightExpectation(None, item.weight_tolerance_g, False)
            learn = False

        def to_bagging() -> None:
            self._start_bagging(line_id, item.sku, pieces, expectation, learn)

        if item.min_age > self._age_verified:
            self._request_attendant(
                AttendantReason.AGE_RESTRICTED,
                line_id=line_id,
                sku=item.sku,
                detail=f"{item.name_en} needs age {item.min_age}+",
                action=f"age {item.min_age}+ checked for {item.sku}",
                on_approve=lambda _a: self._age_approved(item.min_age, to_bagging),
                on_deny=lambda _a: self._age_refused(line_id, pieces),
                resume=S.SCANNING,
            )
            return
        to_bagging()

    def _age_approved(self, min_age: int, then: Callable[[], None]) -> None:
        self._age_verified = max(self._age_verified, min_age)
        then()
        if self._state is S.NEEDS_ATTENDANT and self._request is None:
            self._go(S.SCANNING)

    def _age_refused(self, line_id: str, pieces: int) -> None:
        line = self._basket.line(line_id)
        if line.kind is LineKind.UNIT and line.quantity > pieces:
            self._basket.set_quantity(line_id, line.quantity - pieces)
        else:
            self._basket.void(line_id)
        self._reprice()
        self._message("item_removed_age")
        self._go(S.SCANNING)

    # ==========================================================================================
    # Lookup and weighing
    # ==========================================================================================
    def _on_open_lookup(self, _ev: OpenLookup) -> None:
        self._begin_session()
        self._go(S.LOOKING_UP)

    def _on_close_lookup(self, _ev: CloseLookup) -> None:
        self._weighing = None
        self._go(S.SCANNING)

    def _on_select(self, ev: SelectItem) -> None:
        item = self._catalogue.by_sku(ev.sku)
        if item is None:
            self._error("item_not_found", ev.sku)
            return
        if self._state is S.LOOKING_UP and not item.by_weight:
            self._go(S.SCANNING)
        self._add_item(item, ev.quantity, gtin=format_gtin(item.gtins[0]) if item.gtins else None)

    def _on_produce(self, ev: ProduceReading) -> None:
        self._produce_last = ev

    def _on_tare(self, _ev: TareProduceScale) -> None:
        r = self._produce_last
        if r is None or not r.stable:
            self._error("weight_not_stable")
            return
        weighing = self._weighing
        if weighing is not None:
            weighing.tare_g = r.grams

    def _on_confirm_weight(self, _ev: ConfirmWeight) -> None:
        w = self._weighing
        r = self._produce_last
        if w is None:
            raise IllegalEventError("weighing without an item")
        if r is None or not r.stable:
            self._error("weight_not_stable")
            return
        net = r.grams - w.tare_g
        if net <= 0:
            self._error("no_weight")
            return
        try:
            line_id = self._basket.add_weighed(w.item, net)
        except BasketError as exc:
            self._error("weight_refused", str(exc))
            return
        self._info[line_id] = _LineInfo(gtin=w.gtin)
        self._weighing = None
        self._after_add(line_id, w.item, pieces=1, known_weight_g=net)

    def _on_cancel_weighing(self, _ev: CancelWeighing) -> None:
        self._weighing = None
        self._go(S.LOOKING_UP)

    # ==========================================================================================
    # Bagging
    # ==========================================================================================
    def _start_bagging(self, line_id: str, sku: str, pieces: int, expectation: WeightExpectation, learn: bool) -> None:
        info = self._info.setdefault(line_id, _LineInfo())
        if not self._settings.bagging_enabled:
            info.bag = _Bag.NOT_CHECKED
            self._go(S.SCANNING)
            return
        info.bag = _Bag.PENDING
        self._expect = _Expect(
            line_id, sku, pieces, expectation.grams, expectation.tolerance_g, self._clock.monotonic(), learn
        )
        self._go(S.WAITING_FOR_BAGGING)

    def _expect_removal(self, line_id: str, sku: str, pieces: int, grams: int | None, tolerance_g: int) -> None:
        if not self._settings.bagging_enabled:
            self._go(S.SCANNING)
            return
        self._expect = _Expect(
            line_id, sku, pieces, -grams if grams else None, tolerance_g, self._clock.monotonic(), False, removing=True
        )
        self._message("take_item_off_bagging_area")
        if self._state is S.WAITING_FOR_BAGGING:
            self._reevaluate_bag()
        else:
            self._go(S.WAITING_FOR_BAGGING)

    def _on_bag(self, ev: BagReading) -> None:
        self._bag_last = ev
        if not ev.stable:
            return
        if self._bag_baseline is None or self._rebaseline:
            self._bag_baseline = ev.grams
            self._rebaseline = False
            return
        self._evaluate_bag(ev.grams)

    def _reevaluate_bag(self) -> None:
        r = self._bag_last
        if r is not None and r.stable and self._bag_baseline is not None and not self._rebaseline:
            self._evaluate_bag(r.grams)

    def _evaluate_bag(self, grams: int) -> None:
        baseline = self._bag_baseline
        if baseline is None:
            return
        state = self._state
        delta = grams - baseline
        noise = self._settings.bag_noise_g
        if state in (S.WELCOME, S.RECEIPT, S.THANK_YOU) or not self._settings.bagging_enabled:
            self._bag_baseline = grams
            return
        if state is S.WAITING_FOR_BAGGING and self._expect is not None:
            verdict = self._judge(delta)
            if verdict == "accept":
                self._accept_bagging(grams, delta)
            elif verdict == "wrong":
                e = self._expect
                self._request_attendant(
                    AttendantReason.BAGGING_MISMATCH,
                    line_id=e.line_id,
                    sku=e.sku,
                    detail=f"expected {e.grams if e.grams is not None else 'some'} g, saw {delta} g",
                    action="accept the bagging area as it is",
                    on_approve=self._bagging_override,
                    on_deny=None,
                )
            return
        if state is S.NEEDS_ATTENDANT:
            pending = self._request
            if pending is None or not pending.request.reason.bagging:
                return
            if self._expect is not None:
                if self._judge(delta) == "accept":
                    self._clear_request()
                    self._accept_bagging(grams, delta, resume=pending.resume)
            elif abs(delta) <= noise:
                self._clear_request()
                self._resume(pending)
            return
        if state is S.PAYING and (self._pending_payment is not None or self._cash_open):
            return
        if abs(delta) <= noise:
            self._bag_baseline = grams  # drift
            return
        if delta > 0:
            reason, detail = AttendantReason.UNEXPECTED_ITEM, f"{delta} g added with no scan"
        else:
            reason, detail = AttendantReason.ITEM_REMOVED, f"{-delta} g taken away"
        self._request_attendant(
            reason, detail=detail, action="accept the bagging area as it is", on_approve=self._bagging_override, on_deny=None
        )

    def _judge(self, delta: int) -> str:
        e = self._expect
        if e is None:
            return "wait"
        s = self._settings
        if e.grams is None:
            if (not e.removing and delta >= s.min_bag_weight_g) or (e.removing and delta <= -s.min_bag_weight_g):
                return "accept"
        elif abs(delta - e.grams) <= e.tolerance_g:
            return "accept"
        if abs(delta) <= s.bag_noise_g:
            return "wait"
        return "wrong"

    def _accept_bagging(self, grams: int, delta: int, *, resume: CheckoutState | None = None) -> None:
        e = self._expect
        self._expect = None
        self._bag_baseline = grams
        if e is not None:
            info = self._info.setdefault(e.line_id, _LineInfo())
            if e.removing:
                info.bagged_g = max(0, info.bagged_g + delta)
                info.bagged_pieces = max(0, info.bagged_pieces - e.pieces)
            else:
                info.bag = _Bag.BAGGED
                info.bagged_g += delta
                info.bagged_pieces += e.pieces
                if e.learn and delta > 0:
                    self._learner.observe(e.sku, delta, e.pieces)
        target = resume if resume is not None and resume is not S.WAITING_FOR_BAGGING else S.SCANNING
        self._go(target)

    def _bagging_override(self, _approval: Approval) -> None:
        """An attendant accepts the bagging area as it is now."""
        r = self._bag_last
        grams = r.grams if r is not None else (self._bag_baseline or 0)
        e = self._expect
        self._expect = None
        if e is not None:
            info = self._info.setdefault(e.line_id, _LineInfo())
            delta = grams - (self._bag_baseline or 0)
            if e.removing:
                info.bagged_g = max(0, info.bagged_g + delta)
                info.bagged_pieces = max(0, info.bagged_pieces - e.pieces)
            else:
                info.bag = _Bag.NOT_CHECKED if delta <= self._settings.bag_noise_g else _Bag.BAGGED
                info.bagged_g += max(0, delta)
                info.bagged_pieces += e.pieces
        self._bag_baseline = grams
        target = S.SCANNING if e is not None or self._resume_to is S.WAITING_FOR_BAGGING else self._resume_to
        self._go(target)

    def _on_skip_bagging(self, _ev: RequestSkipBagging) -> None:
        e = self._expect
        if e is None or e.removing:
            self._message("not_now", "skip_bagging")
            return

        def approve(_a: Approval) -> None:
            self._expect = None
            self._info.setdefault(e.line_id, _LineInfo()).bag = _Bag.SKIPPED
            self._go(S.SCANNING)

        def deny(_a: Approval) -> None:
            e.started = self._clock.monotonic()
            self._expect = e
            self._go(S.WAITING_FOR_BAGGING)

        self._request_attendant(
            AttendantReason.SKIP_BAGGING,
            line_id=e.line_id,
            sku=e.sku,
            detail="bulky item",
            action=f"skip bagging for {e.sku}",
            on_approve=approve,
            on_deny=deny,
        )

    # ==========================================================================================
    # Basket changes
    # ==========================================================================================
    def _active_line(self, line_id: str) -> BasketLine:
        try:
            line = self._basket.line(line_id)
        except BasketError:
            raise UnknownLineError(f"no line {line_id!r}") from None
        if line.voided:
            raise UnknownLineError(f"line {line_id} was voided")
        return line

    def _on_change_quantity(self, ev: ChangeQuantity) -> None:
        line = self._active_line(ev.line_id)
        if line.kind is not LineKind.UNIT:
            raise CheckoutInputError(f"line {ev.line_id} is {line.kind.value}; only unit lines have a quantity")
        if isinstance(ev.quantity, bool) or not isinstance(ev.quantity, int) or ev.quantity < 1:
            raise CheckoutInputError("a quantity is a whole number ≥ 1 (remove the line to drop it)")
        if self._info.get(ev.line_id, _LineInfo()).override:
            self._error("line_price_overridden")
            return
        diff = ev.quantity - line.quantity
        if diff == 0:
            return
        if diff > 0:
            try:
                self._basket.set_quantity(ev.line_id, ev.quantity)
            except BasketError as exc:
                raise CheckoutInputError(str(exc)) from exc
            self._reprice()
            item = line.item
            expectation = self._learner.expectation(
                item.sku, catalogue_weight_g=item.unit_weight_g, configured_tolerance_g=item.weight_tolerance_g, pieces=diff
            )
            self._last_line_id = ev.line_id
            self._start_bagging(ev.line_id, item.sku, diff, expectation, True)
            return
        pieces = -diff
        action = f"reduce {line.sku} from {line.quantity} to {ev.quantity}"
        if self._settings.void_needs_approval:
            self._request_attendant(
                AttendantReason.VOID_ITEM,
                line_id=ev.line_id,
                sku=line.sku,
                detail=action,
                action=action,
                on_approve=lambda _a: self._reduce(ev.line_id, ev.quantity, pieces),
                on_deny=lambda _a: self._go(S.SCANNING),
            )
        else:
            self._reduce(ev.line_id, ev.quantity, pieces)

    def _reduce(self, line_id: str, quantity: int, pieces: int) -> None:
        line = self._basket.line(line_id)
        self._basket.set_quantity(line_id, quantity)
        self._reprice()
        info = self._info.setdefault(line_id, _LineInfo())
        if info.bag is _Bag.BAGGED and info.bagged_pieces > 0:
            per_piece = info.bagged_g // max(1, info.bagged_pieces)
            take = min(pieces, info.bagged_pieces)
            self._expect_removal(line_id, line.sku, take, per_piece * take or None, line.item.weight_tolerance_g)
        elif info.carried:
            self._expect_removal(line_id, line.sku, pieces, None, line.item.weight_tolerance_g)
        else:
            self._go(S.SCANNING)

    def _on_remove(self, ev: RemoveLine) -> None:
        line = self._active_line(ev.line_id)
        if self._state is S.WAITING_FOR_BAGGING:
            if self._expect is None or self._expect.line_id != ev.line_id or self._expect.removing:
                self._error("bag_item_first")
                return
        action = f"void {line.sku} ({line.line_id})"
        if self._settings.void_needs_approval:
            self._request_attendant(
                AttendantReason.VOID_ITEM,
                line_id=ev.line_id,
                sku=line.sku,
                detail=action,
                action=action,
                on_approve=lambda _a: self._void(ev.line_id),
                on_deny=lambda _a: self._go(S.WAITING_FOR_BAGGING if self._expect is not None else S.SCANNING),
            )
        else:
            self._void(ev.line_id)

    def _void(self, line_id: str) -> None:
        line = self._basket.line(line_id)
        self._basket.void(line_id)
        self._reprice()
        if self._expect is not None and self._expect.line_id == line_id:
            self._expect = None
        info = self._info.setdefault(line_id, _LineInfo())
        if info.bagged_g > 0 and info.bag in (_Bag.BAGGED, _Bag.PENDING):
            self._expect_removal(line_id, line.sku, max(1, info.bagged_pieces), info.bagged_g, line.item.weight_tolerance_g)
        elif info.carried:
            self._expect_removal(line_id, line.sku, line.quantity, None, line.item.weight_tolerance_g)
        else:
            self._go(S.SCANNING)

    def _on_price_override(self, ev: RequestPriceOverride) -> None:
        line = self._active_line(ev.line_id)
        price = ev.price
        if not isinstance(price, Money) or price.currency != self._settings.currency or price.minor < 0:
            raise CheckoutInputError(f"an override price is non-negative Money in {self._settings.currency}")
        action = f"override {line.sku} ({line.line_id}) from {line.gross.format()} to {price.format()}"

        def approve(_a: Approval) -> None:
            old_info = self._info.get(ev.line_id, _LineInfo())
            self._basket.void(ev.line_id)
            new_id = self._basket.add_label_price(line.item, price, weight_g=line.weight_g)
            self._info[new_id] = replace(old_info, override=True, original=old_info.original or line)
            self._reprice()
            self._last_line_id = new_id
            self._go(S.SCANNING)

        self._request_attendant(
            AttendantReason.PRICE_OVERRIDE,
            line_id=line.line_id,
            sku=line.sku,
            detail=action + (f" — {ev.why}" if ev.why else ""),
            action=action,
            on_approve=approve,
            on_deny=lambda _a: self._go(S.SCANNING),
        )

    # ==========================================================================================
    # Members and coupons
    # ==========================================================================================
    def _payments_started(self) -> bool:
        return self._pending_payment is not None or any(
            p.status is PaymentOutcome.APPROVED for p in self._payments.values()
        )

    def _identify_member(self, *, phone: str | None = None, member_id: str | None = None) -> None:
        if self._state is S.PAYING and self._payments_started():
            self._error("payments_started")
            return
        try:
            member = self._members.find_by_phone(phone) if phone is not None else self._members.find_by_id(member_id or "")
        except DirectoryUnavailableError:
            self._error("member_lookup_unavailable")
            return
        if member is None:
            self._error("member_not_found", mask_phone(phone) if phone else "")
            return
        self._member = member
        self._reprice()
        self._out.append(Beep("ok"))
        self._message("member_welcome", member.masked_phone)

    def _on_phone(self, ev: EnterPhone) -> None:
        self._begin_if_welcome()
        self._identify_member(phone=ev.phone)

    def _on_clear_member(self, _ev: ClearMember) -> None:
        if self._state is S.PAYING and self._payments_started():
            self._error("payments_started")
            return
        self._member = None
        self._reprice()

    def _known_coupon(self, code: str) -> bool:
        if self._promotions is None:
            return False
        return any((p.coupon_code or "").strip().upper() == code for p in self._promotions.promotions)

    def _add_coupon(self, raw: str) -> None:
        code = raw.strip().upper()
        if self._state is S.PAYING and self._payments_started():
            self._error("payments_started")
            return
        if not code or not self._known_coupon(code):
            self._error("coupon_unknown", code)
            return
        if code in self._coupons:
            self._message("coupon_already_added", code)
            return
        self._coupons.append(code)
        self._reprice()
        self._out.append(Beep("ok"))
        self._message("coupon_added", code)

    def _on_coupon(self, ev: EnterCoupon) -> None:
        self._add_coupon(ev.code)

    # ==========================================================================================
    # Cancel, suspend, resume
    # ==========================================================================================
    def _on_cancel_transaction(self, _ev: CancelTransaction) -> None:
        if self._payments_started():
            raise IllegalEventError("payments were taken: refund them before cancelling the transaction")
        if not self._basket.active_lines:
            self._go(S.WELCOME)
            self._reset_session()
            return

        def approve(approval: Approval) -> None:
            skus = tuple(line.sku for line in self._basket.active_lines)
            for line in self._basket.active_lines:
                self._basket.void(line.line_id)
            self._out.append(TransactionCancelled(skus, tuple(self._approvals)))
            self._go(S.WELCOME)
            self._reset_session()

        resume = self._state
        self._request_attendant(
            AttendantReason.CANCEL_TRANSACTION,
            detail=f"{len(self._basket.active_lines)} lines, {self._priced.total.format()}",
            action="cancel the transaction",
            on_approve=approve,
            on_deny=lambda _a: self._go(resume if resume is not S.WEIGHING else S.SCANNING),
        )

    def _on_suspend(self, _ev: Suspend) -> None:
        active = self._basket.active_lines
        if not active:
            self._error("basket_empty")
            return
        lines: list[SuspendedLine] = []
        for line in active:
            info = self._info.get(line.line_id)
            src = info.original if info is not None and info.original is not None else line
            lines.append(SuspendedLine(src.sku, src.kind.value, src.quantity, src.weight_g, src.label_price_minor))
        basket = SuspendedBasket(
            self._settings.store_id,
            tuple(lines),
            self._clock.now(),
            self._member.member_id if self._member else None,
            tuple(self._coupons),
            self._language,
        )
        token = encode_suspended(basket, self._secret)
        count = self._basket.item_count
        for line in active:
            self._basket.void(line.line_id)
        self._suspend_token = token
        qr = ShowQr(SUSPEND_PREFIX + token, "suspend")
        self._qr = qr
        self._out.append(BasketSuspended(token, count))
        self._out.append(qr)
        self._expect = None
        self._go(S.THANK_YOU)
        self._deadline = self._clock.monotonic() + self._settings.qr_display_s

    def _resume_suspended(self, text: str) -> None:
        if self._state not in (S.WELCOME, S.SCANNING) or self._basket.active_lines:
            self._error("resume_needs_empty_basket")
            return
        try:
            basket = decode_suspended(
                text,
                self._secret,
                store_id=self._settings.store_id,
                now=self._clock.now(),
                max_age_s=self._settings.suspend_max_age_s,
            )
        except SuspendTokenError as exc:
            self._error("suspend_token_invalid", str(exc))
            return
        self._begin_if_welcome()
        if basket.language in self._settings.languages:
            self._language = basket.language
        missing = 0
        max_age = 0
        for sl in basket.lines:
            item = self._catalogue.by_sku(sl.sku)
            if item is None:
                missing += 1
                continue
            try:
                kind = LineKind(sl.kind)
                if kind is LineKind.UNIT:
                    line_id = self._basket.add_item(item, sl.quantity)
                elif kind is LineKind.WEIGHED:
                    line_id = self._basket.add_weighed(item, sl.weight_g or 0)
                elif kind is LineKind.LABEL_WEIGHT:
                    line_id = self._basket.add_label_weight(item, sl.weight_g or 0)
                else:
                    line_id = self._basket.add_label_price(
                        item, Money(sl.label_price_minor or 0, self._settings.currency), weight_g=sl.weight_g
                    )
            except (BasketError, ValueError):
                missing += 1
                continue
            self._info[line_id] = _LineInfo(bag=_Bag.BAGGED, carried=True)
            max_age = max(max_age, item.min_age)
        for code in basket.coupons:
            if self._known_coupon(code) and code not in self._coupons:
                self._coupons.append(code)
        if basket.member_id:
            try:
                self._member = self._members.find_by_id(basket.member_id)
            except DirectoryUnavailableError:
                self._message("member_lookup_unavailable")
        self._reprice()
        self._rebaseline = True  # the carried bags go onto this lane's scale
        self._out.append(Beep("ok"))
        self._message("basket_resumed", f"{missing} missing" if missing else "")
        if max_age > self._age_verified:

            def refuse(_a: Approval) -> None:
                for line in self._basket.active_lines:
                    if line.item.min_age > 0:
                        self._basket.void(line.line_id)
                self._reprice()
                self._go(S.SCANNING)

            self._request_attendant(
                AttendantReason.AGE_RESTRICTED,
                detail=f"resumed basket needs age {max_age}+",
                action=f"age {max_age}+ checked for a resumed basket",
                on_approve=lambda _a: self._age_approved(max_age, lambda: None),
                on_deny=refuse,
                resume=S.SCANNING,
            )

    # ==========================================================================================
    # Paying
    # ==========================================================================================
    def _approved_total(self) -> Money:
        return Money(
            sum(p.amount.minor for p in self._payments.values() if p.status is PaymentOutcome.APPROVED),
            self._settings.currency,
        )

    def _remaining(self) -> Money:
        return self._priced.total - self._approved_total()

    def _on_pay(self, _ev: Pay) -> None:
        if not self._basket.active_lines:
            self._error("basket_empty")
            return
        self._sale_id = str(uuid.uuid4())
        self._finalised_at = self._clock.now()
        self._go(S.PAYING)
        if self._state is S.PAYING and self._remaining().minor <= 0:
            self._complete()

    def _on_back(self, _ev: BackToScanning) -> None:
        if self._payments_started():
            self._error("payments_started")
            return
        self._sale_id = None
        self._finalised_at = None
        self._payments.clear()
        self._qr = None
        self._go(S.SCANNING)

    def _payment_amount(self, requested: Money | None) -> Money | None:
        if self._pending_payment is not None or self._cash_open:
            self._error("payment_in_progress")
            return None
        remaining = self._remaining()
        if remaining.minor <= 0:
            return None
        if requested is None:
            return remaining
        if not isinstance(requested, Money) or requested.currency != self._settings.currency or requested.minor <= 0:
            raise CheckoutInputError(f"a payment amount is positive Money in {self._settings.currency}")
        return requested if requested < remaining else remaining

    def _new_payment(self, tender: Tender, amount: Money, *, provider: str = "") -> _Payment:
        payment = _Payment(new_payment_id(), tender, amount, None, self._clock.now(), provider)
        self._payments[payment.payment_id] = payment
        return payment

    def _on_card(self, ev: PayByCard) -> None:
        amount = self._payment_amount(ev.amount)
        if amount is None:
            return
        payment = self._new_payment(Tender.CARD, amount)
        self._pending_payment = payment.payment_id
        self._out.append(StartCardPayment(PaymentRequest(payment.payment_id, self._sale_id or "", amount)))
        self._message("follow_card_terminal")

    def _on_qr(self, ev: PayByQr) -> None:
        amount = self._payment_amount(ev.amount)
        if amount is None:
            return
        if not ev.provider:
            raise CheckoutInputError("a mobile payment names its provider (wechat, alipay, ...)")
        payment = self._new_payment(Tender.MOBILE_QR, amount, provider=ev.provider)
        self._pending_payment = payment.payment_id
        self._out.append(RequestQrPayment(PaymentRequest(payment.payment_id, self._sale_id or "", amount, ev.provider)))

    def _on_qr_ready(self, ev: PaymentQrReady) -> None:
        if ev.payment_id != self._pending_payment:
            log.info("QR for payment %s is not the pending one; ignored", ev.payment_id)
            return
        self._qr = ShowQr(ev.payload, "payment")
        self._out.append(self._qr)

    def _on_payment_result(self, ev: PaymentResult) -> None:
        payment = self._payments.get(ev.payment_id)
        if payment is None:
            log.warning("result %s for unknown payment %s ignored", ev.outcome.value, ev.payment_id)
            return
        if payment.status is not None:
            log.info("repeated result for payment %s ignored", ev.payment_id)
            return
        payment.status = ev.outcome
        payment.reference = ev.reference
        payment.at = self._clock.now()
        if self._pending_payment == ev.payment_id:
            self._pending_payment = None
        if payment.tender is Tender.MOBILE_QR and self._qr is not None and self._qr.purpose == "payment":
            self._qr = None
        if ev.outcome is PaymentOutcome.APPROVED:
            if ev.amount != payment.amount:
                log.warning("payment %s approved for %s, requested %s", ev.payment_id, ev.amount, payment.amount)
            self._out.append(Beep("ok"))
            self._after_payment()
        else:
            self._error(f"payment_{ev.outcome.value}", ev.detail)

    def _after_payment(self) -> None:
        if self._remaining().minor <= 0 and self._state is S.PAYING:
            self._complete()

    def _on_stored_value(self, ev: PayByStoredValue) -> None:
        if self._member is None:
            self._error("member_required")
            return
        if self._pending_payment is not None or self._cash_open:
            self._error("payment_in_progress")
            return
        used = sum(p.amount.minor for p in self._payments.values() if p.tender is Tender.STORED_VALUE and p.status is PaymentOutcome.APPROVED)
        balance = self._member.stored_value - Money(used, self._settings.currency)
        remaining = self._remaining()
        if ev.amount is None:
            amount = balance if balance < remaining else remaining
        else:
            amount = self._payment_amount(ev.amount)
            if amount is None:
                return
        if amount.minor <= 0:
            self._error("insufficient_balance", balance.format())
            return
        try:
            spend_stored_value(balance, amount)
        except LoyaltyError as exc:
            self._error("insufficient_balance", str(exc))
            return
        payment = self._new_payment(Tender.STORED_VALUE, amount)
        payment.status = PaymentOutcome.APPROVED
        self._out.append(Beep("ok"))
        self._after_payment()

    def _on_points(self, ev: PayByPoints) -> None:
        if self._member is None:
            self._error("member_required")
            return
        if self._loyalty is None:
            self._error("points_unavailable")
            return
        if self._pending_payment is not None or self._cash_open:
            self._error("payment_in_progress")
            return
        used = sum(p.points or 0 for p in self._payments.values() if p.tender is Tender.POINTS and p.status is PaymentOutcome.APPROVED)
        try:
            redemption = redeem_points(
                self._loyalty, self._member.points - used, ev.points, self._remaining(), sale_total=self._priced.total
            )
        except LoyaltyError as exc:
            self._error("points_refused", str(exc))
            return
        payment = self._new_payment(Tender.POINTS, redemption.value)
        payment.points = redemption.points
        payment.status = PaymentOutcome.APPROVED
        self._out.append(Beep("ok"))
        self._after_payment()

    def _on_cash(self, _ev: PayByCash) -> None:
        if self._payment_amount(None) is None:
            return

        def approve(approval: Approval) -> None:
            self._cash_open = True
            self._out.append(OpenDrawer(approval.request_id))
            self._go(S.PAYING)

        self._request_attendant(
            AttendantReason.CASH_PAYMENT,
            detail=f"cash for {self._remaining().format()}",
            action="open the cash drawer",
            on_approve=approve,
            on_deny=lambda _a: self._go(S.PAYING),
        )

    def _on_cash_tendered(self, ev: CashTendered) -> None:
        if not self._cash_open:
            raise IllegalEventError("cash is tendered only while an attendant has the drawer open")
        amount = ev.amount
        if not isinstance(amount, Money) or amount.currency != self._settings.currency or amount.minor <= 0:
            raise CheckoutInputError(f"cash tendered is positive Money in {self._settings.currency}")
        remaining = self._remaining()
        payable = remaining.round_cash(self._settings.cash_rounding)
        payment = self._new_payment(Tender.CASH, remaining)
        payment.tendered = amount
        if amount >= payable:
            payment.amount = remaining
            payment.change = amount - payable
            self._cash_rounding = self._cash_rounding + (payable - remaining)
        else:
            payment.amount = amount if amount < remaining else remaining
            payment.change = amount - payment.amount
        payment.status = PaymentOutcome.APPROVED
        self._cash_open = False
        if payment.change and payment.change.minor > 0:
            self._message("take_change", payment.change.format())
        self._after_payment()

    def _on_cancel_payment(self, _ev: CancelPayment) -> None:
        if self._cash_open:
            self._cash_open = False
            return
        pid = self._pending_payment
        if pid is None:
            return
        payment = self._payments[pid]
        if payment.tender is Tender.CARD:
            self._out.append(CancelCardPayment(pid))
        else:
            self._out.append(CancelQrPayment(pid))
        # the payment stays pending until the provider reports (cancelled, or approved if too late)

    # ==========================================================================================
    # Finishing
    # ==========================================================================================
    def _complete(self) -> None:
        sale = self._build_sale()
        self._finished = sale
        self._go(S.RECEIPT)
        self._deadline = self._clock.monotonic() + self._settings.receipt_timeout_s
        self._out.append(SaleFinished(sale))
        self._message("payment_complete", sale.change.format() if sale.change.minor else "")

    def _build_sale(self) -> FinishedSale:
        cur = self._settings.currency
        priced = self._priced
        lines: list[SaleLine] = []
        for pl in priced.lines:
            info = self._info.get(pl.line_id, _LineInfo())
            quantity = info.original.quantity if info.override and info.original is not None else pl.quantity
            if pl.kind is LineKind.LABEL_PRICE:
                unit_price = pl.gross
            else:
                unit_price = pl.item.unit_price
            lines.append(
                SaleLine(
                    line_id=pl.line_id,
                    sku=pl.sku,
                    gtin=info.gtin or (format_gtin(pl.item.gtins[0]) if pl.item.gtins else None),
                    name_en=pl.item.name_en,
                    name_zh=pl.item.name_zh,
                    kind=pl.kind.value,
                    quantity=quantity,
                    weight_g=pl.weight_g,
                    unit_price=unit_price,
                    gross=pl.gross,
                    savings=tuple((pid, Money(amt, cur)) for pid, amt in pl.savings_detail),
                    net=pl.net,
                    tax_rate_bp=pl.rate_bp,
                    tax=pl.tax,
                    payable=pl.payable,
                    price_override=info.override,
                    bagging={_Bag.BAGGED: "bagged", _Bag.SKIPPED: "skipped"}.get(info.bag, "not_checked"),
                )
            )
        approved = [p for p in self._payments.values() if p.status is PaymentOutcome.APPROVED]
        payments = tuple(
            SalePayment(p.payment_id, p.tender, p.amount, p.at, p.provider, p.reference, p.tendered, p.change, p.points)
            for p in approved
        )
        change = Money(sum(p.change.minor for p in approved if p.change is not None), cur)
        now = self._clock.now()
        return FinishedSale(
            sale_id=self._sale_id or str(uuid.uuid4()),
            store_id=self._settings.store_id,
            lane_id=self._settings.lane_id,
            currency=cur,
            lines=tuple(lines),
            voided=tuple((line.line_id, line.sku) for line in self._basket.lines if line.voided),
            subtotal=priced.subtotal,
            total_savings=priced.total_savings,
            total=priced.total,
            tax=tuple(TaxLine(r.rate_bp, r.net, r.tax, r.gross) for r in priced.tax_summary),
            payments=payments,
            change=change,
            cash_rounding=self._cash_rounding,
            member_id=self._member.member_id if self._member else None,
            coupons=tuple(self._coupons),
            approvals=tuple(self._approvals),
            catalogue_version=self._catalogue.version,
            language=self._language,
            started_at=self._started_at or now,
            finalised_at=self._finalised_at or now,
            finished_at=now,
            edge_online=self._edge_online,
        )

    def _on_receipt(self, ev: ChooseReceipt) -> None:
        self._choose_receipt(ReceiptChoice(ev.choice))

    def _choose_receipt(self, choice: ReceiptChoice) -> None:
        sale = self._finished
        if sale is None:
            raise IllegalEventError("no finished sale to print")
        if choice is ReceiptChoice.PRINT:
            self._out.append(PrintReceipt(sale))
            self._qr = None
            wait = self._settings.thank_you_s
        elif choice is ReceiptChoice.E_RECEIPT:
            self._qr = ShowQr(self._settings.e_receipt_url + sale.sale_id, "e_receipt")
            self._out.append(self._qr)
            wait = self._settings.qr_display_s
        else:
            self._qr = None
            wait = self._settings.thank_you_s
        self._go(S.THANK_YOU)
        self._deadline = self._clock.monotonic() + wait

    # ==========================================================================================
    # Snapshot
    # ==========================================================================================
    def _snapshot(self) -> CheckoutSnapshot:
        cur = self._settings.currency
        priced = self._priced
        lines = []
        for pl in priced.lines:
            info = self._info.get(pl.line_id, _LineInfo())
            lines.append(
                CheckoutLine(
                    pl.line_id, pl.sku, pl.item.name_en, pl.item.name_zh, pl.kind,
                    info.original.quantity if info.override and info.original is not None else pl.quantity,
                    pl.weight_g, pl.item.unit_price if pl.kind is not LineKind.LABEL_PRICE else pl.gross,
                    pl.gross, pl.savings, pl.payable,
                    tuple((s.name_en, s.name_zh, s.amount) for s in pl.line_savings),
                    info.bag.value, pl.item.min_age > 0, info.override,
                )
            )
        weighing = None
        if self._weighing is not None:
            r = self._produce_last
            gross = r.grams if r else 0
            net = gross - self._weighing.tare_g
            stable = bool(r and r.stable)
            item = self._weighing.item
            price = Money(_round_half_up(item.unit_price.minor * net, 1000), cur) if stable and net > 0 else None
            weighing = WeighingView(item.sku, item.name_en, item.name_zh, item.unit_price, gross, self._weighing.tare_g, net, stable, price)
        bagging = None
        if self._expect is not None:
            e = self._expect
            # whole seconds (rounded up): the snapshot changes once a second while the shopper
            # bags, not on every tick, so screens are not redrawn for nothing
            left = float(math.ceil(max(0.0, self._settings.bagging_timeout_s - (self._clock.monotonic() - e.started))))
            bagging = BaggingView(e.line_id, None if e.grams is None else abs(e.grams), e.tolerance_g, e.removing, left)
        approved = [p for p in self._payments.values() if p.status is PaymentOutcome.APPROVED]
        pending = None
        if self._pending_payment is not None:
            p = self._payments[self._pending_payment]
            pending = PendingPayment(p.payment_id, p.tender, p.amount, p.provider)
        return CheckoutSnapshot(
            state=self._state,
            language=self._language,
            lines=tuple(lines),
            subtotal=priced.subtotal,
            savings=priced.total_savings,
            total=priced.total,
            item_count=self._basket.item_count,
            last_line_id=self._last_line_id,
            request=self._request.request if self._request else None,
            member=self._member,
            member_phone_masked=self._member.masked_phone if self._member else None,
            coupons=tuple(self._coupons),
            sale_id=self._sale_id,
            amount_due=self._remaining() if self._sale_id else None,
            paid=Money(sum(p.amount.minor for p in approved), cur),
            change=Money(sum(p.change.minor for p in approved if p.change is not None), cur),
            payments=tuple(
                SalePayment(p.payment_id, p.tender, p.amount, p.at, p.provider, p.reference, p.tendered, p.change, p.points)
                for p in approved
            ),
            pending_payment=pending,
            cash_drawer_open=self._cash_open,
            qr=self._qr,
            weighing=weighing,
            bagging=bagging,
            help_requested=self._help_request_id is not None,
            edge_online=self._edge_online,
            message=self._message_last,
            finished_sale=self._finished,
            suspend_token=self._suspend_token,
            catalogue_version=self._catalogue.version,
        )

    _HANDLERS: Mapping[type, Callable[[CheckoutEngine, Any], None]] = {
        ChooseLanguage: _on_language,
        Start: _on_start,
        Scan: _on_scan,
        OpenLookup: _on_open_lookup,
        CloseLookup: _on_close_lookup,
        SelectItem: _on_select,
        ProduceReading: _on_produce,
        TareProduceScale: _on_tare,
        ConfirmWeight: _on_confirm_weight,
        CancelWeighing: _on_cancel_weighing,
        BagReading: _on_bag,
        ChangeQuantity: _on_change_quantity,
        RemoveLine: _on_remove,
        RequestSkipBagging: _on_skip_bagging,
        RequestPriceOverride: _on_price_override,
        EnterPhone: _on_phone,
        ClearMember: _on_clear_member,
        EnterCoupon: _on_coupon,
        CancelTransaction: _on_cancel_transaction,
        Suspend: _on_suspend,
        RequestHelp: _on_help,
        Pay: _on_pay,
        BackToScanning: _on_back,
        PayByCard: _on_card,
        PayByQr: _on_qr,
        PayByStoredValue: _on_stored_value,
        PayByPoints: _on_points,
        PayByCash: _on_cash,
        CashTendered: _on_cash_tendered,
        PaymentQrReady: _on_qr_ready,
        PaymentResult: _on_payment_result,
        CancelPayment: _on_cancel_payment,
        ChooseReceipt: _on_receipt,
        ApprovePin: _on_approve_pin,
        ApproveRemote: _on_approve_remote,
        EdgeStatus: _on_edge,
        Tick: _on_tick,
    }


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)
