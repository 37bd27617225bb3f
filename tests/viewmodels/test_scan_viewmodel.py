import threading

import pytest

from kiosk.viewmodels.errors import InvalidLineError
from kiosk.viewmodels.formatting import quantity_text, weight_text
from kiosk.viewmodels.i18n import I18n, Language
from kiosk.viewmodels.scan import LineView, ScanViewModel
from retail.money import Money


def cny(text: str) -> Money:
    return Money.of(text, "CNY")


def basket() -> list[LineView]:
    return [
        LineView.priced("L1", "Whole milk 1 L", quantity_text(2, cny("6.50")), cny("13.00"), name_zh="全脂牛奶 1升"),
        LineView.priced("L2", "Bananas", weight_text(456, cny("12.80")), cny("5.84"), name_zh="香蕉"),
        LineView.priced("L3", "Rice 5 kg", quantity_text(1, cny("49.90")), cny("39.90"), cny("10.00")),
    ]


@pytest.fixture
def scan():
    i18n = I18n()
    vm = ScanViewModel(i18n, currency="CNY")
    yield vm
    vm.close()


def test_rows_show_name_quantity_or_weight_amount_and_saving(scan):
    scan.show_basket(basket(), cny("58.74"), 4, cny("10.00"))
    rows = scan.rows
    assert [r.name for r in rows] == ["Whole milk 1 L", "Bananas", "Rice 5 kg"]
    assert rows[1].qty_text == "0.456 kg × ¥12.80/kg"
    assert rows[1].amount_text == "¥5.84"
    assert rows[2].saving_text == "You save ¥10.00" and rows[2].has_saving
    assert not rows[0].has_saving
    assert scan.total_text == "¥58.74"
    assert scan.item_count_text == "4 items"
    assert scan.savings_text == "Total savings ¥10.00"
    assert scan.pay_enabled


def test_switching_to_chinese_relabels_rows_totals_and_buttons(scan):
    scan.show_basket(basket(), cny("58.74"), 4, cny("10.00"))
    heard = []
    scan.on_change(heard.append)
    scan.toggle_language()
    assert scan.language is Language.ZH_CN
    assert heard and {"labels", "lines", "totals"} <= heard[-1]
    rows = scan.rows
    assert rows[0].name == "全脂牛奶 1升"
    assert rows[2].name == "Rice 5 kg"  # no Chinese name given: the English one stays
    assert rows[2].saving_text == "优惠 ¥10.00"
    assert (scan.total_label, scan.pay_text, scan.lookup_text, scan.help_text) == ("合计", "付款", "查找商品", "帮助")
    assert scan.item_count_text == "4 件商品"
    assert scan.language_toggle_text == "English"


def test_upsert_appends_new_lines_and_replaces_known_ones_in_place(scan):
    scan.set_lines(basket())
    heard = []
    scan.on_change(heard.append)
    scan.upsert_line(LineView("L2", "Bananas", "0.500 kg × ¥12.80/kg", "¥6.40"))
    assert [l.line_id for l in scan.lines] == ["L1", "L2", "L3"]
    assert scan.rows[1].amount_text == "¥6.40"
    assert heard[-1] == frozenset({"lines"})
    scan.upsert_line({"line_id": "L4", "name": "Tea", "qty_text": "1 × ¥3.50", "amount_text": "¥3.50"})
    assert scan.last_line_id == "L4"
    assert heard[-1] == frozenset({"lines", "last_line"})


def test_remove_line_voids_it_and_reports_whether_it_was_there(scan):
    scan.set_lines(basket())
    assert scan.remove_line("L3") is True
    assert scan.remove_line("L3") is False
    assert [l.line_id for l in scan.lines] == ["L1", "L2"]
    assert scan.last_line_id == "L2"


def test_empty_basket_refuses_pay_and_shows_the_hint():
    calls = []
    vm = ScanViewModel(I18n(), on_pay=lambda: calls.append("pay"))
    assert vm.is_empty and not vm.pay_enabled
    assert vm.pay() is False and calls == []
    assert vm.empty_text == "Scan your first item"
    vm.show_basket(basket(), cny("58.74"), 4)
    assert vm.pay() is True and calls == ["pay"]


def test_clear_starts_a_new_basket(scan):
    scan.show_basket(basket(), cny("58.74"), 4, cny("10.00"))
    scan.clear()
    assert scan.is_empty and scan.total_text == "¥0.00" and scan.savings_text == "" and scan.item_count == 0


def test_zero_saving_shows_no_saving():
    line = LineView.priced("L1", "Tea", "1 × ¥3.50", cny("3.50"), cny("0.00"))
    assert line.saving_text == ""


@pytest.mark.parametrize(
    "lines",
    [
        [LineView("A", "x", "1", "¥1"), LineView("A", "y", "1", "¥1")],
        [{"line_id": "A", "name": "x"}],
        [{"line_id": "", "name": "x", "qty_text": "1", "amount_text": "¥1"}],
    ],
)
def test_bad_lines_are_refused_with_a_typed_error(scan, lines):
    with pytest.raises(InvalidLineError) as info:
        scan.set_lines(lines)
    assert isinstance(info.value, ValueError)


def test_totals_in_another_currency_are_refused(scan):
    with pytest.raises(InvalidLineError):
        scan.set_totals(Money.of("1.00", "EUR"), 1)
    with pytest.raises(InvalidLineError):
        scan.set_totals(cny("1.00"), -1)


def test_offline_indicator_text_follows_state_and_language(scan):
    heard = []
    scan.on_change(heard.append)
    assert scan.offline_text == ""
    scan.set_offline(True)
    scan.set_offline(True)  # no change, no second call
    assert scan.offline_text == "Offline"
    assert heard == [frozenset({"offline"})]
    scan.toggle_language()
    assert scan.offline_text == "离线"


def test_changes_from_another_thread_reach_listeners(scan):
    heard = []
    scan.on_change(heard.append)
    worker = threading.Thread(target=lambda: scan.show_basket(basket(), cny("58.74"), 4))
    worker.start()
    worker.join()
    assert heard == [frozenset({"lines", "totals", "last_line"})]
    assert len(scan.rows) == 3


def test_close_stops_following_the_language():
    i18n = I18n()
    vm = ScanViewModel(i18n)
    heard = []
    vm.on_change(heard.append)
    vm.close()
    vm.close()
    i18n.toggle()
    assert heard == []
