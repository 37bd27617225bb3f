"""The checkout screens' view-models without a window: a simulated lane (the real engine,
simulated devices and payments) on one thread, read back through the view-models."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.app_wiring import DEMO_GTINS, ImmediateScheduler, build_simulated_runtime
from kiosk.checkout import model as m
from kiosk.ui.theme import contrast_ratio, hex_colour
from kiosk.viewmodels.base import KeyEntry, money_from_text
from kiosk.viewmodels.i18n import MESSAGES, Language
from kiosk.viewmodels.kiosk import ScreenName
from kiosk.viewmodels.lookup import TILE_COLOURS, tile_colour, tile_initial
from kiosk.viewmodels.member import group_phone
from kiosk.viewmodels.weighing import kilograms
from retail.barcodes import make_variable_measure
from retail.clock import FakeClock
from retail.money import Money

ENGINE = Path(__file__).resolve().parents[2] / "kiosk" / "checkout" / "engine.py"


@pytest.fixture
def lane():  # noqa: ANN201
    built = build_simulated_runtime(clock=FakeClock(), scheduler=ImmediateScheduler(), print_in_background=False)
    built.runtime.start()
    yield built
    built.runtime.close()


def scan(lane, sku: str) -> None:  # noqa: ANN001
    lane.devices.scanner.scan(DEMO_GTINS[sku])


def bag(lane, grams: int) -> None:  # noqa: ANN001
    lane.devices.bag_scale.place(grams)


def test_every_engine_message_code_and_reason_has_both_languages():
    source = ENGINE.read_text(encoding="utf-8")
    codes = set(re.findall(r'_(?:message|error)\("([a-z_]+)"', source))
    codes |= {"payment_declined", "payment_timeout", "payment_cancelled"}
    assert len(codes) > 30
    for code in codes:
        assert set(MESSAGES[f"msg.{code}"]) == set(Language), code
    for reason in m.AttendantReason:
        assert set(MESSAGES[f"reason.{reason.value}"]) == set(Language), reason


def test_key_entry_takes_allowed_keys_deletes_and_limits_decimals():
    entry = KeyEntry(allowed="0123456789.", max_len=6, decimals=2)
    for key in "12.345x":
        entry.press(key)
    assert entry.text == "12.34"
    assert entry.press("<") and entry.text == "12.3"
    assert not entry.press(".")  # one decimal point only
    entry.press("C")
    assert entry.text == "" and not entry.press("<")
    assert money_from_text("12.5", "CNY") == Money.of("12.50", "CNY") and money_from_text(".", "CNY") is None


def test_tiles_are_coloured_by_sku_with_the_initial_and_white_text_stays_legible():
    assert tile_initial("Fuji Apples") == "F" and tile_initial("苹果") == "苹" and tile_initial("  ") == "?"
    assert tile_colour("APPLE") == tile_colour("APPLE") in TILE_COLOURS
    for colour in TILE_COLOURS:
        assert contrast_ratio(hex_colour("#ffffff"), hex_colour(colour)) >= 4.5, colour


def test_small_formatters():
    assert group_phone("13812345678") == "138 1234 5678" and group_phone("138") == "138"
    assert kilograms(456) == "0.456 kg" and kilograms(0) == "0.000 kg"


def test_screens_follow_the_engine_from_welcome_to_thank_you(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    assert vm.screen is ScreenName.WELCOME
    vm.welcome.start()
    assert vm.screen is ScreenName.SCAN and vm.scan.empty_text == "Scan your first item"
    scan(lane, "COKE")
    assert vm.scan.bag_prompt_text == "Place Coca-Cola 330ml in the bagging area" and vm.scan.bag_skippable
    bag(lane, 350)
    assert vm.scan.bag_prompt_text == "" and vm.scan.total_text == "¥3.50"
    vm.scan.pay()
    assert vm.screen is ScreenName.PAY and vm.pay.due_text == "¥3.50" and not vm.pay.has_member
    vm.pay.pay_card()
    assert vm.pay.busy and vm.pay.card_waiting_text and not vm.pay.tenders_enabled
    lane.terminal.approve()
    assert vm.screen is ScreenName.RECEIPT and vm.receipt.total_text == "Total ¥3.50"
    vm.receipt.choose("none")
    assert vm.screen is ScreenName.THANK_YOU and vm.thank_you.receipt_text == ""
    vm.thank_you.finish()
    assert vm.screen is ScreenName.WELCOME


def test_language_chosen_on_welcome_carries_into_the_sale(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.choose_language("zh_CN")
    assert vm.screen is ScreenName.WELCOME  # choosing a language alone does not start
    scan(lane, "COKE")  # scanning straight away starts the session
    assert lane.runtime.engine.language == "zh_CN" and vm.scan.rows[0].name == "可口可乐 330毫升"
    assert vm.scan.bag_prompt_text == "请将可口可乐 330毫升放入装袋区"
    vm.scan.toggle_language()
    assert lane.runtime.engine.language == "en" and vm.i18n.language is Language.EN


def test_lookup_categories_tiles_and_search_by_pinyin_and_plu(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    vm.scan.look_up()
    assert vm.screen is ScreenName.LOOKUP
    assert vm.lookup.category == "produce"
    assert {t.sku for t in vm.lookup.tiles} == {"APPLE", "BANANA", "ORANGE", "TOMATO", "GINGER"}
    assert all(t.price_text.endswith("/kg") and len(t.initial) == 1 for t in vm.lookup.tiles)
    vm.lookup.choose_category("bakery")
    assert [t.sku for t in vm.lookup.tiles] == ["BAGUETTE", "BUN"] or {t.sku for t in vm.lookup.tiles} == {"BUN", "BAGUETTE"}
    for key in "xhs":  # 西红柿
        vm.lookup.key(key)
    assert vm.lookup.searching and [t.sku for t in vm.lookup.tiles] == ["TOMATO"]
    vm.lookup.key("C")
    for key in "4011":
        vm.lookup.key(key)
    assert [t.sku for t in vm.lookup.tiles] == ["BANANA"]
    vm.lookup.key("C")
    for key in "zzz":
        vm.lookup.key(key)
    assert vm.lookup.no_results_text == "No items found"
    vm.lookup.choose("BUN")  # a unit item goes straight into the basket
    assert vm.screen is ScreenName.SCAN and vm.scan.rows[0].name == "Pork Bun"


def test_weighing_shows_live_weight_tare_and_price_only_when_steady(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    produce = lane.devices.produce_scale
    vm.welcome.start()
    vm.scan.look_up()
    vm.lookup.choose("BANANA")
    assert vm.screen is ScreenName.WEIGHING and vm.weighing.item_text == "Bananas"
    assert not vm.weighing.can_add and vm.weighing.price_text == ""
    produce.place(100)
    vm.weighing.tare()
    assert vm.weighing.tare_text == "Container 0.100 kg"
    produce.make_unstable()
    produce.place(1000)
    assert vm.weighing.weight_text == "1.000 kg" and vm.weighing.status_text == "Weighing…" and not vm.weighing.can_add
    produce.settle()
    assert vm.weighing.status_text == "Weight is steady" and vm.weighing.price_text == "Price ¥6.98"
    vm.weighing.add()
    assert vm.screen is ScreenName.SCAN and vm.scan.rows[0].qty_text == "1.000 kg × ¥6.98/kg"


def test_attendant_pin_is_masked_refusal_only_where_allowed(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    scan(lane, "BEER")
    assert vm.screen is ScreenName.AGE_CHECK
    assert vm.attendant.age_body_text.startswith("Tsingtao Beer is for adults only")
    assert vm.attendant.can_refuse
    for key in "1111":
        vm.attendant.key(key)
    assert vm.attendant.pin_text == "••••"
    vm.attendant.refuse()
    assert vm.screen is ScreenName.SCAN and vm.scan.is_empty  # refused: the beer is gone
    bag(lane, 400)  # unexpected item
    assert vm.screen is ScreenName.ATTENDANT and not vm.attendant.can_refuse
    assert vm.attendant.reason_text == "Unexpected item in the bagging area" and vm.attendant.fix_text
    lane.devices.bag_scale.remove(400)
    assert vm.screen is ScreenName.SCAN


def test_wrong_pin_shows_a_message_and_keeps_waiting(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    scan(lane, "BEER")
    for key in "9999":
        vm.attendant.key(key)
    vm.attendant.approve()
    assert vm.screen is ScreenName.AGE_CHECK and vm.message_text == "PIN or badge not recognised"
    lane.devices.scanner.scan("TILLPI-STAFF:S1:badge-ann", "QRCODE")  # a badge works too
    assert vm.screen is ScreenName.SCAN and vm.scan.bag_prompt_text


def test_member_by_phone_is_masked_and_unlocks_stored_value_and_points(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    scan(lane, "MILK")
    bag(lane, 1050)
    vm.scan.open_member()
    assert vm.screen is ScreenName.MEMBER and vm.member.status_text == "Not signed in" and not vm.member.can_find
    for key in "13812345678":
        vm.member.key(key)
    assert vm.member.phone_text == "138 1234 5678" and vm.member.can_find
    vm.member.find()
    assert vm.member.phone_text == "138****5678" and vm.member.level_text == "Level: Silver"
    assert vm.member.balance_text == "Stored value: ¥20.00"
    vm.member.done()
    assert vm.screen is ScreenName.SCAN and vm.scan.total_text == "¥9.90"  # member price
    assert vm.scan.rows[0].saving_text == "Member price · You save ¥2.10"
    vm.scan.pay()
    assert vm.pay.stored_value_text == "Stored value ¥20.00" and vm.pay.points_text == "400 points = ¥4.00"
    vm.pay.pay_points()
    assert vm.pay.due_text == "¥5.90" and vm.pay.paid_text == "Paid so far: Points ¥4.00"
    assert not vm.pay.can_go_back
    vm.pay.pay_stored_value()
    assert vm.screen is ScreenName.RECEIPT


def test_unknown_phone_and_coupon_show_messages(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    vm.scan.open_member()
    for key in "13900000000":
        vm.member.key(key)
    vm.member.find()
    assert vm.message_text == "No member with that number" and vm.member.member is None
    vm.member.done()
    vm.scan.open_coupon()
    for key in "nope":
        vm.coupon.key(key)
    assert vm.coupon.code_text == "NOPE"
    vm.coupon.add()
    assert vm.message_text == "That coupon is not valid" and vm.coupon.applied_text == "No coupons yet"


def test_coupon_typed_applies_and_screen_closes_on_done(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    scan(lane, "WATER")
    bag(lane, 12500)
    vm.scan.open_coupon()
    for key in "save2":
        vm.coupon.key(key)
    vm.coupon.add()
    assert vm.coupon.applied_text == "Applied: SAVE2" and vm.coupon.savings_text == "Total savings ¥2.00"
    assert vm.coupon.code_text == ""  # added: the box empties
    vm.coupon.done()
    assert vm.screen is ScreenName.SCAN and vm.scan.total_text == "¥37.90"


def test_quantity_remove_and_price_override_from_a_selected_line(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    scan(lane, "TEA")
    bag(lane, 520)
    line = vm.scan.rows[0].line_id
    vm.scan.select_line(line)
    assert vm.scan.rows[0].selected and vm.scan.selected_line.adjustable
    vm.scan.increase()
    bag(lane, 520)
    assert vm.scan.item_count == 2 and vm.scan.selected_line_id == line
    vm.scan.decrease()  # fewer pieces: needs approval
    assert vm.screen is ScreenName.ATTENDANT and vm.attendant.reason_text == "Remove Green Tea 500ml: staff must approve"
    for key in "1111":
        vm.attendant.key(key)
    vm.attendant.approve()
    assert vm.scan.bag_prompt_text == "Take Green Tea 500ml off the bagging area"
    lane.devices.bag_scale.remove(520)
    assert vm.scan.item_count == 1
    assert vm.scan.selected_line_id == line  # still selected
    vm.scan.change_price()
    assert vm.screen is ScreenName.PRICE and vm.price.current_text == "Now ¥4.00" and not vm.price.can_request
    for key in "2.5":
        vm.price.key(key)
    assert vm.price.new_text == "New price ¥2.50"
    vm.price.request()
    assert vm.screen is ScreenName.ATTENDANT and vm.attendant.reason_text == "Price change for Green Tea 500ml"
    for key in "2222":
        vm.attendant.key(key)
    vm.attendant.approve()
    assert vm.screen is ScreenName.SCAN and vm.scan.total_text == "¥2.50"
    assert vm.scan.rows[0].saving_text == "Price changed by staff" and not vm.scan.rows[0].adjustable


def test_mobile_qr_screen_shows_the_gateway_payload_and_cancel_returns(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    scan(lane, "CHIPS")
    bag(lane, 80)
    vm.scan.pay()
    vm.pay.pay_qr("alipay")
    assert vm.screen is ScreenName.QR and vm.qr.payload.startswith("tillpi-sim-pay://alipay/")
    assert vm.qr.title_text == "Scan to pay with Alipay" and vm.qr.amount_text == "Amount ¥6.80"
    vm.qr.cancel()
    assert vm.screen is ScreenName.PAY and vm.message_text == "Payment cancelled"


def test_cash_screen_shows_change_before_confirming(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    scan(lane, "CHIPS")
    bag(lane, 80)
    vm.scan.pay()
    vm.pay.pay_cash()
    assert vm.screen is ScreenName.ATTENDANT and vm.attendant.reason_text == "Paying by cash"
    for key in "1111":
        vm.attendant.key(key)
    vm.attendant.approve()
    assert vm.screen is ScreenName.CASH and lane.devices.drawer.kicks == 1
    assert [label for _, label in vm.cash.quick_amounts] == ["¥6.80", "¥50.00", "¥100.00"]
    for key in "5":
        vm.cash.key(key)
    assert vm.cash.change_text == "Not enough: ¥1.80 more"
    vm.cash.set_amount("10")
    assert vm.cash.change_text == "Change ¥3.20"
    vm.cash.confirm()
    assert vm.screen is ScreenName.RECEIPT and vm.receipt.change_text == "Please take your change: ¥3.20"


def test_suspend_shows_the_resume_qr_and_another_lane_resumes_it(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    scan(lane, "COKE")
    bag(lane, 350)
    vm.scan.suspend()
    assert vm.screen is ScreenName.SUSPENDED and vm.suspended.payload.startswith("TILLPI-SUSPEND:")
    assert vm.suspended.body_text == "Scan this code at any till to carry on (1 items)"
    token = vm.suspended.payload
    vm.suspended.finish()
    assert vm.screen is ScreenName.WELCOME
    lane.devices.scanner.scan(token, "QRCODE")
    assert vm.screen is ScreenName.SCAN and vm.scan.total_text == "¥3.50"


def test_help_banner_follows_the_engine_and_can_be_hidden(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    vm.scan.request_help()
    assert vm.help_requested and vm.cancel_help_text == "OK"
    assert lane.devices.light.state.value == "assistance"
    vm.cancel_help()  # hides the banner; the attendant still comes
    assert not vm.help_requested and lane.runtime.engine.snapshot().help_requested


def test_messages_go_when_the_screen_changes_or_time_is_up(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    clock = vm.clock
    vm.welcome.start()
    lane.devices.scanner.scan("TILLPI-COUPON:BOGUS", "QRCODE")
    assert vm.message_text == "That coupon is not valid"
    clock.advance(5)
    vm.expire_message()
    assert vm.message_text == ""


def test_offline_indicator_is_for_staff_and_follows_edge_status(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    lane.runtime.set_edge_online(False)
    assert vm.offline_text == "Offline" and vm.scan.offline_text == "Offline"
    lane.runtime.set_edge_online(True)
    assert vm.offline_text == ""
