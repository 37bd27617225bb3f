"""The kiosk's root view-model: which screen is showing, the shared language, help, messages.

Two ways to drive it:

* **bound to the checkout engine** (:meth:`KioskViewModel.bind_engine`): every engine
  snapshot goes to :meth:`apply`, which hands it to each screen's view-model and picks the
  screen from the engine's state (plus the screens a shopper opens on top of scanning or
  paying: member, coupon, staff price change). Actions become checkout events sent through
  ``send``. Engine messages (``ShowMessage``) appear for a few seconds (:meth:`on_effects`).
* **stand-alone** (demo and early UI tests): ``start_session`` / ``request_help`` work
  locally and a simulated basket is pushed into the scan view-model.

Everything here is plain Python and runs without a window.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from kiosk.viewmodels.attendant import AttendantViewModel
from kiosk.viewmodels.base import ScreenViewModel, Send
from kiosk.viewmodels.finish import PriceOverrideViewModel, ReceiptViewModel, SuspendedViewModel, ThankYouViewModel
from kiosk.viewmodels.i18n import I18n, Language
from kiosk.viewmodels.lookup import LookupViewModel
from kiosk.viewmodels.member import CouponViewModel, MemberViewModel
from kiosk.viewmodels.observable import Observable
from kiosk.viewmodels.payment import CashViewModel, PayViewModel, QrPayViewModel
from kiosk.viewmodels.scan import ScanViewModel
from kiosk.viewmodels.weighing import WeighingViewModel
from kiosk.viewmodels.welcome import WelcomeViewModel
from retail.clock import Clock, SystemClock

if TYPE_CHECKING:
    from kiosk.catalogue_replica import CatalogueReplica
    from kiosk.checkout import CheckoutSnapshot
    from retail.loyalty import LoyaltyProgram

__all__ = ["KioskViewModel", "MESSAGE_SECONDS", "ScreenName", "screen_for"]

logger = logging.getLogger(__name__)

MESSAGE_SECONDS = 4.0  # how long an engine message stays on screen
QUIET_MESSAGES = frozenset(
    {"not_now", "payment_complete", "help_on_the_way", "follow_card_terminal", "take_change", "take_item_off_bagging_area"}
)


class ScreenName(str, Enum):
    WELCOME = "welcome"
    SCAN = "scan"
    LOOKUP = "lookup"
    WEIGHING = "weighing"
    ATTENDANT = "attendant"
    AGE_CHECK = "age_check"
    MEMBER = "member"
    COUPON = "coupon"
    PAY = "pay"
    QR = "qr"
    CASH = "cash"
    RECEIPT = "receipt"
    THANK_YOU = "thank_you"
    SUSPENDED = "suspended"
    PRICE = "price"


_OVERLAYS_WHILE_SCANNING = frozenset({ScreenName.MEMBER, ScreenName.COUPON, ScreenName.PRICE})


def screen_for(snap: CheckoutSnapshot, overlay: ScreenName | None = None) -> ScreenName:
    """The screen that shows the engine's state (``overlay``: a screen the shopper opened)."""
    state = snap.state.value
    if state == "welcome":
        return ScreenName.WELCOME
    if state in ("scanning", "waiting_for_bagging"):
        if state == "scanning" and overlay in _OVERLAYS_WHILE_SCANNING:
            return overlay
        return ScreenName.SCAN
    if state == "looking_up":
        return ScreenName.LOOKUP
    if state == "weighing":
        return ScreenName.WEIGHING
    if state == "needs_attendant":
        if snap.request is not None and snap.request.reason.value == "age_restricted":
            return ScreenName.AGE_CHECK
        return ScreenName.ATTENDANT
    if state == "paying":
        if snap.cash_drawer_open:
            return ScreenName.CASH
        if snap.pending_payment is not None and snap.pending_payment.tender.value == "mobile_qr":
            return ScreenName.QR
        if overlay is ScreenName.MEMBER:
            return ScreenName.MEMBER
        return ScreenName.PAY
    if state == "receipt":
        return ScreenName.RECEIPT
    if state == "thank_you":
        if snap.qr is not None and snap.qr.purpose == "suspend":
            return ScreenName.SUSPENDED
        return ScreenName.THANK_YOU
    raise ValueError(f"no screen for state {state!r}")


