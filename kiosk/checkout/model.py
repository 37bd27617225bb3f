"""States, events and effects of the checkout engine: plain frozen values.

Events go in (:meth:`kiosk.checkout.engine.CheckoutEngine.handle`), effects come out; the
composition root wires effects to devices (beeper, light, drawer, printer, payment providers,
the bus). Payment results from a provider are fed back as
:class:`kiosk.payments.PaymentResult` values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Union

from kiosk.checkout.staff import Role
from kiosk.payments.model import PaymentRequest, PaymentResult
from retail.money import Money

if TYPE_CHECKING:
    from kiosk.checkout.sale import Approval, FinishedSale

__all__ = [
    "ApprovalMethod",
    "AttendantReason",
    "CheckoutState",
    "Effect",
    "Event",
    "LaneLight",
    "ReceiptChoice",
]


class CheckoutState(str, Enum):
    WELCOME = "welcome"
    SCANNING = "scanning"
    LOOKING_UP = "looking_up"
    WEIGHING = "weighing"
    WAITING_FOR_BAGGING = "waiting_for_bagging"
    NEEDS_ATTENDANT = "needs_attendant"
    PAYING = "paying"
    RECEIPT = "receipt"
    THANK_YOU = "thank_you"


class AttendantReason(str, Enum):
    AGE_RESTRICTED = "age_restricted"
    VOID_ITEM = "void_item"
    CANCEL_TRANSACTION = "cancel_transaction"
    PRICE_OVERRIDE = "price_override"
    UNEXPECTED_ITEM = "unexpected_item"
    ITEM_REMOVED = "item_removed"
    BAGGING_MISMATCH = "bagging_mismatch"
    BAGGING_TIMEOUT = "bagging_timeout"
    SKIP_BAGGING = "skip_bagging"
    CASH_PAYMENT = "cash_payment"
    HELP = "help"  # a shopper's help request (a flag, not a blocking state)

    @property
    def bagging(self) -> bool:
        return self in _BAGGING_REASONS


_BAGGING_REASONS = frozenset(
    {
        AttendantReason.UNEXPECTED_ITEM,
        AttendantReason.ITEM_REMOVED,
        AttendantReason.BAGGING_MISMATCH,
        AttendantReason.BAGGING_TIMEOUT,
    }
)


class ApprovalMethod(str, Enum):
    PIN = "pin"
    BADGE = "badge"
    REMOTE = "remote"


class LaneLight(str, Enum):
    """The lane light the engine asks for (values match ``kiosk.devices.light.LightState``)."""

    IDLE = "idle"
    ASSISTANCE = "assistance"
    ALARM = "alarm"


class ReceiptChoice(str, Enum):
    PRINT = "print"
    E_RECEIPT = "e_receipt"  # a QR the shopper scans to get the receipt on the phone
    NONE = "none"


# ============================================================================================
# Events
# ============================================================================================


@dataclass(frozen=True, slots=True)
class ChooseLanguage:
    language: str  # "en" or "zh_CN"


@dataclass(frozen=True, slots=True)
class Start:
    """The shopper touched "Start" (or "New shopper" on the thank-you screen)."""


@dataclass(frozen=True, slots=True)
class Scan:
    text: str
    symbology: str | None = None


@dataclass(frozen=True, slots=True)
class OpenLookup:
    """"Items without a barcode": open the category grid / search."""


@dataclass(frozen=True, slots=True)
class CloseLookup:
    pass


@dataclass(frozen=True, slots=True)
class SelectItem:
    """The shopper picked an item in the lookup (or a quick-pick button)."""

    sku: str
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class ProduceReading:
    """A produce-scale reading (duck-types ``kiosk.devices.scale.WeightReading``)."""

    grams: int
    stable: bool

    @classmethod
    def of(cls, reading: object) -> ProduceReading:
        usable = getattr(reading, "usable", None)
        stable = bool(usable) if usable is not None else bool(getattr(reading, "stable"))
        return cls(int(getattr(reading, "grams")), stable)


@dataclass(frozen=True, slots=True)
class TareProduceScale:
    """Take the current produce-scale weight as the container's (tare)."""


@dataclass(frozen=True, slots=True)
class ConfirmWeight:
    pass


@dataclass(frozen=True, slots=True)
class CancelWeighing:
    pass


@dataclass(frozen=True, slots=True)
class BagReading:
    """A bagging-scale reading: the total weight in the bagging area."""

    grams: int
    stable: bool

    @classmethod
    def of(cls, reading: object) -> BagReading:
        usable = getattr(reading, "usable", None)
        stable = bool(usable) if usable is not None else bool(getattr(reading, "stable"))
        return cls(int(getattr(reading, "grams")), stable)


@dataclass(frozen=True, slots=True)
class ChangeQuantity:
    line_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class RemoveLine:
    line_id: str


@dataclass(frozen=True, slots=True)
class RequestSkipBagging:
    """A bulky item: ask an attendant to let it stay out of the bagging area."""


@dataclass(frozen=True, slots=True)
class RequestPriceOverride:
    """Set a line's price (the whole line) — needs a supervisor by default."""

    line_id: str
    price: Money
    why: str = ""


@dataclass(frozen=True, slots=True)
class EnterPhone:
    phone: str


@dataclass(frozen=True, slots=True)
class ClearMember:
    pass


