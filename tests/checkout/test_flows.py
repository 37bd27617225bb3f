"""The shopper's flow: welcome, language, scanning, lookup and weighing, deli labels,
quantity changes and removals."""

from __future__ import annotations

from kiosk.checkout import CheckoutState as S
from kiosk.checkout import model as m
from retail.barcodes import make_variable_measure
from retail.basket import LineKind

from .conftest import Lane, cny


def test_welcome_language_touch_starts_in_chinese(lane: Lane) -> None:
    assert lane.state is S.WELCOME
    lane.send(m.ChooseLanguage("zh_CN"))
    assert lane.state is S.SCANNING
    assert lane.engine.language == "zh_CN"
    lane.scan_and_bag("COKE", 350)
    assert lane.snap.lines[0].name(lane.snap.language) == "可口可乐"


def test_scanning_on_welcome_starts_the_session(lane: Lane) -> None:
    lane.scan("COKE")
    assert lane.state is S.WAITING_FOR_BAGGING
    assert lane.snap.total == cny("3.50")


def test_each_scan_shows_name_price_saving_and_running_total(started: Lane) -> None:
    started.scan_and_bag("COKE", 350)
    out = started.scan("CHIPS")
    assert any(isinstance(e, m.Beep) and e.tone == "ok" for e in out)
    started.place(80)
    snap = started.snap
    chips = snap.lines[1]
    assert (chips.name_en, chips.gross, chips.savings, chips.payable) == ("Potato Chips", cny("8.50"), cny("1.70"), cny("6.80"))
    assert chips.saving_names[0][:2] == ("Chips 20% off", "薯片八折")
    assert snap.total == cny("10.30") and snap.savings == cny("1.70") and snap.item_count == 2
    assert snap.last_line_id == chips.line_id


def test_second_scan_of_same_item_increments_its_line(started: Lane) -> None:
    started.scan_and_bag("COKE", 350)
    started.scan_and_bag("COKE", 352)
    snap = started.snap
    assert len(snap.lines) == 1 and snap.lines[0].quantity == 2 and snap.total == cny("7.00")


def test_unknown_barcode_beeps_an_error_and_adds_nothing(started: Lane) -> None:
    out = started.scan("4006381333931")
    assert m.ShowMessage("item_not_found", "4006381333931") in out
    assert started.state is S.SCANNING and started.snap.lines == ()


def test_weighed_item_via_lookup_search_and_stable_weight(started: Lane) -> None:
    started.send(m.OpenLookup())
    assert started.state is S.LOOKING_UP
    apple = started.engine.search("pg")[0]
    started.send(m.SelectItem(apple.sku))
    assert started.state is S.WEIGHING
    started.send(m.ProduceReading(400, True))  # the bowl
    started.send(m.TareProduceScale())
    started.send(m.ProduceReading(900, False))
    assert started.snap.weighing.price is None  # not stable yet
    out = started.send(m.ConfirmWeight())
    assert m.ShowMessage("weight_not_stable") in out and started.state is S.WEIGHING
    started.send(m.ProduceReading(900, True))
    w = started.snap.weighing
    assert (w.net_g, w.price) == (500, cny("6.40"))
    started.send(m.ConfirmWeight())
    assert started.state is S.WAITING_FOR_BAGGING
    line = started.snap.lines[0]
    assert (line.kind, line.weight_g, line.payable) == (LineKind.WEIGHED, 500, cny("6.40"))
    started.place(505)
    assert started.state is S.SCANNING


def test_zero_weight_is_not_accepted(started: Lane) -> None:
    started.send(m.OpenLookup())
    started.send(m.SelectItem("BANANA"))
    started.send(m.ProduceReading(0, True))
    out = started.send(m.ConfirmWeight())
    assert m.ShowMessage("no_weight") in out and started.snap.lines == ()
    started.send(m.CancelWeighing())
    assert started.state is S.LOOKING_UP
    started.send(m.CloseLookup())
    assert started.state is S.SCANNING


def test_unit_item_from_category_grid_goes_straight_to_bagging(started: Lane) -> None:
    started.send(m.OpenLookup())
    started.send(m.SelectItem("COKE"))
    assert started.state is S.WAITING_FOR_BAGGING and started.snap.lines[0].sku == "COKE"


def test_deli_label_with_price_inside(started: Lane) -> None:
    started.scan(make_variable_measure("20", "23456", price_minor=1575))
    line = started.snap.lines[0]
    assert (line.sku, line.kind, line.payable) == ("SALAD", LineKind.LABEL_PRICE, cny("15.75"))
    started.place(300)  # unknown weight: anything placed is accepted
    assert started.state is S.SCANNING


def test_deli_label_with_weight_inside(started: Lane) -> None:
    started.scan(make_variable_measure("22", "12345", weight_g=250))
    line = started.snap.lines[0]
    assert (line.sku, line.kind, line.weight_g, line.payable) == ("HAM", LineKind.LABEL_WEIGHT, 250, cny("14.50"))
    assert started.snap.bagging.expected_g == 250
    started.place(255)
    assert started.state is S.SCANNING


def test_quantity_increase_expects_the_extra_pieces_in_the_bag(started: Lane) -> None:
    started.scan_and_bag("COKE", 350)
    line_id = started.snap.lines[0].line_id
    started.send(m.ChangeQuantity(line_id, 3))
    assert started.state is S.WAITING_FOR_BAGGING and started.snap.bagging.expected_g == 700
    started.place(700)
    assert started.state is S.SCANNING and started.snap.total == cny("10.50")


def test_quantity_decrease_asks_to_take_pieces_off(make_lane) -> None:  # noqa: ANN001
    lane = make_lane(void_needs_approval=False)
    lane.send(m.Start())
    lane.scan_and_bag("COKE", 350)
    lane.scan_and_bag("COKE", 350)
    lane.send(m.ChangeQuantity(lane.snap.lines[0].line_id, 1))
    assert lane.state is S.WAITING_FOR_BAGGING and lane.snap.bagging.removing
    lane.place(-350)
    assert lane.state is S.SCANNING and lane.snap.total == cny("3.50")


def test_remove_bagged_item_asks_to_take_it_off_the_scale(make_lane) -> None:  # noqa: ANN001
    lane = make_lane(void_needs_approval=False)
    lane.send(m.Start())
    lane.scan_and_bag("COKE", 350)
    lane.scan_and_bag("MILK", 1050)
    milk = lane.snap.lines[1].line_id
    out = lane.send(m.RemoveLine(milk))
    assert m.ShowMessage("take_item_off_bagging_area") in out
    assert lane.state is S.WAITING_FOR_BAGGING and lane.snap.bagging.expected_g == 1050
    lane.place(-1050)
    assert lane.state is S.SCANNING
    assert [line.sku for line in lane.snap.lines] == ["COKE"] and lane.snap.total == cny("3.50")


def test_removing_the_item_just_scanned_before_bagging_needs_no_scale_change(make_lane) -> None:  # noqa: ANN001
    lane = make_lane(void_needs_approval=False)
    lane.send(m.Start())
    lane.scan("COKE")
    lane.send(m.RemoveLine(lane.snap.lines[0].line_id))
    assert lane.state is S.SCANNING and lane.snap.lines == ()


def test_edge_offline_only_sets_the_staff_indicator(started: Lane) -> None:
    started.send(m.EdgeStatus(False))
    assert started.snap.edge_online is False
    started.scan_and_bag("COKE", 350)  # still sells from the local replica
    assert started.snap.total == cny("3.50")
