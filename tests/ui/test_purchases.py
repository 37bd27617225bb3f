"""Whole purchases in a real Kivy window under Xvfb, against the real checkout engine with
simulated devices and payment providers, in English and in Chinese (tests/ui/purchases.py).

Every screen passed is saved as a PNG in the test's screenshot folder.
"""

from __future__ import annotations

import re

import pytest
import zxingcpp
from PIL import Image

from kiosk.ui.theme import DEFAULT_THEME as T
from kiosk.viewmodels.kiosk import ScreenName
from tests.ui.images import distinct_colours, load

pytestmark = pytest.mark.ui

LANGS = ("en", "zh_CN")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _runs(ui_run, language):  # noqa: ANN001, ANN202
    suffix = "en" if language == "en" else "zh"
    return ui_run(f"purchases_{suffix}"), ui_run(f"interventions_{suffix}")


@pytest.mark.parametrize("language", LANGS)
def test_every_screen_is_shown_and_saved_in_both_languages(ui_run, screenshot_dir, language):
    shown = set()
    for run in _runs(ui_run, language):
        for name, texts in run.result["texts"].items():
            shown.add(texts["_screen"])
            image = load(run.keep(name, screenshot_dir))
            assert image.size == (1280, 800) and distinct_colours(image) > 40, name
    assert shown == {s.value for s in ScreenName}


@pytest.mark.parametrize("language", LANGS)
def test_all_touch_targets_are_at_least_80_px(ui_run, language):
    for run in _runs(ui_run, language):
        for shot, smallest in run.result["touch_targets"].items():
            if smallest:
                assert smallest[0] >= T.touch_min and smallest[1] >= T.touch_min, (shot, smallest)


@pytest.mark.parametrize("language", LANGS)
def test_chinese_screens_are_in_chinese_and_english_screens_are_not(ui_run, language):
    for run in _runs(ui_run, language):
        for name, texts in run.result["texts"].items():
            if texts["_screen"] == "welcome":
                continue  # the attract screen shows the lane's default language until a choice
            words = " ".join(v for k, v in texts.items() if not k.startswith("_") and k != "shop_name")
            if language == "zh_CN":
                if sum(1 for k in texts if not k.startswith("_")) >= 3:
                    assert HAN.search(words), (name, texts)
            else:
                assert not HAN.search(words), (name, texts)


def test_unit_item_paid_by_card_prints_a_receipt(ui_run):
    run = ui_run("purchases_en")
    sale = run.result["purchases"]["en_card"]
    assert sale["total"] == "¥3.50" and sale["payments"] == [["card", "¥3.50", ""]]
    texts = run.result["texts"]
    assert texts["en_scan_bagging"]["bag_prompt"] == "Place Coca-Cola 330ml in the bagging area"
    assert texts["en_scan_one_item"]["total"] == "¥3.50" and texts["en_scan_one_item"]["item_count"] == "1 item"
    assert texts["en_pay_card_waiting"]["card_waiting"] == "Insert, tap or swipe your card on the terminal"
    assert texts["en_thank_you_printed"]["receipt"] == "Your receipt is printing"
    printed = run.result["printed"][0]
    assert printed["language"] == "en" and printed["seq"] == 1 and printed["total"]["minor"] == 350


@pytest.mark.parametrize("language", LANGS)
def test_weighed_item_from_lookup_with_tare_and_mobile_qr(ui_run, screenshot_dir, language):
    run = _runs(ui_run, language)[0]
    p = "en" if language == "en" else "zh_CN"
    texts = run.result["texts"]
    assert run.result["search"][language] == ["APPLE"]  # "pg": pinyin initials of 苹果
    unsteady, steady = texts[f"{p}_weighing_unsteady"], texts[f"{p}_weighing_steady"]
    assert unsteady["weight"] == steady["weight"] == "0.456 kg"
    assert unsteady["price"] == "" and steady["price"] in ("Price ¥5.84", "价格 ¥5.84")
    assert unsteady["status"] in ("Weighing…", "称重中…") and steady["status"] in ("Weight is steady", "重量已稳定")
    assert steady["tare"] in ("Container 0.050 kg", "皮重 0.050 kg")
    assert run.result["weighed_row"][language] == "0.456 kg × ¥12.80/kg"
    sale = run.result["purchases"][f"{p}_weighed_qr"]
    assert sale["lines"] == [["APPLE", "weighed", 1, 456, "¥5.84", False]]
    assert sale["payments"] == [["mobile_qr", "¥5.84", ""]]
    payload = run.result["qr_payload"][language]
    assert payload.startswith("tillpi-sim-pay://wechat/")
    # the QR on screen really encodes the payment
    qr_png = run.keep(f"{p}_qr", screenshot_dir)
    decoded = [b.text for b in zxingcpp.read_barcodes(Image.open(qr_png))]
    assert payload in decoded
    receipt_png = run.keep(f"{p}_thank_you_e_receipt", screenshot_dir)
    assert run.result["e_receipt"][language] in [b.text for b in zxingcpp.read_barcodes(Image.open(receipt_png))]


