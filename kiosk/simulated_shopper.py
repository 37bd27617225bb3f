"""A **simulated** shopper (and the attendant who helps): drives a running lane like people do.

**This is a simulator**, for the demo, soak runs and tests; it touches nothing real. It uses
the lane only as a person would: touches become checkout events posted to the runtime (the
same events the screens send), goods go past the **simulated** scanner and onto the
**simulated** bagging and produce scales, cards and phones are the **simulated** payment
providers, and the simulated attendant types a PIN after a short delay.

Per shopper: pick a language and start; sometimes give a member phone; scan 1–5 items with a
GTIN from the replica and put each in the bagging area at its weight (the item's
``unit_weight_g``, or a weight the shopper keeps for that product, give or take a few grams);
sometimes weigh produce through the lookup on the produce scale; sometimes scan a coupon;
sometimes ask for help or buy an age-restricted item (the attendant approves); pay by card, by
mobile QR (the simulated gateway's payload "scanned" with a phone), by cash (the attendant
approves with a PIN, the cash goes in, the drawer is pushed shut) or split; choose a receipt;
take the bags and go. The pace is ``seconds_per_step`` (a compressed trading day runs fast);
the choices are seeded. :class:`ShopperStats` counts what happened.

    shopper = SimulatedShopper.for_service(service, seed=7, seconds_per_step=0.05)
    shopper.start()            # on its own thread, until stop()
    ...
    stats = shopper.stop()

Nothing runs at import.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.checkout import CheckoutSnapshot, CheckoutState, ReceiptChoice
from kiosk.checkout import model as m
from kiosk.checkout.engine import COUPON_PREFIX
from kiosk.devices.scale import SimulatedScale
from kiosk.devices.scanner import SimulatedBarcodeScanner
from kiosk.errors import KioskError
from kiosk.payments import SimulatedPaymentGateway, SimulatedPaymentTerminal
from kiosk.payments.errors import PaymentError
from retail.catalogue import CatalogueItem
from retail.money import Money

__all__ = ["ShopperError", "ShopperMix", "ShopperStats", "ShopperTarget", "SimulatedShopper"]

log = logging.getLogger(__name__)

S = CheckoutState
DEMO_MEMBER_PHONES = ("13812345678",)
_NOTES_MINOR = (1000, 2000, 5000, 10000)  # the notes a shopper hands over (10, 20, 50, 100)
BULKY_G = 5000  # heavier items stay in the trolley: the shopper asks to skip bagging
BAG_AREA_LIMIT_G = 20000  # the bagging area takes no more than this


class ShopperError(KioskError, TypeError):
    """The lane cannot be driven by the simulated shopper (a device is not a simulator)."""


@dataclass(frozen=True)
class ShopperMix:
    """How often shoppers do each thing (probabilities per shopper unless said otherwise)."""

    min_items: int = 1
    max_items: int = 5
    produce: float = 0.25  # per item: weigh produce through the lookup instead of scanning
    member: float = 0.3
    coupon: float = 0.15
    help: float = 0.05
    age_restricted: float = 0.1  # add one age-restricted item (the attendant checks the age)
    pay: tuple[tuple[str, float], ...] = (("card", 0.45), ("mobile_qr", 0.3), ("cash", 0.15), ("split", 0.1))
    receipt: tuple[tuple[str, float], ...] = (("print", 0.4), ("e_receipt", 0.2), ("none", 0.4))
    qr_providers: tuple[str, ...] = ("wechat", "alipay")

    def __post_init__(self) -> None:
        if not 1 <= self.min_items <= self.max_items:
            raise ValueError("1 <= min_items <= max_items")
        for name in ("produce", "member", "coupon", "help", "age_restricted"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability")


@dataclass
class ShopperStats:
    """What the simulated shoppers did."""

    shoppers: int = 0
    sales_completed: int = 0
    items: int = 0
    produce_weighed: int = 0
    members: int = 0
    coupons: int = 0
    help_requests: int = 0
    age_checks: int = 0
    attendant_approvals: int = 0
    aborted: int = 0
    payments: Counter[str] = field(default_factory=Counter)
    receipts: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "shoppers": self.shoppers, "sales_completed": self.sales_completed, "items": self.items,
            "produce_weighed": self.produce_weighed, "members": self.members, "coupons": self.coupons,
            "help_requests": self.help_requests, "age_checks": self.age_checks,
            "attendant_approvals": self.attendant_approvals, "aborted": self.aborted,
            "payments": dict(self.payments), "receipts": dict(self.receipts),
        }


@dataclass
class ShopperTarget:
    """The parts of a lane the shopper touches (every device a simulator)."""

    runtime: Any  # kiosk.app_wiring.KioskRuntime: post(event), engine
    scanner: SimulatedBarcodeScanner
    produce_scale: SimulatedScale
    bag_scale: SimulatedScale
    terminal: SimulatedPaymentTerminal
    gateway: SimulatedPaymentGateway
    drawer: Any = None
    coupon_codes: Callable[[], Sequence[str]] = lambda: ()

    def __post_init__(self) -> None:
        for name, kind in (("scanner", SimulatedBarcodeScanner), ("produce_scale", SimulatedScale),
                           ("bag_scale", SimulatedScale), ("terminal", SimulatedPaymentTerminal),
                           ("gateway", SimulatedPaymentGateway)):
            if not isinstance(getattr(self, name), kind):
                raise ShopperError(f"the simulated shopper needs a simulated {name}, not {type(getattr(self, name)).__name__}")


class _Stopped(Exception):
    """Internal: the shopper was asked to stop."""


class _Stuck(Exception):
    """Internal: the lane did not get where the shopper expected."""


class SimulatedShopper:
    """A **simulator** of one shopper after another at one lane (see the module docstring).

    ``seconds_per_step`` is the pause between a person's actions; ``wait_s`` how long a
    shopper waits for the lane before the attendant sorts things out; ``attendant_pin`` the
    simulated attendant's PIN (the demo staff's ``1111``), typed after
    ``attendant_delay_steps`` steps.
    """

    def __init__(
        self,
        target: ShopperTarget,
        *,
        seed: int = 0,
        seconds_per_step: float = 0.2,
        mix: ShopperMix | None = None,
        attendant_pin: str = "1111",
        attendant_delay_steps: int = 2,
        member_phones: Sequence[str] = DEMO_MEMBER_PHONES,
        wait_s: float = 15.0,
    ) -> None:
        if seconds_per_step < 0 or wait_s <= 0:
            raise ValueError("seconds_per_step must be ≥ 0 and wait_s positive")
        self.target = target
        self.seed = seed
        self.rng = random.Random(seed)
        self.seconds_per_step = seconds_per_step
        self.mix = mix or ShopperMix()
        self.attendant_pin = attendant_pin
        self.attendant_delay_steps = attendant_delay_steps
        self.member_phones = tuple(member_phones)
        self.wait_s = wait_s
        self.stats = ShopperStats()
        self._weights: dict[str, int] = {}  # what each product really weighs, per SKU
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- building -----------------------------------------------------------------------------
    @classmethod
    def for_service(cls, service: Any, **options: Any) -> SimulatedShopper:
        """A shopper for a :class:`kiosk.service.KioskService` built with simulated devices."""
        devices = service.devices
        scanner = getattr(devices.scanner, "inner", devices.scanner)
        target = ShopperTarget(
            runtime=service.runtime, scanner=scanner, produce_scale=devices.produce_scale,
            bag_scale=devices.bag_scale, terminal=service.terminal, gateway=service.gateway, drawer=devices.drawer,
            coupon_codes=lambda: tuple(p.coupon_code for p in (service.promotions.promotions if service.promotions else ())
                                       if getattr(p, "coupon_code", None)),
        )
        return cls(target, **options)

    @classmethod
    def for_lane(cls, lane: Any, *, coupon_codes: Sequence[str] | None = None, **options: Any) -> SimulatedShopper:
        """A shopper for :func:`kiosk.app_wiring.build_simulated_runtime`'s lane (its coupons
        are the demo promotions' unless ``coupon_codes`` says otherwise)."""
        if coupon_codes is None:
            from kiosk.app_wiring import demo_promotions

            promotions = demo_promotions(lane.runtime.engine.catalogue).promotions
            coupon_codes = tuple(p.coupon_code for p in promotions if getattr(p, "coupon_code", None))
        codes = tuple(coupon_codes)
        d = lane.devices
        target = ShopperTarget(
            runtime=lane.runtime, scanner=getattr(d.scanner, "inner", d.scanner), produce_scale=d.produce_scale,
            bag_scale=d.bag_scale, terminal=lane.terminal, gateway=lane.gateway, drawer=d.drawer,
            coupon_codes=lambda: codes,
        )
        return cls(target, **options)

    # -- running ------------------------------------------------------------------------------
    def start(self, *, sales: int | None = None) -> threading.Thread:
        """Run shoppers on a thread until :meth:`stop` (or ``sales`` sales)."""
        if self._thread is not None and self._thread.is_alive():
            raise ShopperError("the simulated shopper is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, kwargs={"sales": sales}, name="simulated-shopper",
                                        daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 30.0) -> ShopperStats:
        """Stop after the current action and wait for the thread; returns the counts."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return self.stats

    close = stop

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self, *, sales: int | None = None) -> ShopperStats:
        """Shoppers one after another, until ``sales`` sales completed or :meth:`stop`."""
        while not self._stop.is_set() and (sales is None or self.stats.sales_completed < sales):
            try:
                self.shop_once()
            except _Stopped:
                break
            except Exception:  # noqa: BLE001 - a simulator keeps going; the log says what happened
                log.exception("simulated shopper failed; the next one comes")
                self._pause(5)
        return self.stats

    # -- one shopper ----------------------------------------------------------------------------
    def shop_once(self) -> bool:
        """One shopper from welcome to goodbye; True when the sale completed."""
        try:
            return self._shop()
        except _Stuck as exc:
            log.warning("simulated shopper stuck (%s) in %s; the attendant steps in", exc, self._snap().state.value)
            self.stats.aborted += 1
            self._recover()
            return False

    def _shop(self) -> bool:
        rng, mix = self.rng, self.mix
        self._arrive()
        self.stats.shoppers += 1
        self._post(m.ChooseLanguage(rng.choice(("en", "zh_CN"))))
        self._wait_state({S.SCANNING}, "start")
        self._step()
        if self.member_phones and rng.random() < mix.member:
            self._post(m.EnterPhone(rng.choice(self.member_phones)))
            self.stats.members += 1
            self._step()
        items = self._catalogue_items()
        if not items:
            raise _Stuck("no catalogue to sell from")
        scannable = [i for i in items if i.gtins and not i.by_weight and i.min_age == 0 and _ean(i) is not None]
        produce = [i for i in items if i.by_weight and i.min_age == 0]
        adult = [i for i in items if i.min_age > 0 and not i.by_weight]
        plain = [i for i in items if not i.by_weight and i.min_age == 0]
        count = rng.randint(mix.min_items, mix.max_items)
        help_at = rng.randrange(count) if rng.random() < mix.help else None
        age_at = rng.randrange(count) if adult and rng.random() < mix.age_restricted else None
        for n in range(count):
            if help_at == n:
                self._ask_for_help()
            if age_at == n:
                self._buy(rng.choice(adult))
            elif produce and rng.random() < mix.produce:
                self._weigh(rng.choice(produce))
            elif scannable:
                self._buy(rng.choice(scannable))
            elif plain:
                self._buy(rng.choice(plain))
        codes = list(self.target.coupon_codes())
        if codes and rng.random() < mix.coupon:
            self._scan_text(COUPON_PREFIX + rng.choice(codes))
            self.stats.coupons += 1
            self._step()
        if not self._snap().lines:
            raise _Stuck("nothing in the basket")
        self._pay(_choose(rng, mix.pay))
        self._receipt(_choose(rng, mix.receipt))
        self._leave()
        return True

    # -- steps a person takes ---------------------------------------------------------------------
    def _arrive(self) -> None:
        snap = self._snap()
        if snap.state is S.THANK_YOU:
            self._leave()
        elif snap.state is not S.WELCOME:
            self._recover()
        self._wait_state({S.WELCOME}, "welcome")
        self._step()

    def _buy(self, item: CatalogueItem) -> None:
        """Scan an item (or pick it in the lookup when it has no usable barcode) and bag it."""
        snap = self._snap()
        before, message = snap.item_count, snap.message
        code = _ean(item)
        if code is not None:
            self.target.scanner.scan(code)
        else:
            self._post(m.OpenLookup())
            self._wait_state({S.LOOKING_UP}, "lookup")
            self._step()
            self._post(m.SelectItem(item.sku))
        self._bag(item.sku, self._weight_of(item), before, message)

    def _weigh(self, item: CatalogueItem) -> None:
        """Produce: lookup, pick it, put it on the produce scale, confirm, bag it."""
        snap = self._snap()
        before, message = snap.item_count, snap.message
        self._post(m.OpenLookup())
        self._wait_state({S.LOOKING_UP}, "lookup")
        self._step()
        self._post(m.SelectItem(item.sku))
        self._wait_state({S.WEIGHING}, "weighing")
        grams = self.rng.randint(150, 1800)
        scale = self.target.produce_scale
        scale.clear()
        scale.place(grams)
        self._wait(lambda s: s.weighing is not None and s.weighing.acceptable, "a settled weight")
        self._step()
        self._post(m.ConfirmWeight())
        self._wait(lambda s: s.state is not S.WEIGHING, "the weight taken")
        scale.clear()
        self._settle(scale)
        self.stats.produce_weighed += 1
        self._bag(item.sku, grams, before, message)

    def _bag(self, sku: str, grams: int, before: int, message: Any) -> None:
        """Wait for the lane to ask, then put the item in the bagging area."""
        placed = False

        def settled(s: CheckoutSnapshot) -> bool:
            return s.state is S.SCANNING and (s.item_count > before or placed)

        deadline_checks = 0
        while True:
            snap = self._snap()
            if settled(snap):
                break
            if snap.state is S.WAITING_FOR_BAGGING and not placed and snap.bagging is not None and not snap.bagging.removing:
                self._step()
                if grams >= BULKY_G or self.target.bag_scale.load_g + grams > BAG_AREA_LIMIT_G:
                    self._post(m.RequestSkipBagging())  # a crate of water stays in the trolley
                else:
                    tol = snap.bagging.tolerance_g
                    noise = max(0, min(3, tol // 4))
                    self.target.bag_scale.place(max(5, grams + self.rng.randint(-noise, noise)))
                placed = True
            elif snap.state is S.NEEDS_ATTENDANT:
                self._attendant_approves(snap)
            elif (snap.state is S.SCANNING and snap.message is not None and snap.message is not message
                  and snap.message.code in ("item_not_found", "unknown_code", "unreadable_code")):
                return  # the lane does not know it: the shopper puts it back
            deadline_checks += 1
            if deadline_checks * 0.01 > self.wait_s:
                raise _Stuck(f"bagging {sku}")
            self._pause_s(0.01)
        self.stats.items += 1
        self._step()

    def _ask_for_help(self) -> None:
        self._post(m.RequestHelp())
        self.stats.help_requests += 1
        self._wait(lambda s: s.help_requested, "the help call")
        for _ in range(self.attendant_delay_steps):
            self._step()
        self._post(m.ApprovePin(self.attendant_pin, True, "helped"))
        self.stats.attendant_approvals += 1
        self._wait(lambda s: not s.help_requested, "the attendant")
        self._step()

    def _attendant_approves(self, snap: CheckoutSnapshot) -> None:
        request = snap.request
        if request is not None and request.reason.value == "age_restricted":
            self.stats.age_checks += 1
        for _ in range(self.attendant_delay_steps):
            self._step()
        if self._snap().state is not S.NEEDS_ATTENDANT:
            return
        self._post(m.ApprovePin(self.attendant_pin, True, "simulated attendant"))
        self.stats.attendant_approvals += 1
        rid = request.request_id if request is not None else None
        self._wait(lambda s: s.state is not S.NEEDS_ATTENDANT or (s.request is not None and s.request.request_id != rid),
                   "the attendant's approval")

    def _pay(self, method: str) -> None:
        self._post(m.Pay())
        self._wait_state({S.PAYING, S.RECEIPT}, "the payment screen")
        self._step()
        if self._snap().state is S.RECEIPT:
            return
        if method == "split":
            due = self._snap().amount_due
            if due is not None and due.minor >= 2:
                half = Money(due.minor // 2, due.currency)
                self._pay_card(half)
                self.stats.payments["card"] += 1
                self._wait(lambda s: s.paid.minor > 0 and s.pending_payment is None, "the first part paid")
                self._step()
                rest = "mobile_qr" if self.rng.random() < 0.5 else "cash"
                self._pay_with(rest)
                self.stats.payments["split"] += 1
                self._wait_state({S.RECEIPT}, "the receipt screen")
                return
            method = "card"
        self._pay_with(method)
        self._wait_state({S.RECEIPT}, "the receipt screen")

    def _pay_with(self, method: str) -> None:
        if method == "card":
            self._pay_card(None)
        elif method == "mobile_qr":
            self._pay_qr()
        elif method == "cash":
            self._pay_cash()
        else:
            raise ValueError(f"unknown payment method {method!r}")
        self.stats.payments[method] += 1

    def _pay_card(self, amount: Money | None) -> None:
        terminal = self.target.terminal
        self._post(m.PayByCard(amount))
        self._wait(lambda s: s.pending_payment is not None and bool(terminal.pending), "the card terminal")
        self._step()
        pending = self._snap().pending_payment
        if pending is not None:
            try:
                terminal.approve(pending.payment_id)
            except PaymentError as exc:
                log.info("card payment not approved: %s", exc)

    def _pay_qr(self) -> None:
        provider = self.rng.choice(self.mix.qr_providers)
        self._post(m.PayByQr(provider))
        self._wait(lambda s: s.qr is not None and s.qr.purpose == "payment", "the payment QR")
        self._step()
        qr = self._snap().qr
        if qr is not None:
            try:
                self.target.gateway.scan_with_phone(qr.payload)
            except PaymentError as exc:
                log.info("QR payment not approved: %s", exc)

    def _pay_cash(self) -> None:
        self._post(m.PayByCash())
        self._wait_state({S.NEEDS_ATTENDANT}, "the attendant for cash")
        self._attendant_approves(self._snap())
        self._wait(lambda s: s.cash_drawer_open, "the cash drawer")
        self._step()
        due = self._snap().amount_due
        if due is None:
            raise _Stuck("no amount due for cash")
        remaining = due
        note = next((n for n in _NOTES_MINOR if n >= remaining.minor), None)
        tendered = Money(note if note is not None else -(-remaining.minor // 10000) * 10000, remaining.currency)
        self._post(m.CashTendered(tendered))
        self._wait(lambda s: not s.cash_drawer_open, "the cash taken")
        push = getattr(self.target.drawer, "push_closed", None)
        if callable(push):
            push()

    def _receipt(self, choice: str) -> None:
        self._step()
        self._post(m.ChooseReceipt(ReceiptChoice(choice)))
        self._wait_state({S.THANK_YOU}, "thank you")
        self.stats.receipts[choice] += 1
        self.stats.sales_completed += 1
        self._step()

    def _leave(self) -> None:
        """Take the bags and go; the next shopper touches the screen."""
        for scale in (self.target.bag_scale, self.target.produce_scale):
            scale.clear()
            self._settle(scale)
        self._step()
        if self._snap().state is S.THANK_YOU:
            self._post(m.Start())
        self._wait_state({S.WELCOME}, "the welcome screen")

    def _recover(self) -> None:
        """The attendant sorts the lane out: approves what waits, pays what is pending,
        cancels the basket, clears the bagging area."""
        for _ in range(6):
            snap = self._snap()
            if snap.state is S.WELCOME:
                return
            if snap.state is S.NEEDS_ATTENDANT:
                self._post(m.ApprovePin(self.attendant_pin, True, "attendant reset"))
            elif snap.state is S.PAYING and snap.pending_payment is not None:
                for provider in (self.target.terminal, self.target.gateway):
                    if provider.pending:
                        provider.cancel()
            elif snap.state is S.RECEIPT:
                self._post(m.ChooseReceipt(ReceiptChoice.NONE))
            elif snap.state is S.THANK_YOU:
                self.target.bag_scale.clear()
                self._post(m.Start())
            elif snap.state in (S.WEIGHING, S.LOOKING_UP):
                self._post(m.CloseLookup())
            elif snap.state is S.WAITING_FOR_BAGGING:
                self.target.bag_scale.place(max(5, snap.bagging.expected_g or 50) if snap.bagging else 50)
            else:
                if snap.state is S.PAYING:
                    self._post(m.BackToScanning())
                self._post(m.CancelTransaction())
            self._pause_s(max(0.3, self.seconds_per_step))
        self.target.bag_scale.clear()
        self._settle(self.target.bag_scale)

    # -- helpers --------------------------------------------------------------------------------
    def _catalogue_items(self) -> list[CatalogueItem]:
        catalogue = self.target.runtime.engine.catalogue
        return [catalogue.items[k] for k in sorted(catalogue.items)]

    def _weight_of(self, item: CatalogueItem) -> int:
        grams = self._weights.get(item.sku)
        if grams is None:
            grams = item.unit_weight_g or self.rng.randint(80, 900)
            self._weights[item.sku] = grams
        return grams

    def _settle(self, scale: SimulatedScale) -> None:
        """Wait until ``scale`` has settled and hand its reading over now: the lane sees the
        settled weight before anything the shopper does next (the UI thread's queue is in order)."""
        waited = 0.0
        while not scale.weight().stable:
            if waited > self.wait_s:
                raise _Stuck(f"the {scale.name} scale settling")
            self._pause_s(0.01)
            waited += 0.01
        scale.update()

    def _scan_text(self, text: str) -> None:
        from kiosk.devices.scanner.model import QRCODE

        self.target.scanner.scan(text, QRCODE)

    def _post(self, event: Any) -> None:
        if self._stop.is_set():
            raise _Stopped
        self.target.runtime.post(event)

    def _snap(self) -> CheckoutSnapshot:
        return self.target.runtime.engine.snapshot()

    def _pause_s(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Stopped

    def _pause(self, steps: float) -> None:
        self._pause_s(self.seconds_per_step * steps)

    def _step(self) -> None:
        self._pause_s(self.seconds_per_step)

    def _wait(self, predicate: Callable[[CheckoutSnapshot], bool], what: str) -> CheckoutSnapshot:
        waited = 0.0
        while True:
            snap = self._snap()
            if predicate(snap):
                return snap
            if waited > self.wait_s:
                raise _Stuck(f"waiting for {what}")
            self._pause_s(0.01)
            waited += 0.01

    def _wait_state(self, states: set[CheckoutState], what: str) -> CheckoutSnapshot:
        return self._wait(lambda s: s.state in states, what)


def _choose(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    names = [n for n, _ in weighted]
    weights = [w for _, w in weighted]
    return rng.choices(names, weights=weights, k=1)[0]


def _ean(item: CatalogueItem) -> str | None:
    """The EAN-13 printed on the pack, from the item's GTIN-14 key (None: no such barcode)."""
    for key in item.gtins:
        digits = key.strip()
        if len(digits) == 14 and digits.startswith("0") and digits.isdigit():
            return digits[1:]
        if len(digits) == 13 and digits.isdigit():
            return digits
    return None
