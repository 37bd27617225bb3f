"""The self-checkout app's wiring: engine + view-models + devices + payment providers + sale sink.

:class:`KioskRuntime` connects, in both directions:

* **devices → engine**: scanner scans, produce- and bag-scale readings, card-terminal and
  QR-gateway results become checkout events. They arrive on the devices' own threads and are
  handed to the UI thread by a :class:`UiScheduler` (the Kivy app passes one built on
  ``Clock.schedule_once``); the engine only ever runs on that thread.
* **engine → devices**: ``Beep`` / ``Flash`` / ``SetLight`` → status light, ``OpenDrawer`` →
  cash drawer, ``StartCardPayment`` / ``RequestQrPayment`` (and their cancels) → payment
  providers, ``SaleFinished`` → the :class:`SaleSink` (durable before any receipt prints),
  ``PrintReceipt`` → the printer, via :func:`receipt_from_sale`.
* **engine → screens**: every snapshot goes to :meth:`KioskViewModel.apply`; messages and
  the suspended basket go to :meth:`KioskViewModel.on_effects`.

Other effects (help requests, approvals refused, cancelled transactions) are for the bus:
register :meth:`KioskRuntime.on_effect`. :func:`build_simulated_runtime` builds a whole lane
from simulators and demo data, so the app runs on a laptop. Nothing runs at import.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, Protocol, runtime_checkable

from kiosk.catalogue_replica import CatalogueReplica
from kiosk.checkout import (
    CheckoutEngine,
    CheckoutError,
    CheckoutSettings,
    FinishedSale,
    Member,
    Role,
    SimulatedMemberDirectory,
    SimulatedStaffDirectory,
    WeightLearner,
)
from kiosk.checkout import model as m
from kiosk.devices.drawer import CashDrawer, SimulatedCashDrawer
from kiosk.devices.light import LightState, SimulatedStatusLight, StatusLight
from kiosk.devices.printer import PrinterError, ReceiptPrinter, SimulatedReceiptPrinter
from kiosk.devices.scale import Scale, SimulatedScale
from kiosk.devices.scanner import BarcodeScanner, SimulatedBarcodeScanner
from kiosk.errors import DeviceError, KioskError
from kiosk.payments import (
    PaymentError,
    PaymentGateway,
    PaymentOutcome,
    PaymentResult,
    PaymentTerminal,
    SimulatedPaymentGateway,
    SimulatedPaymentTerminal,
)
from kiosk.receipt import (
    Approval as ReceiptApproval,
    MemberInfo,
    Payment as ReceiptPayment,
    PaymentMethod,
    ReceiptData,
    ReceiptLine,
    Saving,
    ShopHeader,
    TaxLine as ReceiptTaxLine,
)
from kiosk.viewmodels.kiosk import KioskViewModel
from retail.barcodes import gtin_check_digit
from retail.catalogue import CatalogueItem, SoldBy, TaxClass
from retail.clock import Clock, SystemClock
from retail.loyalty import LoyaltyProgram
from retail.money import Money
from retail.promotions import MemberPrice, PercentOff, PromotionSet, SpendAndSave, SpendTier

__all__ = [
    "DEMO_SECRET",
    "DEMO_SHOP",
    "ImmediateScheduler",
    "KioskRuntime",
    "LaneDevices",
    "SaleSink",
    "SaleSinkError",
    "SimulatedSaleSink",
    "UiScheduler",
    "build_simulated_runtime",
    "demo_catalogue",
    "demo_gtin",
    "demo_members",
    "demo_promotions",
    "demo_staff",
    "receipt_from_sale",
    "simulated_lane_devices",
]

log = logging.getLogger(__name__)


# ============================================================================================
# Ports
# ============================================================================================


class SaleSinkError(KioskError, OSError):
    """The sale could not be recorded durably."""


@runtime_checkable
class SaleSink(Protocol):
    """Where a finished sale goes, durably, before its receipt prints (the kiosk's journal).

    ``record`` returns when the sale is safe; it may return the sequence number the journal
    gave it (printed on the receipt), or None. It raises (any ``Exception``, best a
    :class:`SaleSinkError`) when the sale could not be kept: no receipt is printed then.
    """

    def record(self, sale: FinishedSale) -> int | None: ...


class SimulatedSaleSink:
    """A **simulated** sale sink held in memory, numbering sales 1, 2, 3 …; ``fail_next()``
    makes the next ``record`` raise, like a full disk. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sales: list[FinishedSale] = []
        self._fail = False

    def fail_next(self) -> None:
        self._fail = True

    def record(self, sale: FinishedSale) -> int:
        with self._lock:
            if self._fail:
                self._fail = False
                raise SaleSinkError("the simulated journal refused the sale")
            if any(s.sale_id == sale.sale_id for s in self.sales):
                return next(i + 1 for i, s in enumerate(self.sales) if s.sale_id == sale.sale_id)
            self.sales.append(sale)
            return len(self.sales)


class UiScheduler(Protocol):
    """Hands work to the UI thread: ``call_soon(fn)`` runs ``fn`` there, later, in order."""

    def call_soon(self, fn: Callable[[], None]) -> None: ...


class ImmediateScheduler:
    """Runs work at once on the calling thread, but never nested: work posted while other work
    runs waits for it (the order a UI thread's queue would give). For tests without a window
    and for a single-threaded demo; not for calls from several threads at once."""

    def __init__(self) -> None:
        self._queue: deque[Callable[[], None]] = deque()
        self._running = False

    def call_soon(self, fn: Callable[[], None]) -> None:
        self._queue.append(fn)
        if self._running:
            return
        self._running = True
        try:
            while self._queue:
                self._queue.popleft()()
        finally:
            self._running = False


# ============================================================================================
# Devices
# ============================================================================================


@dataclass(eq=False)
class LaneDevices:
    """One lane's devices, each through its port."""

    scanner: BarcodeScanner
    produce_scale: Scale
    bag_scale: Scale
    drawer: CashDrawer
    light: StatusLight
    printer: ReceiptPrinter

    def close(self) -> None:
        for device in (self.scanner, self.bag_scale, self.produce_scale, self.drawer, self.printer, self.light):
            try:
                device.close()
            except Exception:  # noqa: BLE001 - closing carries on past a broken device
                log.exception("closing %s failed", getattr(device, "name", device))


def simulated_lane_devices(*, clock: Clock | None = None, settle_s: float = 0.0) -> LaneDevices:
    """Every device of a lane as its simulator (``settle_s``: how long scales take to settle)."""
    return LaneDevices(
        scanner=SimulatedBarcodeScanner(clock=clock),
        produce_scale=SimulatedScale(name="produce", capacity_g=15000, resolution_g=2, clock=clock, settle_s=settle_s),
        bag_scale=SimulatedScale(name="bag", capacity_g=30000, resolution_g=5, clock=clock, settle_s=settle_s),
        drawer=SimulatedCashDrawer(clock=clock),
        light=SimulatedStatusLight(clock=clock),
        printer=SimulatedReceiptPrinter(clock=clock),
    )


# ============================================================================================
# Receipts
# ============================================================================================

_METHODS = {
    "card": PaymentMethod.CARD,
    "mobile_qr": PaymentMethod.MOBILE,
    "stored_value": PaymentMethod.STORED_VALUE,
    "points": PaymentMethod.VOUCHER,
    "cash": PaymentMethod.CASH,
}


def receipt_from_sale(
    sale: FinishedSale,
    *,
    shop: ShopHeader,
    kiosk_id: str,
    seq: int,
    local_tz: tzinfo | None = None,
    promotion_names: Mapping[str, tuple[str, str]] | None = None,
    member_phone: str | None = None,
    member_points: int | None = None,
    e_receipt_url: str = "",
) -> ReceiptData:
    """The printed receipt of a finished sale, in the sale's language.

    Savings are summed per promotion and named by ``promotion_names`` (id → (English,
    Chinese)); cash payments print what was handed over, with the change below.
    """
    zh = sale.language.startswith("zh")
    names = promotion_names or {}
    lines = []
    savings: dict[str, Money] = {}
    for line in sale.lines:
        name = line.name_zh if zh and line.name_zh else line.name_en
        if line.kind in ("weighed", "label_weight") and line.weight_g:
            lines.append(ReceiptLine(name, line.gross, weight_g=line.weight_g, price_per_kg=line.unit_price))
        else:
            lines.append(ReceiptLine(name, line.gross, qty=line.quantity, unit_price=line.unit_price))
        for promotion_id, amount in line.savings:
            savings[promotion_id] = savings.get(promotion_id, Money.zero(sale.currency)) + amount
    saving_lines = tuple(
        Saving((names.get(pid, (pid, pid))[1 if zh else 0]), amount) for pid, amount in savings.items() if amount.minor
    )
    payments = []
    for p in sale.payments:
        amount = p.tendered if p.tender.value == "cash" and p.tendered is not None else p.amount
        reference = f"{p.points} pts" if p.points else p.reference
        payments.append(ReceiptPayment(_METHODS[p.tender.value], amount, reference))
    member = None
    if sale.member_id:
        member = MemberInfo.from_raw(member_phone or sale.member_id, 0, member_points)
    when = sale.finished_at.astimezone(local_tz) if local_tz is not None else sale.finished_at
    return ReceiptData(
        shop=shop,
        kiosk_id=kiosk_id,
        lane=sale.lane_id,
        sale_id=sale.sale_id,
        seq=seq,
        timestamp=when,
        language="zh" if zh else "en",
        lines=tuple(lines),
        subtotal=sale.subtotal,
        total=sale.total,
        savings=saving_lines,
        total_savings=sale.total_savings if sale.total_savings.minor else None,
        taxes=tuple(ReceiptTaxLine(t.rate_bp, t.net, t.tax) for t in sale.tax),
        payments=tuple(payments),
        change=sale.change if sale.change.minor else None,
        member=member,
        approvals=tuple(ReceiptApproval(a.reason.value, a.staff_id) for a in sale.approvals if a.approved),
        e_receipt_url=e_receipt_url,
    )


# ============================================================================================
# The runtime
# ============================================================================================

_BEEPS = {"ok": (0.06, 1), "error": (0.15, 2), "attention": (0.2, 3)}


@dataclass
class _SaleRecord:
    seq: int | None
    saved: bool
    member_phone: str | None = None
    member_points: int | None = None


class KioskRuntime:
    """One running lane (see the module docstring). A context manager; ``close()`` is
    idempotent and closes the devices and providers it was given."""

    def __init__(
        self,
        engine: CheckoutEngine,
        view_models: KioskViewModel,
        devices: LaneDevices,
        *,
        terminal: PaymentTerminal,
        gateway: PaymentGateway,
        sale_sink: SaleSink,
        scheduler: UiScheduler | None = None,
        shop: ShopHeader | None = None,
        kiosk_id: str = "kiosk-01",
        promotion_names: Mapping[str, tuple[str, str]] | None = None,
        e_receipt_url: str = "https://receipts.tillpi.invalid/r/",
        local_tz: tzinfo | None = None,
        print_in_background: bool = True,
    ) -> None:
        self.engine = engine
        self.view_models = view_models
        self.devices = devices
        self.terminal = terminal
        self.gateway = gateway
        self.sale_sink = sale_sink
        self.scheduler: UiScheduler = scheduler or ImmediateScheduler()
        self.shop = shop or ShopHeader(view_models.shop_name, view_models.shop_name)
        self.kiosk_id = kiosk_id
        self.promotion_names = dict(promotion_names or {})
        self.e_receipt_url = e_receipt_url
        self.local_tz = local_tz
        self._sales: dict[str, _SaleRecord] = {}
        self._listeners: list[Callable[[Any], None]] = []
        self._undo: list[Callable[[], None]] = []
        self._printer_pool = ThreadPoolExecutor(1, thread_name_prefix="printer") if print_in_background else None
        self._started = False
        self._closed = False
        self.handled = 0  # events handled (for the benchmark and tests)
        self.errors: list[str] = []  # events the engine refused

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Connect everything and start the scanner; the bagging area's weight is the baseline."""
        if self._closed:
            raise KioskError("the runtime is closed")
        if self._started:
            return
        self._started = True
        vm = self.view_models
        vm.bind_engine(self.send)
        self._undo.append(self.engine.subscribe(vm.apply))
        self._undo.append(self.engine.on_effects(self._carry_out))
        d = self.devices
        d.scanner.on_scan = lambda scan: self.post(m.Scan(scan.text, scan.symbology))
        self._undo.append(d.produce_scale.on_change(lambda r: self.post(m.ProduceReading.of(r))))
        self._undo.append(d.bag_scale.on_change(lambda r: self.post(m.BagReading.of(r))))
        self._undo.append(self.terminal.on_result(self.post))
        self._undo.append(self.gateway.on_result(self.post))
        d.scanner.start()
        self.post(m.BagReading.of(d.bag_scale.weight()))
        self.post(m.ProduceReading.of(d.produce_scale.weight()))
        self.scheduler.call_soon(lambda: vm.apply(self.engine.snapshot()))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for undo in reversed(self._undo):
            try:
                undo()
            except Exception:  # noqa: BLE001
                log.exception("unwiring failed")
        self.devices.scanner.on_scan = None
        if self._printer_pool is not None:
            self._printer_pool.shutdown(wait=True)
        for provider in (self.terminal, self.gateway):
            try:
                provider.close()
            except Exception:  # noqa: BLE001
                log.exception("closing %s failed", provider.name)
        self.devices.close()

    def __enter__(self) -> KioskRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events in ---------------------------------------------------------------------------
    def post(self, event: Any) -> None:
        """Hand ``event`` to the engine on the UI thread (from any thread)."""
        if not self._closed:
            self.scheduler.call_soon(lambda: self.handle(event))

    send = post  # what the view-models call

    def handle(self, event: Any) -> tuple[Any, ...]:
        """Give ``event`` to the engine now (UI thread only). A refused event is logged."""
        if self._closed:
            return ()
        try:
            effects = self.engine.handle(event)
        except CheckoutError as exc:
            log.warning("checkout refused %s: %s", type(event).__name__, exc)
            self.errors.append(f"{type(event).__name__}: {exc}")
            return ()
        self.handled += 1
        return effects

    def poll(self) -> None:
        """Read the scales (a simulator settles only when read) and expire screen messages."""
        for scale in (self.devices.produce_scale, self.devices.bag_scale):
            try:
                scale.update()
            except DeviceError as exc:
                log.warning("reading %s failed: %s", getattr(scale, "name", "scale"), exc)
        self.view_models.expire_message()

    def tick(self) -> None:
        """Let the engine check its timeouts (the app calls this about twice a second)."""
        self.handle(m.Tick())

    def set_edge_online(self, online: bool) -> None:
        """The bus tells whether the edge answers (any thread)."""
        self.post(m.EdgeStatus(bool(online)))

    def on_effect(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Call ``callback(effect)`` for every effect (help requests for the bus, …)."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    # -- effects out -------------------------------------------------------------------------
    def _carry_out(self, effects: tuple[Any, ...]) -> None:
        for effect in effects:
            try:
                self._effect(effect)
            except Exception:  # noqa: BLE001 - one failing device must not stop the others
                log.exception("carrying out %s failed", type(effect).__name__)
            for listener in list(self._listeners):
                try:
                    listener(effect)
                except Exception:  # noqa: BLE001
                    log.exception("effect listener failed")
        self.view_models.on_effects(effects)

    def _effect(self, effect: Any) -> None:
        d = self.devices
        if isinstance(effect, m.Beep):
            duration, count = _BEEPS.get(effect.tone, (0.1, 1))
            d.light.beep(duration, count)
        elif isinstance(effect, m.Flash):
            d.light.flash_scan()
        elif isinstance(effect, m.SetLight):
            d.light.show(LightState(effect.state.value))
        elif isinstance(effect, m.OpenDrawer):
            d.drawer.open()
        elif isinstance(effect, m.SaleFinished):
            self._record(effect.sale)
        elif isinstance(effect, m.PrintReceipt):
            self._print(effect.sale)
        elif isinstance(effect, m.StartCardPayment):
            try:
                self.terminal.start(effect.request)
            except PaymentError as exc:
                self.post(PaymentResult(effect.request.payment_id, PaymentOutcome.DECLINED, effect.request.amount, "", str(exc)))
        elif isinstance(effect, m.CancelCardPayment):
            self.terminal.cancel(effect.payment_id)
        elif isinstance(effect, m.RequestQrPayment):
            try:
                qr = self.gateway.create(effect.request)
            except PaymentError as exc:
                self.post(PaymentResult(effect.request.payment_id, PaymentOutcome.DECLINED, effect.request.amount, "", str(exc)))
            else:
                self.post(m.PaymentQrReady(qr.payment_id, qr.payload))
        elif isinstance(effect, m.CancelQrPayment):
            self.gateway.cancel(effect.payment_id)

    def _record(self, sale: FinishedSale) -> None:
        snap = self.engine.snapshot()
        member = snap.member
        try:
            seq = self.sale_sink.record(sale)
        except Exception as exc:  # noqa: BLE001 - any failure means: not durable, no receipt
            log.error("sale %s could not be recorded: %s", sale.sale_id, exc)
            self._sales[sale.sale_id] = _SaleRecord(None, False)
            self.view_models.show_message("sale_not_saved")
            return
        self._sales[sale.sale_id] = _SaleRecord(
            seq, True, member.phone if member else None, member.points if member else None
        )
        if len(self._sales) > 64:  # only the last few sales can still be printed
            self._sales.pop(next(iter(self._sales)))

    def receipt_for(self, sale: FinishedSale) -> ReceiptData | None:
        """The receipt of a recorded sale; None when the sale was never recorded durably."""
        record = self._sales.get(sale.sale_id)
        if record is None or not record.saved:
            return None
        return receipt_from_sale(
            sale,
            shop=self.shop,
            kiosk_id=self.kiosk_id,
            seq=record.seq or 0,
            local_tz=self.local_tz,
            promotion_names=self.promotion_names,
            member_phone=record.member_phone,
            member_points=record.member_points,
            e_receipt_url=self.e_receipt_url + sale.sale_id,
        )

    def _print(self, sale: FinishedSale) -> None:
        receipt = self.receipt_for(sale)
        if receipt is None:
            log.error("sale %s is not recorded; its receipt is not printed", sale.sale_id)
            self.view_models.show_message("receipt_unavailable")
            return

        def job() -> None:
            try:
                self.devices.printer.print_receipt(receipt)
            except (PrinterError, DeviceError, OSError) as exc:
                log.error("receipt %s did not print: %s", sale.sale_id, exc)
                self.scheduler.call_soon(lambda: self.view_models.show_message("receipt_unavailable"))

        if self._printer_pool is not None:
            self._printer_pool.submit(job)
        else:
            job()


# ============================================================================================
# A whole simulated lane with demo data
# ============================================================================================

DEMO_SHOP = ShopHeader("Greenleaf Market", "绿叶超市", "12 Orchard Road", "021-5555-0100", "91310000MA1FL0000X")
DEMO_SECRET = b"demo-store-secret-not-for-production"

_FOOD = TaxClass("food", 900)


def demo_gtin(body12: str) -> str:
    """A GTIN-13 with its check digit."""
    return body12 + str(gtin_check_digit(body12))


DEMO_GTINS = {
    "COKE": demo_gtin("690123456001"),
    "BEER": demo_gtin("690123456002"),
    "CHIPS": demo_gtin("690123456003"),
    "WATER": demo_gtin("690123456004"),
    "MILK": demo_gtin("690123456005"),
    "TEA": demo_gtin("690123456008"),
}


def _cny(text: str) -> Money:
    return Money.of(text, "CNY")


def demo_catalogue() -> CatalogueReplica:
    """A small shop: drinks, snacks, dairy, produce by weight, deli with labels, bakery."""
    g = {k: v.zfill(14) for k, v in DEMO_GTINS.items()}
    items = [
        CatalogueItem("COKE", "Coca-Cola 330ml", "可口可乐 330毫升", _cny("3.50"), "drinks", (g["COKE"],), unit_weight_g=350, weight_tolerance_g=20),
        CatalogueItem("TEA", "Green Tea 500ml", "绿茶 500毫升", _cny("4.00"), "drinks", (g["TEA"],), unit_weight_g=520, weight_tolerance_g=25),
        CatalogueItem("BEER", "Tsingtao Beer", "青岛啤酒", _cny("6.00"), "drinks", (g["BEER"],), min_age=18, unit_weight_g=520, weight_tolerance_g=25),
        CatalogueItem("WATER", "Water 24-pack", "矿泉水整箱", _cny("39.90"), "drinks", (g["WATER"],), unit_weight_g=12500, weight_tolerance_g=300),
        CatalogueItem("CHIPS", "Potato Chips", "薯片", _cny("8.50"), "snacks", (g["CHIPS"],), tax_class=_FOOD, unit_weight_g=80, weight_tolerance_g=20),
        CatalogueItem("MILK", "Milk 1L", "牛奶 1升", _cny("12.00"), "dairy", (g["MILK"],), tax_class=_FOOD, unit_weight_g=1050, weight_tolerance_g=30),
        CatalogueItem("APPLE", "Fuji Apples", "富士苹果", _cny("12.80"), "produce", plu="4131", sold_by=SoldBy.WEIGHT, tax_class=_FOOD, weight_tolerance_g=15),
        CatalogueItem("BANANA", "Bananas", "香蕉", _cny("6.98"), "produce", plu="4011", sold_by=SoldBy.WEIGHT, tax_class=_FOOD),
        CatalogueItem("ORANGE", "Oranges", "橙子", _cny("9.80"), "produce", plu="3107", sold_by=SoldBy.WEIGHT, tax_class=_FOOD),
        CatalogueItem("TOMATO", "Tomatoes", "西红柿", _cny("7.60"), "produce", plu="4664", sold_by=SoldBy.WEIGHT, tax_class=_FOOD),
        CatalogueItem("GINGER", "Ginger", "生姜", _cny("16.00"), "produce", plu="4612", sold_by=SoldBy.WEIGHT, tax_class=_FOOD),
        CatalogueItem("HAM", "Sliced Ham", "火腿片", _cny("58.00"), "deli", plu="12345", sold_by=SoldBy.WEIGHT, tax_class=_FOOD),
        CatalogueItem("SALAD", "Deli Salad", "沙拉", _cny("30.00"), "deli", plu="23456", tax_class=_FOOD),
        CatalogueItem("BUN", "Pork Bun", "肉包子", _cny("2.50"), "bakery", plu="5001", tax_class=_FOOD, unit_weight_g=90, weight_tolerance_g=20),
        CatalogueItem("BAGUETTE", "Baguette", "法棍面包", _cny("9.90"), "bakery", plu="5002", tax_class=_FOOD, unit_weight_g=250, weight_tolerance_g=40),
    ]
    return CatalogueReplica(items, version="demo-1")


def demo_promotions(replica: CatalogueReplica) -> PromotionSet:
    return PromotionSet.compile(
        [
            PercentOff(promotion_id="P-CHIPS", name_en="Chips 20% off", name_zh="薯片八折", skus=("CHIPS",), percent_bp=2000),
            MemberPrice(promotion_id="M-MILK", name_en="Member price", name_zh="会员价", skus=("MILK",), price=_cny("9.90")),
            SpendAndSave(
                promotion_id="C-SAVE2", name_en="Coupon: spend 10 save 2", name_zh="满10减2券", coupon_code="SAVE2",
                tiers=(SpendTier(_cny("10.00"), _cny("2.00")),),
            ),
        ],
        replica.items,
    )


def demo_members() -> SimulatedMemberDirectory:
    return SimulatedMemberDirectory(
        [Member("M001", "13812345678", "silver", "Silver", "银卡会员", points=5000, stored_value=_cny("20.00"), name="王芳")]
    )


def demo_staff() -> SimulatedStaffDirectory:
    staff = SimulatedStaffDirectory()
    staff.add("S1", "Ann Attendant", Role.ATTENDANT, pin="1111", badge_token="badge-ann")
    staff.add("S2", "Sam Supervisor", Role.SUPERVISOR, pin="2222", badge_token="badge-sam")
    return staff


@dataclass
class SimulatedLane:
    """What :func:`build_simulated_runtime` built, for a test or demo to drive by its verbs."""

    runtime: KioskRuntime
    devices: LaneDevices
    terminal: SimulatedPaymentTerminal
    gateway: SimulatedPaymentGateway
    sale_sink: SaleSink
    members: SimulatedMemberDirectory
    staff: SimulatedStaffDirectory
    extras: dict[str, Any] = field(default_factory=dict)


def build_simulated_runtime(
    *,
    clock: Clock | None = None,
    scheduler: UiScheduler | None = None,
    sale_sink: SaleSink | None = None,
    devices: LaneDevices | None = None,
    settings: CheckoutSettings | None = None,
    shop_name: str = "Greenleaf Market 绿叶超市",
    payment_auto: PaymentOutcome | None = None,
    print_in_background: bool = True,
) -> SimulatedLane:
    """A whole lane from simulators and demo data (``python -m kiosk.ui`` runs this)."""
    clock = clock or SystemClock()
    replica = demo_catalogue()
    promotions = demo_promotions(replica)
    loyalty = LoyaltyProgram.simple("CNY")
    members, staff = demo_members(), demo_staff()
    engine = CheckoutEngine(
        replica,
        clock=clock,
        members=members,
        staff=staff,
        suspend_secret=DEMO_SECRET,
        promotions=promotions,
        settings=settings or CheckoutSettings(store_id="store-1", lane_id="lane-1"),
        learner=WeightLearner(),
        loyalty=loyalty,
    )
    view_models = KioskViewModel(shop_name=shop_name, currency="CNY", clock=clock, catalogue=replica, loyalty=loyalty)
    devices = devices or simulated_lane_devices(clock=clock)
    terminal = SimulatedPaymentTerminal(clock=clock, auto=payment_auto)
    gateway = SimulatedPaymentGateway(clock=clock, auto=payment_auto)
    sink = sale_sink if sale_sink is not None else SimulatedSaleSink()
    names = {p.promotion_id: (p.name_en, p.name_zh) for p in promotions.promotions}
    runtime = KioskRuntime(
        engine, view_models, devices,
        terminal=terminal, gateway=gateway, sale_sink=sink, scheduler=scheduler, shop=DEMO_SHOP,
        promotion_names=names, print_in_background=print_in_background,
    )
    return SimulatedLane(runtime, devices, terminal, gateway, sink, members, staff)