@dataclass(frozen=True, slots=True)
class EnterCoupon:
    code: str


@dataclass(frozen=True, slots=True)
class CancelTransaction:
    pass


@dataclass(frozen=True, slots=True)
class Suspend:
    pass


@dataclass(frozen=True, slots=True)
class RequestHelp:
    pass


@dataclass(frozen=True, slots=True)
class Pay:
    pass


@dataclass(frozen=True, slots=True)
class BackToScanning:
    pass


@dataclass(frozen=True, slots=True)
class PayByCard:
    amount: Money | None = None  # None: what is still due


@dataclass(frozen=True, slots=True)
class PayByQr:
    provider: str  # "wechat", "alipay"
    amount: Money | None = None


@dataclass(frozen=True, slots=True)
class PayByStoredValue:
    amount: Money | None = None  # None: as much as the balance covers


@dataclass(frozen=True, slots=True)
class PayByPoints:
    points: int


@dataclass(frozen=True, slots=True)
class PayByCash:
    """Cash is attendant-assisted: an attendant approves, the drawer opens."""


@dataclass(frozen=True, slots=True)
class CashTendered:
    """The cash handed over (entered by the attendant while the drawer is open)."""

    amount: Money


@dataclass(frozen=True, slots=True)
class PaymentQrReady:
    """The gateway made the QR for a mobile payment (fed back by the composition root)."""

    payment_id: str
    payload: str


@dataclass(frozen=True, slots=True)
class CancelPayment:
    pass


@dataclass(frozen=True, slots=True)
class ChooseReceipt:
    choice: ReceiptChoice


@dataclass(frozen=True, slots=True)
class ApprovePin:
    """An attendant typed a PIN at the kiosk (``approve=False`` refuses the request)."""

    pin: str
    approve: bool = True
    why: str = ""


@dataclass(frozen=True, slots=True)
class ApproveRemote:
    """An approval sent from the staff console through the edge."""

    request_id: str
    staff_id: str
    approve: bool = True
    why: str = ""


@dataclass(frozen=True, slots=True)
class EdgeStatus:
    online: bool


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed (the UI sends one about twice a second); timeouts are checked."""


Event = Union[
    ChooseLanguage, Start, Scan, OpenLookup, CloseLookup, SelectItem, ProduceReading,
    TareProduceScale, ConfirmWeight, CancelWeighing, BagReading, ChangeQuantity, RemoveLine,
    RequestSkipBagging, RequestPriceOverride, EnterPhone, ClearMember, EnterCoupon,
    CancelTransaction, Suspend, RequestHelp, Pay, BackToScanning, PayByCard, PayByQr,
    PayByStoredValue, PayByPoints, PayByCash, CashTendered, PaymentQrReady, PaymentResult,
    CancelPayment, ChooseReceipt, ApprovePin, ApproveRemote, EdgeStatus, Tick,
]


# ============================================================================================
# Effects
# ============================================================================================


@dataclass(frozen=True, slots=True)
class Beep:
    tone: str  # "ok", "error", "attention"


@dataclass(frozen=True, slots=True)
class Flash:
    """Scan feedback on the light (``kiosk.devices.light.StatusLight.flash_scan``)."""


@dataclass(frozen=True, slots=True)
class SetLight:
    state: LaneLight


@dataclass(frozen=True, slots=True)
class OpenDrawer:
    request_id: str


@dataclass(frozen=True, slots=True)
class PrintReceipt:
    sale: FinishedSale


@dataclass(frozen=True, slots=True)
class ShowQr:
    payload: str
    purpose: str  # "payment", "e_receipt", "suspend"


@dataclass(frozen=True, slots=True)
class ShowMessage:
    """A message for the shopper, by code (the UI translates): ``item_not_found``, ..."""

    code: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PublishHelpRequest:
    request_id: str
    reason: AttendantReason
    required_role: Role
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PublishHelpCleared:
    request_id: str
    reason: AttendantReason


@dataclass(frozen=True, slots=True)
class ApprovalRefused:
    """Someone tried to approve and may not (unknown PIN, role too low, stale request)."""

    request_id: str
    staff_id: str | None
    why: str


@dataclass(frozen=True, slots=True)
class StartCardPayment:
    request: PaymentRequest


@dataclass(frozen=True, slots=True)
class CancelCardPayment:
    payment_id: str


@dataclass(frozen=True, slots=True)
class RequestQrPayment:
    request: PaymentRequest


@dataclass(frozen=True, slots=True)
class CancelQrPayment:
    payment_id: str


@dataclass(frozen=True, slots=True)
class SaleFinished:
    """Journal this sale (before printing its receipt)."""

    sale: FinishedSale


@dataclass(frozen=True, slots=True)
class TransactionCancelled:
    skus: tuple[str, ...]
    approvals: tuple[Approval, ...]


@dataclass(frozen=True, slots=True)
class BasketSuspended:
    token: str
    item_count: int


Effect = Union[
    Beep, Flash, SetLight, OpenDrawer, PrintReceipt, ShowQr, ShowMessage, PublishHelpRequest,
    PublishHelpCleared, ApprovalRefused, StartCardPayment, CancelCardPayment, RequestQrPayment,
    CancelQrPayment, SaleFinished, TransactionCancelled, BasketSuspended,
]
