"""Stock: moves and derived on-hand, batches and expiry, reorder, purchase orders, stocktakes
(order-independent), transfers."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from edge.catalogue.store import CatalogueStore
from edge.stock.errors import (
    InvalidMoveError,
    OrderStateError,
    OverReceiptError,
    StocktakeStateError,
    TransferConflictError,
)
from edge.stock.service import ReceiptLine, StockService
from retail.clock import FakeClock
from retail.money import Money
from tests.stock.conftest import GTIN_MILK, deliver_sale

CST = timezone(timedelta(hours=8))


def test_on_hand_is_derived_from_moves_in_units_or_grams(stock: StockService, db_path: Path, clock: FakeClock) -> None:
    stock.record_move("receipt", "MILK", 24, ref="delivery 1")
    stock.record_move("receipt", "BAN", 12_000, ref="delivery 1")
    deliver_sale(db_path, "s1", "MILK", clock.now(), qty=3)
    deliver_sale(db_path, "s2", "BAN", clock.now(), grams=1_250)
    stock.record_move("waste", "MILK", -1, ref="broken")
    stock.record_move("return", "MILK", 1, ref="s1")
    levels = {lv.sku: lv for lv in stock.levels()}
    assert (levels["MILK"].units, levels["MILK"].measure, levels["MILK"].amount) == (21, "units", 21)
    assert (levels["BAN"].grams, levels["BAN"].measure, levels["BAN"].amount) == (10_750, "grams", 10_750)
    assert stock.on_hand("MILK").amount == 21
    assert sorted((m["kind"], m["qty"]) for m in stock.moves(sku="MILK")) == [
        ("receipt", 24), ("return", 1), ("sale", -3), ("waste", -1),
    ]


def test_hand_recorded_moves_are_checked(stock: StockService) -> None:
    for kind, amount in (("sale", -1), ("count", 3), ("waste", 2), ("receipt", -5), ("adjustment", 0), ("bogus", 1)):
        with pytest.raises(InvalidMoveError):
            stock.record_move(kind, "MILK", amount, ref="x")
    with pytest.raises(InvalidMoveError):
        stock.record_move("adjustment", "MILK", 2, ref="")
    assert stock.levels() == []


def test_the_stock_writer_only_inserts_moves(stock: StockService, db_path: Path, clock: FakeClock) -> None:
    po_supplier = stock.add_supplier("Dairy Co", lead_time_days=2)
    po = stock.create_purchase_order(po_supplier, [("MILK", 10, Money(600, "CNY"))])
    stock.receive(po, [ReceiptLine("MILK", 10)])
    take = stock.open_stocktake()
    stock.record_count(take, "MILK", 9)
    stock.approve_stocktake(take, approved_by="ann")
    moves = stock.moves(sku="MILK")
    assert sorted((m["kind"], m["qty"]) for m in moves) == [("count", -1), ("receipt", 10)]
    assert [m["id"] for m in sorted(moves, key=lambda m: m["id"])] == [1, 2]


def test_batches_fefo_expiry_warnings_and_markdowns(stock: StockService, db_path: Path, clock: FakeClock) -> None:
    supplier = stock.add_supplier("Dairy Co", lead_time_days=2)
    today = clock.now().date()
    po = stock.create_purchase_order(supplier, [("MILK", 30, Money(600, "CNY"))])
    stock.receive(po, [
        ReceiptLine("MILK", 10, lot="L-late", expires_on=today + timedelta(days=10)),
        ReceiptLine("MILK", 10, lot="L-soon", expires_on=today + timedelta(days=1)),
        ReceiptLine("MILK", 10, lot="L-mid", expires_on=today + timedelta(days=3)),
    ])
    deliver_sale(db_path, "s1", "MILK", clock.now(), qty=6)  # comes out of L-soon first
    batches = {b.lot: b.remaining for b in stock.batches("MILK")}
    assert batches == {"L-soon": 4, "L-mid": 10, "L-late": 10}
    allocations, short = stock.allocate("MILK", 7)
    lot_of = {b.batch_id: b.lot for b in stock.batches("MILK")}
    assert [(lot_of[a.batch_id], a.amount) for a in allocations] == [("L-soon", 4), ("L-mid", 3)] and short == 0
    expiring = stock.expiring(within_days=3)
    assert [(b.lot, b.days_left, b.markdown_percent, b.markdown_price) for b in expiring] == [
        ("L-soon", 1, 50, Money(625, "CNY")),
        ("L-mid", 3, 30, Money(875, "CNY")),
    ]
    clock.advance(days=2)  # L-soon is now past its date: flagged expired, no markdown
    first = stock.expiring(within_days=0)[0]
    assert (first.lot, first.expired, first.markdown_percent) == ("L-soon", True, None)


def test_low_stock_and_reorder_suggestions_from_sales_velocity(stock: StockService, db_path: Path, clock: FakeClock) -> None:
    supplier = stock.add_supplier("Bakery Ltd", lead_time_days=4)
    stock.record_move("receipt", "BREAD", 94, ref="opening", at=clock.now() - timedelta(days=40))
    # 2 a day for 28 days, plus old sales outside the window that must not count
    for day in range(28):
        deliver_sale(db_path, f"s{day}", "BREAD", clock.now() - timedelta(days=day, hours=1), qty=2)
    deliver_sale(db_path, "old", "BREAD", clock.now() - timedelta(days=35), qty=30)
    stock.set_reorder_point("BREAD", 10, supplier_id=supplier, pack_size=6)
    stock.set_reorder_point("MILK", 5)
    assert stock.on_hand("BREAD").amount == 8
    assert [(lv.sku, point) for lv, point in stock.low_stock()] == [("BREAD", 10), ("MILK", 5)]
    suggestions = {s.sku: s for s in stock.reorder_suggestions(cover_days=14)}
    bread = suggestions["BREAD"]
    assert (bread.sold_last_28_days, bread.lead_time_days, bread.on_hand) == (56, 4, 8)
    assert bread.quantity == 30  # up to 2 a day x (4 + 14) = 36, minus 8 = 28, in packs of 6
    assert suggestions["MILK"].quantity == 10  # no sales: up to twice the reorder point
    po = stock.create_purchase_order(supplier, [("BREAD", 30, Money(300, "CNY"))])
    assert "BREAD" not in {s.sku for s in stock.reorder_suggestions()}  # on order now
    assert stock.purchase_order(po).total_cost == Money(9000, "CNY")


def test_purchase_order_partial_then_full_receipt(stock: StockService) -> None:
    supplier = stock.add_supplier("Dairy Co", lead_time_days=2)
    po = stock.create_purchase_order(supplier, [("MILK", 20, Money(600, "CNY")), ("BAN", 5000, Money(4, "CNY"))])
    assert stock.purchase_order(po).status == "open"
    order = stock.receive(po, [ReceiptLine("MILK", 12)])
    assert order.status == "partial"
    assert {l.sku: l.outstanding for l in order.lines} == {"MILK": 8, "BAN": 5000}
    with pytest.raises(OverReceiptError):
        stock.receive(po, [ReceiptLine("MILK", 9)])
    with pytest.raises(OverReceiptError):
        stock.receive(po, [ReceiptLine("BREAD", 1)])
    with pytest.raises(OrderStateError):
        stock.cancel_purchase_order(po)
    order = stock.receive(po, [ReceiptLine("MILK", 8), ReceiptLine("BAN", 5000)])
    assert order.status == "received"
    assert stock.on_hand("MILK").units == 20 and stock.on_hand("BAN").grams == 5000
    with pytest.raises(OrderStateError):
        stock.receive(po, [ReceiptLine("MILK", 1)])
    assert [o.id for o in stock.purchase_orders("received")] == [po]


def test_stocktake_variance_and_approval_set_the_counted_on_hand(stock: StockService, clock: FakeClock) -> None:
    stock.record_move("receipt", "MILK", 20, ref="d1")
    take = stock.open_stocktake(note="monthly")
    assert stock.record_scan(take, GTIN_MILK[1:]) == ("MILK", 1)
    stock.record_count(take, "MILK", 16, add=True)
    stock.record_count(take, "BAN", 2_400)
    variance = {line.sku: (line.counted, line.expected, line.variance) for line in stock.variance(take)}
    assert variance == {"MILK": (17, 20, -3), "BAN": (2_400, 0, 2_400)}
    clock.advance(60)
    stock.approve_stocktake(take, approved_by="ann")
    assert stock.on_hand("MILK").units == 17 and stock.on_hand("BAN").grams == 2_400
    assert stock.stocktake(take).status == "approved"
    with pytest.raises(StocktakeStateError):
        stock.record_count(take, "MILK", 1)


def _run_scenario(tmp: Path, order: tuple[str, ...], approve_after: int) -> tuple[int, int, int]:
    """Sales S1, S2 (before the count at T) and S3, S4 (after T) arrive in ``order``; the
    stocktake counted at T is approved after ``approve_after`` of them have arrived."""
    clock = FakeClock(datetime(2026, 1, 5, 20, 0, tzinfo=timezone.utc))
    t_count = datetime(2026, 1, 5, 18, 0, tzinfo=timezone.utc)
    sales = {
        "S1": t_count - timedelta(hours=3),
        "S2": (t_count - timedelta(seconds=1)).astimezone(CST),  # a kiosk in UTC+8
        "S3": (t_count + timedelta(seconds=1)).astimezone(CST),
        "S4": t_count + timedelta(hours=1),
    }
    path = tmp / "edge.db"
    with CatalogueStore(path, clock=clock) as cat, StockService(path, clock=clock, catalogue=cat) as stock:
        stock.record_move("receipt", "MILK", 50, ref="opening", at=t_count - timedelta(days=1))
        take = stock.open_stocktake(count_at=t_count)
        stock.record_count(take, "MILK", 40)  # 50 - 2 sold before T - 8 shrinkage
        for i, sale in enumerate(order):
            if i == approve_after:
                stock.approve_stocktake(take, approved_by="ann")
            deliver_sale(path, sale, "MILK", sales[sale], qty=1)
        if approve_after >= len(order):
            stock.approve_stocktake(take, approved_by="ann")
        return stock.on_hand("MILK").units, stock.on_hand("MILK", at=t_count).units, len(stock.moves(kind="count"))


def test_stocktake_result_does_not_depend_on_the_order_offline_sales_arrive(tmp_path: Path) -> None:
    results = set()
    for n, order in enumerate(itertools.permutations(("S1", "S2", "S3", "S4"))):
        if n % 3:  # a spread of the 24 orders keeps the test fast
            continue
        for approve_after in (0, 2, 4):
            run = tmp_path / f"{n}-{approve_after}"
            results.add(_run_scenario(run, order, approve_after))
    # counted 40 at T; two sales after T: 38 now, 40 at T, one count move each time
    assert results == {(38, 40, 1)}


def test_a_sale_before_the_count_arriving_late_does_not_change_on_hand(stock: StockService, db_path: Path, clock: FakeClock) -> None:
    stock.record_move("receipt", "BREAD", 10, ref="d", at=clock.now() - timedelta(hours=5))
    take = stock.open_stocktake(count_at=clock.now() - timedelta(hours=1))
    stock.record_count(take, "BREAD", 7)
    stock.approve_stocktake(take, approved_by="ann")
    deliver_sale(db_path, "late", "BREAD", clock.now() - timedelta(hours=2), qty=2)
    assert stock.on_hand("BREAD").units == 7
    deliver_sale(db_path, "after", "BREAD", clock.now(), qty=2)
    assert stock.on_hand("BREAD").units == 5
    assert {lv.sku: lv.units for lv in stock.levels()}["BREAD"] == 5


def test_transfers_out_now_and_in_once(stock: StockService) -> None:
    stock.record_move("receipt", "MILK", 20, ref="d1")
    out = stock.transfer_out("shop-2", {"MILK": 5}, ref="T-1")
    assert out.status == "sent" and stock.on_hand("MILK").units == 15
    assert stock.mark_transfer_received(out.id).status == "received"
    first = stock.transfer_in("shop-3", {"BAN": 3000}, ref="T-9")
    again = stock.transfer_in("shop-3", {"BAN": 3000}, ref="T-9")
    assert first.id == again.id and stock.on_hand("BAN").grams == 3000
    with pytest.raises(TransferConflictError):
        stock.transfer_in("shop-3", {"BAN": 1}, ref="T-9")
    with pytest.raises(TransferConflictError):
        stock.transfer_out("shop-2", {"MILK": 1}, ref="T-1")
    assert sorted(m["qty"] + m["grams"] for m in stock.moves(kind="transfer")) == [-5, 3000]


def test_closed_service_refuses_use_and_close_is_idempotent(db_path: Path, clock: FakeClock) -> None:
    service = StockService(db_path, clock=clock)
    service.close()
    service.close()
    with pytest.raises(RuntimeError):
        service.levels()
