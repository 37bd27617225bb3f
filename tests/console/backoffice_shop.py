"""A seeded shop for the back-office browser tests: one edge database with a catalogue of a few
hundred products, stock (batches near expiry, reorder points, a supplier and an open purchase
order), members with points and stored value, promotions, expenses and a month of sales from
the simulated seller written through the real ingest; served by the real app factory on a
private port (no broker: the console's live feed runs on the monitor's in-process hub)."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import uvicorn

from broker.contract import Sale, SaleDraft, encode, kiosk_topic
from edge.alarms import AlarmEngine, RecordingNotifier, SimulatedAlarmRepository
from edge.app import EdgeServices, create_app
from edge.catalogue.model import Category, Product
from edge.catalogue.store import CatalogueStore
from edge.dayclose import DayCloseService
from edge.expenses import ExpenseStore
from edge.ingest.core import Inbound, IngestCore
from edge.ledger import Ledger
from edge.members import AccrualProcessor, MemberSettings, MemberStore
from edge.monitor import LiveHub, MemoryCursorStore, ObservedAlarmRepository, SimulatedBusPublisher, StoreMonitor, monitor_settings
from edge.promotions import PromotionStore
from edge.refunds import RefundService
from edge.reports.store import ReportStore
from edge.settings import EdgeSettings
from edge.staff import HashSettings, StaffSettings, StaffStore
from edge.stock.service import StockService
from kiosk.simulated_seller import SIM_CATALOGUE, random_sale_draft
from retail.barcodes import gtin_check_digit
from retail.catalogue import SoldBy, TaxClass
from retail.clock import FakeClock
from retail.loyalty import LoyaltyProgram, StoredValueRules
from retail.money import Money

STORE = "s1"
PASSWORDS = {"olga": "owner-pass-123", "sam": "supervisor-pass-123", "ann": "attendant-pass-123"}
ROLES = {"olga": "owner", "sam": "supervisor", "ann": "attendant"}
KIOSKS = ("kiosk-01", "kiosk-02", "kiosk-03")
CATEGORIES = (("drinks", "Drinks", "饮料"), ("dairy", "Dairy", "乳品"), ("grocery", "Grocery", "杂货"),
              ("fruit", "Fruit", "水果"), ("snacks", "Snacks", "零食"), ("household", "Household", "日用品"),
              ("frozen", "Frozen", "冷冻食品"), ("bakery", "Bakery", "烘焙"))
SIM_CATEGORY = {"tea-500": "drinks", "water": "drinks", "milk-1l": "dairy", "rice-5kg": "grocery", "noodles": "grocery",
                "apple": "fruit", "banana": "fruit"}
SIM_COST = {"tea-500": 200, "rice-5kg": 3500, "apple": 800, "milk-1l": 700, "noodles": 250, "banana": 400, "water": 80}
_BASES = {
    "drinks": [("Oolong tea", "乌龙茶"), ("Jasmine tea", "茉莉花茶"), ("Cola", "可乐"), ("Orange juice", "橙汁"),
               ("Soy milk", "豆浆"), ("Sparkling water", "苏打水")],
    "dairy": [("Yoghurt", "酸奶"), ("Cheese slices", "芝士片"), ("Butter", "黄油"), ("Cream", "淡奶油")],
    "grocery": [("Soy sauce", "酱油"), ("Black vinegar", "香醋"), ("Peanut oil", "花生油"), ("Dumpling flour", "饺子粉"),
                ("Glutinous rice", "糯米")],
    "snacks": [("Sunflower seeds", "瓜子"), ("Potato chips", "薯片"), ("Rice crackers", "米饼"), ("Dried mango", "芒果干")],
    "household": [("Tissues", "纸巾"), ("Dish soap", "洗洁精"), ("Laundry liquid", "洗衣液"), ("Toothpaste", "牙膏")],
    "frozen": [("Pork dumplings", "猪肉水饺"), ("Tangyuan", "汤圆"), ("Ice cream", "冰淇淋")],
    "bakery": [("Milk bread", "牛奶面包"), ("Egg tart", "蛋挞"), ("Mooncake", "月饼")],
    "fruit": [("Pears", "梨"), ("Oranges", "橙子"), ("Grapes", "葡萄")],
}
_SIZES = [("small", "小装"), ("regular", "标准装"), ("large", "大装"), ("family", "家庭装"), ("twin pack", "双包装"),
          ("value", "实惠装"), ("premium", "精选装"), ("mini", "迷你装")]


def gtin13(n: int) -> str:
    """A valid EAN-13 as its GTIN-14 key (leading zero)."""
    body = f"69{n:010d}"
    return "0" + body + str(gtin_check_digit(body))


def make_products(count: int = 300) -> list[Product]:
    """The simulated seller's seven products plus generated ones, ``count`` in all."""
    taxes = {900: TaxClass("reduced", 900), 1300: TaxClass("standard", 1300)}
    out = [Product(sku=sku, name_en=name, name_zh={"tea-500": "绿茶 500毫升", "rice-5kg": "大米 5公斤", "apple": "苹果（公斤）",
                                                     "milk-1l": "牛奶 1升", "noodles": "方便面", "banana": "香蕉（公斤）",
                                                     "water": "矿泉水 550毫升"}[sku],
                   price=Money(price, "CNY"), category=SIM_CATEGORY[sku], gtins=(gtin,) if gtin else (),
                   plu={"apple": "4131", "banana": "4011"}.get(sku), cost_price=Money(SIM_COST[sku], "CNY"),
                   tax_class=taxes[bp], sold_by=SoldBy.WEIGHT if weighed else SoldBy.UNIT)
           for sku, gtin, name, price, weighed, bp in SIM_CATALOGUE]
    rng = random.Random(11)
    n = 0
    while len(out) < count:
        for cat, bases in _BASES.items():
            for en, zh in bases:
                if len(out) >= count:
                    break
                size_en, size_zh = _SIZES[(n // 32) % len(_SIZES)]
                n += 1
                price = rng.randrange(150, 6000, 10)
                weighed = cat == "fruit"
                out.append(Product(
                    sku=f"{cat[:3]}-{n:04d}", name_en=f"{en} {size_en}", name_zh=f"{zh}{size_zh}", category=cat,
                    price=Money(price, "CNY"), cost_price=Money(price * rng.randint(45, 75) // 100, "CNY"),
                    gtins=() if weighed else (gtin13(100000 + n),), plu=f"{2000 + n}" if weighed else None,
                    tax_class=taxes[900 if cat in ("fruit", "dairy", "grocery", "bakery") else 1300],
                    sold_by=SoldBy.WEIGHT if weighed else SoldBy.UNIT, min_age=0))
    return out


@dataclass
class BackOfficeShop:
    """Everything the app serves, plus handles the tests check the browser's work against."""

    path: Path
    clock: FakeClock
    settings: EdgeSettings
    ledger: Ledger
    core: IngestCore
    catalogue: CatalogueStore
    stock: StockService
    staff: StaffStore
    members: MemberStore
    promotions: PromotionStore
    refunds: RefundService
    day_close: DayCloseService
    expenses: ExpenseStore
    reports: ReportStore
    monitor: StoreMonitor
    engine: AlarmEngine
    staff_ids: dict[str, str] = field(default_factory=dict)
    member_ids: dict[str, str] = field(default_factory=dict)
    sales: list[Sale] = field(default_factory=list)
    refund_sale: Sale | None = None
    url: str = ""
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _sock: socket.socket | None = None

    def close(self) -> None:
        if self._server is not None:
            self.monitor.hub.close()
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        for thing in (self.reports, self.expenses, self.day_close, self.refunds, self.promotions, self.members,
                      self.stock, self.catalogue, self.staff, self.ledger):
            thing.close()


def _sell(shop: BackOfficeShop, rng: random.Random, kiosk: str, seq: int, at: datetime, member_id: str | None) -> Sale:
    return _sell_draft(shop, random_sale_draft(rng, store_id=STORE, kiosk_id=kiosk, clock=FakeClock(at)), kiosk, seq,
                       member_id)


def _sell_draft(shop: BackOfficeShop, draft: SaleDraft, kiosk: str, seq: int, member_id: str | None) -> Sale:
    if member_id is not None:
        data = draft.model_dump(mode="json")
        data["member_id"] = member_id
        draft = SaleDraft.model_validate_json(json.dumps(data))
    sale = Sale.from_draft(draft, seq)
    outcome = shop.core.process([Inbound(kiosk_topic(STORE, kiosk, "sale"), encode(sale), kiosk)])[0]
    if outcome.decision != "accepted":
        raise RuntimeError(f"the ingest did not accept a seeded sale: {outcome}")
    return sale


def open_shop(folder: Path, *, now: datetime | None = None, products: int = 300, days: int = 30) -> BackOfficeShop:
    """Build and seed the shop (not yet serving; call :func:`serve`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "edge.sqlite3"
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    clock = FakeClock(now)
    settings = EdgeSettings(store_id=STORE, data_dir=folder, broker_port=1, broker_password="x",
                            badge_secret=b"bo-badge-secret-0123456789", card_secret=b"bo-card-secret-0123456789ab",
                            development=True, fast_hashing=True, store_name="Corner Shop")
    ledger = Ledger(path, clock=clock)
    catalogue = CatalogueStore(path, clock=clock, currency="CNY")
    stock = StockService(path, clock=clock, catalogue=catalogue)
    staff = StaffStore.open(path, clock=clock, settings=StaffSettings(badge_secret=settings.badge_secret,
                                                                      hashing=HashSettings.for_tests()))
    members = MemberStore.open(path, clock=clock, settings=MemberSettings(
        program=LoyaltyProgram.simple("CNY"), stored_value=StoredValueRules("CNY"), card_secret=settings.card_secret,
        store_name="Corner Shop"))
    promotions = PromotionStore(path, clock=clock, catalogue=catalogue)
    refunds = RefundService(path, clock=clock, members=members, store_id=STORE)
    day_close = DayCloseService(path, clock=clock, store_id=STORE, currency="CNY")
    expenses = ExpenseStore(path, clock=clock, currency="CNY")
    reports = ReportStore(path, clock=clock)
    repo = ObservedAlarmRepository(SimulatedAlarmRepository())
    engine = AlarmEngine(repo, clock=clock, notifier=RecordingNotifier(), settings=monitor_settings())
    monitor = StoreMonitor(STORE, engine, clock=clock, hub=LiveHub(), publisher=SimulatedBusPublisher(),
                           cursor=MemoryCursorStore())
    repo.listener = monitor.poke
    shop = BackOfficeShop(path, clock, settings, ledger, IngestCore(ledger, store_id=STORE, clock=clock), catalogue, stock,
                          staff, members, promotions, refunds, day_close, expenses, reports, monitor, engine)
    try:
        _seed(shop, products=products, days=days)
    except BaseException:
        shop.close()
        raise
    return shop


def _seed(shop: BackOfficeShop, *, products: int, days: int) -> None:
    today = shop.clock.now().date()
    for user, role in ROLES.items():
        shop.staff_ids[user] = shop.staff.create(name=user.capitalize(), role=role, username=user,
                                                 password=PASSWORDS[user], actor=None).id
    owner = shop.staff.principal(shop.staff_ids["olga"])
    for i, (code, en, zh) in enumerate(CATEGORIES):
        shop.catalogue.put_category(Category(code, en, zh, None, i))
    items = make_products(products)
    shop.catalogue.bulk_upsert(items)

    # stock: an opening count for everything, batches near their date, reorder points
    supplier = shop.stock.add_supplier("Golden Grain Trading", lead_time_days=3, contact="Mr Li", phone="021 5555 0101")
    shop.stock.add_supplier("Fresh Fields", lead_time_days=1)
    rng = random.Random(5)
    opened = shop.clock.now() - timedelta(days=days + 1)
    for p in items:
        amount = rng.randint(200_000, 400_000) if p.sold_by is SoldBy.WEIGHT else rng.randint(0, 40)
        if p.sku in ("tea-500", "noodles", "water", "milk-1l", "rice-5kg"):
            amount = 400
        if amount:
            shop.stock.record_move("receipt", p.sku, amount, ref="opening stock", at=opened)
    shop.stock.add_batch("dai-0008", 6, expires_on=today + timedelta(days=2), lot="Y-77")
    shop.stock.add_batch("dai-0016", 12, expires_on=today + timedelta(days=1), lot="M-0412")
    shop.stock.add_batch("bak-0031", 9, expires_on=today + timedelta(days=3), lot="B-1")
    for sku in ("tea-500", "noodles", "milk-1l"):
        shop.stock.set_reorder_point(sku, 450, supplier_id=supplier, pack_size=12, order_up_to=900)
    for p in items[7:40]:
        shop.stock.set_reorder_point(p.sku, 25, supplier_id=supplier, pack_size=6)
    shop.stock.create_purchase_order(supplier, [("tea-500", 48, Money(200, "CNY")), ("noodles", 60, Money(250, "CNY"))],
                                     note="weekly order", expected_on=today + timedelta(days=2))

    # members
    for key, name, phone in (("wang", "Wang Xiaoming", "13812345678"), ("li", "Li Na", "13987654321"),
                             ("zhao", "Zhao Lei", "13612340000")):
        shop.member_ids[key] = shop.members.create(name=name, phone=phone, actor=owner.id, email=f"{key}@example.com",
                                                   birthday=date(1990, 5, 17)).id
    shop.members.top_up(shop.member_ids["wang"], Money.of("200.00", "CNY"), ref="seed-topup-1", actor=owner.id)

    # a month of sales on three kiosks, some by members
    rng = random.Random(42)
    seqs = {k: 0 for k in KIOSKS}
    start = shop.clock.now() - timedelta(days=days - 1)
    for day in range(days):
        base = (start + timedelta(days=day)).replace(hour=0, minute=0, second=0)
        for _ in range(rng.randint(4, 12)):
            kiosk = rng.choice(KIOSKS)
            at = base + timedelta(hours=rng.randint(8, 21), minutes=rng.randint(0, 59))
            if at > shop.clock.now():
                at = shop.clock.now() - timedelta(minutes=rng.randint(1, 30))
            seqs[kiosk] += 1
            member = rng.choice([None, None, None, shop.member_ids["wang"], shop.member_ids["li"]])
            shop.sales.append(_sell(shop, rng, kiosk, seqs[kiosk], at, member))
    # today's sale that the refund test returns: by Wang, several lines, one of two or more pieces
    while True:
        probe = random_sale_draft(random.Random(rng.random()), store_id=STORE, kiosk_id="kiosk-01", clock=shop.clock)
        if len(probe.lines) >= 3 and any((l.quantity or 0) >= 2 for l in probe.lines):
            break
        rng.random()
    seqs["kiosk-01"] += 1
    shop.refund_sale = _sell_draft(shop, probe, "kiosk-01", seqs["kiosk-01"], shop.member_ids["wang"])
    shop.sales.append(shop.refund_sale)
    AccrualProcessor(shop.members).run()

    # promotions and expenses
    shop.promotions.put({"type": "multibuy", "promotion_id": "noodles-3for2", "name_en": "Noodles 3 for 2",
                         "name_zh": "方便面买三付二", "skus": ["noodles"], "quantity": 3, "pay_for": 2}, actor=owner.id)
    shop.promotions.put({"type": "percent_off", "promotion_id": "fruit-10", "name_en": "Fruit 10% off",
                         "name_zh": "水果九折", "categories": ["fruit"], "percent_bp": 1000}, actor=owner.id)
    shop.expenses.add(today.replace(day=1), "rent", Money.of("8000.00", "CNY"), actor=owner.id, note="shop rent")
    shop.expenses.add(today - timedelta(days=3), "utilities", Money.of("640.50", "CNY"), actor=owner.id, note="electricity")


def serve(shop: BackOfficeShop) -> str:
    """Serve the app on a free local port (until :meth:`BackOfficeShop.close`); the base URL."""
    app = create_app(shop.settings, EdgeServices(
        clock=shop.clock, staff_store=shop.staff, alarm_engine=shop.engine,
        monitor=shop.monitor, member_store=shop.members, catalogue=shop.catalogue, stock=shop.stock,
        promotions=shop.promotions, refunds=shop.refunds, day_close=shop.day_close, expenses=shop.expenses,
        reports=shop.reports))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    shop._sock = sock
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                           timeout_graceful_shutdown=2))
    shop._server = server
    shop._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="backoffice-web", daemon=True)
    shop._thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not shop._thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the back-office test server did not start")
        time.sleep(0.02)
    shop.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    return shop.url

