"""The welcome screen in a real Kivy window under Xvfb (scenario "welcome")."""

import pytest

from kiosk.ui.theme import DEFAULT_THEME as T
from tests.ui.images import differing_fraction, distinct_colours, load

pytestmark = pytest.mark.ui


def test_welcome_shows_shop_start_languages_and_help_in_english(ui_run, screenshot_dir):
    run = ui_run("welcome")
    texts = run.result["welcome_en"]
    assert run.result["current_at_start"] == "welcome"
    assert texts == {
        "shop_name": "Greenleaf Market 绿叶超市",
        "title": "Welcome",
        "subtitle": "Scan, bag and pay on your own",
        "start_button": "Touch to start",
        "lang_en": "English",
        "lang_zh": "简体中文",
        "help_button": "Help",
    }
    image = load(run.keep("welcome_en", screenshot_dir))
    assert image.size == (1280, 800)
    assert distinct_colours(image) > 50  # text is drawn (anti-aliased), not a flat fill


def test_touching_the_chinese_button_relabels_the_screen_and_back(ui_run, screenshot_dir):
    run = ui_run("welcome")
    zh = run.result["welcome_zh"]
    assert run.result["language_after_zh_tap"] == "zh_CN"
    assert run.result["still_on"] == "welcome"
    assert (zh["title"], zh["start_button"], zh["help_button"], zh["subtitle"]) == (
        "欢迎光临", "点击开始", "帮助", "自助扫码 · 装袋 · 付款"
    )
    assert run.result["welcome_back_en"] == run.result["welcome_en"]
    en_png, zh_png = run.keep("welcome_en", screenshot_dir), run.keep("welcome_zh", screenshot_dir)
    # the Chinese screenshot really differs where the labels are (not only in the JSON)
    assert differing_fraction(load(en_png), load(zh_png)) > 0.005


def test_a_touch_on_no_button_starts_a_session(ui_run, screenshot_dir):
    run = ui_run("welcome")
    assert run.result["current_after_blank_touch"] == "scan"
    assert run.result["scan_empty_en"]["empty_hint"] == "Scan your first item"
    assert run.result["scan_empty_en"]["total"] == "¥0.00"
    run.keep("scan_empty_en", screenshot_dir)


def test_welcome_buttons_are_big_enough_to_touch_and_type_is_large(ui_run):
    run = ui_run("welcome")
    for name, box in run.result["buttons"].items():
        assert box["height"] >= T.touch_min, name
        assert box["width"] >= T.touch_min, name
    sizes = run.result["font_sizes"]
    assert min(sizes.values()) >= 28
    assert sizes["start_button"] >= 48