@pytest.mark.parametrize("language", LANGS)
def test_deli_label_promotion_member_phone_and_split_payment(ui_run, language):
    run = _runs(ui_run, language)[0]
    p = "en" if language == "en" else "zh_CN"
    texts = run.result["texts"]
    rows = run.result["saving_rows"][language]
    assert rows[0][2] == "¥15.75"  # the price printed on the deli label
    assert rows[1][3] == ("Chips 20% off · You save ¥1.70" if language == "en" else "薯片八折 · 优惠 ¥1.70")
    assert texts[f"{p}_member_typed"]["phone"] == "138 1234 5678"
    found = texts[f"{p}_member_found"]
    assert found["phone"] == "138****5678"
    assert found["level"] in ("Level: Silver", "等级：银卡会员") and found["points"] in ("Points: 5,000", "积分：5,000")
    assert texts[f"{p}_pay_split"]["due"] == "¥2.55"
    sale = run.result["purchases"][f"{p}_split"]
    assert sale["member"] == "M001" and sale["total"] == "¥22.55"
    assert sale["payments"] == [["stored_value", "¥20.00", ""], ["card", "¥2.55", ""]]
    assert sale["language"] == language


@pytest.mark.parametrize("language", LANGS)
def test_age_check_with_pin_points_and_cash_with_change(ui_run, language):
    run = _runs(ui_run, language)[0]
    p = "en" if language == "en" else "zh_CN"
    texts = run.result["texts"]
    assert texts[f"{p}_age_check"]["_screen"] == "age_check"
    assert texts[f"{p}_age_check_pin"]["staff.pin"] == "••••"  # a PIN is never shown
    assert texts[f"{p}_pay_after_points"]["due"] == "¥8.90"
    assert texts[f"{p}_cash_entered"]["change"] in ("Change ¥11.10", "找零 ¥11.10")
    assert texts[f"{p}_receipt_change"]["change"] in ("Please take your change: ¥11.10", "请收好找零：¥11.10")
    assert run.result["drawer_open_after_approval"][language] is True
    sale = run.result["purchases"][f"{p}_cash"]
    assert sale["payments"] == [["points", "¥7.00", ""], ["cash", "¥8.90", "¥11.10"]]
    reasons = {(r, staff) for r, staff, ok in sale["approvals"] if ok}
    assert {("age_restricted", "S1"), ("cash_payment", "S1")} <= reasons


@pytest.mark.parametrize("language", LANGS)
def test_interventions_void_price_override_unexpected_item_skip_bagging(ui_run, language):
    run = _runs(ui_run, language)[1]
    p = "en" if language == "en" else "zh_CN"
    texts = run.result["texts"]
    assert run.result["errors"][language] == []
    assert run.result["still_selected_after_plus"][language] is True
    assert texts[f"{p}_scan_quantity_two"]["item_count"] in ("3 items", "3 件商品")
    assert texts[f"{p}_attendant_void"]["reason"] in (
        "Remove Coca-Cola 330ml: staff must approve", "删除可口可乐 330毫升需员工批准"
    )
    assert texts[f"{p}_scan_take_off"]["bag_prompt"] in ("Take this item off the bagging area", "请从装袋区取出此商品")
    assert texts[f"{p}_attendant_price_refused"]["_toast"] in ("A supervisor must approve this", "需要主管批准")
    assert run.result["override_rows"][language][0][1] == "¥3.00"
    assert texts[f"{p}_attendant_unexpected"]["reason"] in ("Unexpected item in the bagging area", "装袋区有未扫描的商品")
    assert run.result["light_during_unexpected"][language] == "alarm"
    assert texts[f"{p}_attendant_skip_bagging"]["_screen"] == "attendant"
    assert texts[f"{p}_coupon"]["applied"] in ("Applied: SAVE2", "已使用：SAVE2")
    assert texts[f"{p}_scan_help"]["_help"] in (
        "Help is on the way. A member of staff will be with you shortly.", "已呼叫工作人员，请稍候。"
    )
    assert run.result["light_after_help"][language] == "assistance"
    assert run.result["suspend_payload"][language].startswith("TILLPI-SUSPEND:1.")
