"""The scan screen in a real Kivy window under Xvfb (scenario "checkout").

The driver pushes the demo basket into the view-model from another thread, as the checkout
engine will, then reads back what the widgets show.
"""

import pytest

from kiosk.ui.theme import DEFAULT_THEME as T
from tests.ui.images import close_to, differing_fraction, distinct_colours, load, pixel_at_window

pytestmark = pytest.mark.ui

EXPECTED_EN = [
    ("Whole milk 1 L", "2 × ¥6.50", "¥13.00", ""),
    ("Bananas (loose)", "0.456 kg × ¥12.80/kg", "¥5.84", ""),
    ("Jasmine rice 5 kg", "1 × ¥49.90", "¥39.90", "You save ¥10.00"),
    ("Green tea 500 ml", "3 × ¥3.50", "¥10.50", ""),
    ("Free-range eggs ×10", "1 × ¥15.80", "¥15.80", ""),
]


def test_empty_basket_cannot_be_paid(ui_run):
    run = ui_run("checkout")
    assert run.result["pay_enabled_when_empty"] is False
    assert run.result["pay_calls_when_empty"] == 0


def test_pushed_lines_are_drawn_with_weight_saving_and_totals(ui_run, screenshot_dir):
    run = ui_run("checkout")
    rows = run.result["rows_en"]
    assert [(r["name"], r["qty"], r["amount"], r["saving"]) for r in rows] == EXPECTED_EN
    assert all(r["fully_visible"] for r in rows)
    saving_row = rows[2]
    assert close_to(tuple(round(c * 255) for c in saving_row["saving_color"]), T.saving, 1)
    texts = run.result["scan_en"]
    assert (texts["total_label"], texts["total"], texts["item_count"], texts["savings"]) == (
        "Total", "¥85.04", "8 items", "Total savings ¥10.00"
    )
    assert (texts["lookup_button"], texts["pay_button"], texts["help_button"]) == ("Look up item", "Pay", "Help")
    assert texts["empty_hint"] == ""
    image = load(run.keep("scan_en", screenshot_dir))
    assert image.size == (1280, 800) and distinct_colours(image) > 50


def test_language_toggle_relabels_the_scan_screen_and_the_welcome_behind_it(ui_run, screenshot_dir):
    run = ui_run("checkout")
    texts = run.result["scan_zh"]
    assert (texts["total_label"], texts["item_count"], texts["pay_button"], texts["lookup_button"], texts["help_button"]) == (
        "合计", "8 件商品", "付款", "查找商品", "帮助"
    )
    assert texts["language_toggle"] == "English"
    assert texts["total"] == "¥85.04"
    names = [r["name"] for r in run.result["rows_zh"]]
    assert names == ["全脂牛奶 1升", "香蕉（散装）", "茉莉香米 5公斤", "绿茶 500毫升", "散养鸡蛋 10枚"]
    assert run.result["rows_zh"][2]["saving"] == "优惠 ¥10.00"
    assert run.result["rows_zh"][1]["qty"] == "0.456 kg × ¥12.80/kg"
    assert run.result["welcome_title_while_zh"] == "欢迎光临"
    en, zh = load(run.keep("scan_en", screenshot_dir)), load(run.keep("scan_zh", screenshot_dir))
    assert differing_fraction(en, zh) > 0.005


def test_pay_reaches_the_engine_hook_when_the_basket_has_lines(ui_run):
    assert ui_run("checkout").result["pay_calls_with_basket"] == 1


def test_offline_indicator_is_small_and_quiet(ui_run):
    run = ui_run("checkout")
    assert run.result["offline_text_en"] == "Offline"
    assert run.result["scan_zh"]["offline"] == "离线"
    box = run.result["offline_geometry"]
    assert box["height"] < 48 and box["width"] <= 160  # for staff: small, not a shopper control
    assert box["y"] > 700  # in the top bar


def test_help_banner_shows_in_the_shoppers_language_and_cancels(ui_run, screenshot_dir):
    run = ui_run("checkout")
    assert run.result["help_requested"] is True
    assert run.result["help_banner_zh"] == {"message": "已呼叫工作人员，请稍候。", "cancel": "取消"}
    assert run.result["help_after_cancel"] is False
    assert run.result["banner_opacity_after_cancel"] == 0
    image = load(run.keep("scan_help_zh", screenshot_dir))
    assert close_to(pixel_at_window(image, 8, 790), T.help_banner)


def test_the_newest_line_scrolls_into_view(ui_run, screenshot_dir):
    run = ui_run("checkout")
    rows = run.result["rows_long"]
    assert rows[-1]["line_id"] == "L14" and rows[-1]["fully_visible"]
    assert "L1" not in {r["line_id"] for r in rows}  # the list scrolled
    assert run.result["scan_long_zh"]["item_count"] == "17 件商品"
    run.keep("scan_long_zh", screenshot_dir)


def test_touch_targets_type_sizes_and_pay_bottom_right(ui_run):
    run = ui_run("checkout")
    width, height = run.result["window"]
    assert (width, height) == (1280, 800)
    buttons = run.result["buttons"]
    for name, box in buttons.items():
        assert box["height"] >= T.touch_min, name
    sizes = run.result["font_sizes"]
    body = {k: v for k, v in sizes.items() if k not in ("total",)}
    assert min(body.values()) >= 28
    assert sizes["total"] >= 48
    pay = buttons["pay_button"]
    assert pay["x"] + pay["width"] >= width - 40 and pay["y"] <= 40  # bottom-right corner
    assert pay["height"] >= max(b["height"] for b in buttons.values())


def test_pay_button_is_drawn_in_the_brand_colour(ui_run):
    run = ui_run("checkout")
    pay = run.result["buttons"]["pay_button"]
    image = load(run.png("scan_en"))
    # just inside the left edge, away from the rounded corner and the label
    assert close_to(pixel_at_window(image, pay["x"] + 30, pay["y"] + pay["height"] / 2), T.brand)