class KioskViewModel(Observable):
    """Owns the screen view-models and navigation. Listeners hear ``screen``, ``help``,
    ``labels``, ``message``, ``staff``."""

    def __init__(
        self,
        *,
        shop_name: str,
        currency: str = "CNY",
        language: Language | str = Language.EN,
        clock: Clock | None = None,
        on_session_start: Callable[[], None] | None = None,
        catalogue: CatalogueReplica | None = None,
        loyalty: LoyaltyProgram | None = None,
    ) -> None:
        super().__init__()
        self.on_session_start = on_session_start
        self.clock: Clock = clock or SystemClock()
        self.currency = currency
        self.i18n = I18n(language)
        self.welcome = WelcomeViewModel(self.i18n, shop_name, on_start=self.start_session, on_help=self.request_help)
        self.scan = ScanViewModel(self.i18n, currency=currency, on_help=self.request_help)
        kw: dict[str, Any] = {"currency": currency}
        self.lookup = LookupViewModel(self.i18n, catalogue, **kw)
        self.weighing = WeighingViewModel(self.i18n, **kw)
        self.attendant = AttendantViewModel(self.i18n, **kw)
        self.member = MemberViewModel(self.i18n, **kw)
        self.coupon = CouponViewModel(self.i18n, **kw)
        self.pay = PayViewModel(self.i18n, loyalty=loyalty, **kw)
        self.qr = QrPayViewModel(self.i18n, **kw)
        self.cash = CashViewModel(self.i18n, **kw)
        self.receipt = ReceiptViewModel(self.i18n, **kw)
        self.thank_you = ThankYouViewModel(self.i18n, receipt=self.receipt, **kw)
        self.suspended = SuspendedViewModel(self.i18n, **kw)
        self.price = PriceOverrideViewModel(self.i18n, **kw)
        self._screen = ScreenName.WELCOME
        self._overlay: ScreenName | None = None
        self._help_since: datetime | None = None
        self._help_dismissed = False
        self._send: Send | None = None
        self._snap: CheckoutSnapshot | None = None
        self._message: tuple[str, str, float] | None = None
        self._lock = threading.RLock()
        self._subscription = self.i18n.on_change(lambda _names: self._changed({"labels"}))
        # navigation between screens the engine does not know about
        self.scan.on_member = lambda: self.open_overlay(ScreenName.MEMBER)
        self.scan.on_coupon = lambda: self.open_overlay(ScreenName.COUPON)
        self.scan.on_price = self._open_price
        self.scan.on_language = self.toggle_language
        self.pay.on_member = lambda: self.open_overlay(ScreenName.MEMBER)
        self.member.on_done = self.close_overlay
        self.coupon.on_done = self.close_overlay
        self.price.on_done = self.close_overlay

    @property
    def screen_view_models(self) -> dict[ScreenName, Observable]:
        return {
            ScreenName.WELCOME: self.welcome, ScreenName.SCAN: self.scan, ScreenName.LOOKUP: self.lookup,
            ScreenName.WEIGHING: self.weighing, ScreenName.ATTENDANT: self.attendant,
            ScreenName.AGE_CHECK: self.attendant, ScreenName.MEMBER: self.member, ScreenName.COUPON: self.coupon,
            ScreenName.PAY: self.pay, ScreenName.QR: self.qr, ScreenName.CASH: self.cash,
            ScreenName.RECEIPT: self.receipt, ScreenName.THANK_YOU: self.thank_you,
            ScreenName.SUSPENDED: self.suspended, ScreenName.PRICE: self.price,
        }

    def _engine_view_models(self) -> list[ScreenViewModel]:
        return [self.lookup, self.weighing, self.attendant, self.member, self.coupon, self.pay, self.qr,
                self.cash, self.receipt, self.thank_you, self.suspended, self.price]

    # -- the engine -------------------------------------------------------------------------
    @property
    def engine_bound(self) -> bool:
        return self._send is not None

    def bind_engine(self, send: Send) -> None:
        """Send every action as a checkout event through ``send`` (the app wiring's ``post``)."""
        from kiosk.checkout.model import OpenLookup, Pay

        self._send = send
        self.scan.send = send
        self.scan.on_pay = lambda: send(Pay())
        self.scan.on_lookup = lambda: send(OpenLookup())
        for vm in self._engine_view_models():
            vm.send = send

    def send(self, event: Any) -> None:
        if self._send is not None:
            self._send(event)

    @property
    def snapshot(self) -> CheckoutSnapshot | None:
        return self._snap

    def apply(self, snap: CheckoutSnapshot) -> None:
        """Show an engine snapshot: every screen's view-model, then the screen to show."""
        with self._lock:
            previous = self._snap
            if snap == previous:
                return  # a tick that changed nothing
            self._snap = snap
            state = snap.state.value
            was_welcome = previous is None or previous.state.value == "welcome"
            if state == "welcome":
                if not was_welcome:
                    self.i18n.set_language(snap.language)  # a new shopper: the default language
                    self.lookup.reset()
            elif was_welcome and snap.language != self.i18n.language.value:
                # the shopper chose a language on the welcome screen, then scanned straight away
                self.send_language(self.i18n.language.value)
            else:
                self.i18n.set_language(snap.language)
            if previous is not None and previous.state.value == "looking_up" and state != "looking_up":
                self.lookup.reset()
            if self._overlay is not None:
                keep = (state == "scanning" and self._overlay in _OVERLAYS_WHILE_SCANNING) or (
                    state == "paying" and self._overlay is ScreenName.MEMBER
                )
                if not keep:
                    self._overlay = None
            help_was = previous.help_requested if previous is not None else False
            if snap.help_requested and not help_was:
                self._help_dismissed = False
                self._help_since = self.clock.now()
            elif not snap.help_requested:
                self._help_since = None
        self.scan.apply(snap)
        for vm in self._engine_view_models():
            vm.apply(snap)
        staff_changed = previous is None or previous.edge_online != snap.edge_online
        self.go(screen_for(snap, self._overlay))
        self._changed({"help", "state"} | ({"staff"} if staff_changed else set()))

    def send_language(self, code: str) -> None:
        from kiosk.checkout.model import ChooseLanguage

        self.send(ChooseLanguage(code))

    def on_effects(self, effects: tuple[Any, ...]) -> None:
        """Effects the screens show: engine messages and the suspended basket's item count."""
        for effect in effects:
            kind = type(effect).__name__
            if kind == "ShowMessage" and effect.code not in QUIET_MESSAGES:
                self.show_message(effect.code, effect.detail)
            elif kind == "BasketSuspended":
                self.suspended.set_item_count(effect.item_count)

    # -- overlays -----------------------------------------------------------------------------
    @property
    def overlay(self) -> ScreenName | None:
        return self._overlay

    def open_overlay(self, screen: ScreenName) -> None:
        self._overlay = ScreenName(screen)
        if self._snap is not None:
            self.go(screen_for(self._snap, self._overlay))
        else:
            self.go(self._overlay)

    def close_overlay(self) -> None:
        self._overlay = None
        if self._snap is not None:
            self.go(screen_for(self._snap, None))

    def _open_price(self, line_id: str) -> None:
        self.price.open(line_id)
        self.open_overlay(ScreenName.PRICE)

    # -- messages -----------------------------------------------------------------------------
    def show_message(self, code: str, detail: str = "") -> None:
        key = f"msg.{code}"
        if not self.i18n.has(key):
            logger.warning("no text for engine message %r", code)
            return
        if code == "approval_role_too_low" and self.i18n.has(f"role.{detail}"):
            detail = self.i18n.t(f"role.{detail}")
        with self._lock:
            self._message = (key, detail, self.clock.monotonic() + MESSAGE_SECONDS)
        self._changed({"message"})

    @property
    def message_code(self) -> str:
        message = self._message
        return "" if message is None else message[0][4:]

    @property
    def message_text(self) -> str:
        message = self._message
        if message is None:
            return ""
        key, detail, _until = message
        return self.i18n.t(key, detail=detail)

    def expire_message(self) -> None:
        """Hide the message once its time is up (the app calls this on its tick)."""
        message = self._message
        if message is not None and self.clock.monotonic() >= message[2]:
            self._message = None
            self._changed({"message"})

    # -- staff ---------------------------------------------------------------------------------
    @property
    def offline_text(self) -> str:
        """The staff-only indicator that the edge is out of reach ("" while online)."""
        snap = self._snap
        if snap is not None:
            return self.i18n.t("status.offline") if not snap.edge_online else ""
        return self.scan.offline_text

    # -- stand-alone behaviour ------------------------------------------------------------------
    @property
    def shop_name(self) -> str:
        return self.welcome.shop_name

    @property
    def screen(self) -> ScreenName:
        return self._screen

    def go(self, screen: ScreenName | str) -> None:
        target = ScreenName(screen)
        if target is self._screen:
            return
        logger.info("screen %s -> %s", self._screen.value, target.value)
        self._screen = target
        changed = {"screen"}
        if self._message is not None and self._message[0] != "msg.sale_not_saved":
            self._message = None  # a message belongs to the screen it came up on
            changed.add("message")
        self._changed(changed)

    def start_session(self) -> None:
        """The shopper touched the welcome screen: start (with the engine: in their language)."""
        if self.engine_bound:
            self.send_language(self.i18n.language.value)  # ChooseLanguage starts a session
            return
        self.scan.clear()
        if self.on_session_start is not None:
            self.on_session_start()
        self.go(ScreenName.SCAN)

    def end_session(self) -> None:
        """Back to the welcome screen in the default language, help call cleared."""
        self.cancel_help()
        self.scan.clear()
        self.i18n.set_language(Language.EN)
        self.go(ScreenName.WELCOME)

    def toggle_language(self) -> None:
        """The language switch: with the engine, the sale's language changes too."""
        if self.engine_bound and self._snap is not None and self._snap.state.value != "welcome":
            self.send_language(self.i18n.other_language.value)
        else:
            self.i18n.toggle()

    # -- help ------------------------------------------------------------------------------
    @property
    def help_requested(self) -> bool:
        """Whether the help banner shows."""
        if self.engine_bound and self._snap is not None:
            return self._snap.help_requested and not self._help_dismissed
        return self._help_since is not None

    @property
    def help_since(self) -> datetime | None:
        return self._help_since

    @property
    def help_text(self) -> str:
        return self.i18n.t("help.banner") if self.help_requested else ""

    @property
    def cancel_help_text(self) -> str:
        return self.i18n.t("help.dismiss" if self.engine_bound else "help.cancel")

    def request_help(self) -> None:
        if self.engine_bound:
            from kiosk.checkout.model import RequestHelp

            self._help_dismissed = False
            self.send(RequestHelp())
            return
        if self._help_since is not None:
            return  # already called; a second touch is not a second call
        self._help_since = self.clock.now()
        logger.info("shopper asked for help on the %s screen", self._screen.value)
        self._changed({"help"})

    def cancel_help(self) -> None:
        """Stand-alone: cancel the call. With the engine: hide the banner (the attendant
        still comes; the call is cleared when they acknowledge it)."""
        if self.engine_bound:
            if not self._help_dismissed:
                self._help_dismissed = True
                self._changed({"help"})
            return
        if self._help_since is None:
            return
        self._help_since = None
        self._changed({"help"})

    def close(self) -> None:
        """Drop the internal subscriptions (idempotent)."""
        self._subscription.cancel()
        self.welcome.close()
        self.scan.close()
        for vm in self._engine_view_models():
            vm.close()
