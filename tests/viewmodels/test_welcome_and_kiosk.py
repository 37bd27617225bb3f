import subprocess
import sys
from datetime import timedelta

import pytest

from kiosk.viewmodels.demo import demo_basket, demo_kiosk_view_model
from kiosk.viewmodels.i18n import I18n, Language
from kiosk.viewmodels.kiosk import KioskViewModel, ScreenName
from kiosk.viewmodels.welcome import WelcomeViewModel
from retail.clock import FakeClock
from retail.money import Money, sum_money


def test_welcome_texts_follow_the_language():
    i18n = I18n()
    vm = WelcomeViewModel(i18n, "  Greenleaf  ")
    heard = []
    vm.on_change(heard.append)
    assert (vm.shop_name, vm.start_text, vm.help_text, vm.title_text) == ("Greenleaf", "Touch to start", "Help", "Welcome")
    assert vm.languages == ((Language.EN, "English", True), (Language.ZH_CN, "简体中文", False))
    vm.choose_language("zh_CN")
    assert (vm.start_text, vm.help_text, vm.title_text) == ("点击开始", "帮助", "欢迎光临")
    assert vm.language_toggle_text == "English"
    assert heard == [frozenset({"labels"})]


def test_welcome_needs_a_shop_name():
    with pytest.raises(ValueError):
        WelcomeViewModel(I18n(), " ")


def test_start_clears_the_basket_runs_the_session_hook_and_opens_scan():
    calls = []
    kiosk = KioskViewModel(shop_name="Shop", on_session_start=lambda: calls.append(kiosk.scan.is_empty))
    lines, total, count, _ = demo_basket()
    kiosk.scan.show_basket(lines, total, count)
    heard = []
    kiosk.on_change(heard.append)
    kiosk.welcome.start()
    assert kiosk.screen is ScreenName.SCAN
    assert calls == [True]
    assert kiosk.scan.is_empty
    assert frozenset({"screen"}) in heard


def test_help_is_requested_once_with_the_clock_time_and_cancels():
    clock = FakeClock()
    kiosk = KioskViewModel(shop_name="Shop", clock=clock)
    heard = []
    kiosk.on_change(heard.append)
    kiosk.scan.request_help()
    first = kiosk.help_since
    clock.advance(30)
    kiosk.welcome.request_help()  # a second touch is not a second call
    assert kiosk.help_requested and kiosk.help_since == first == clock.now() - timedelta(seconds=30)
    assert kiosk.help_text.startswith("Help is on the way")
    kiosk.i18n.toggle()
    assert kiosk.help_text == "已呼叫工作人员，请稍候。" and kiosk.cancel_help_text == "取消"
    kiosk.cancel_help()
    assert not kiosk.help_requested and kiosk.help_text == ""
    assert heard.count(frozenset({"help"})) == 2


def test_end_session_returns_to_welcome_in_english():
    kiosk = KioskViewModel(shop_name="Shop", language="zh_CN")
    kiosk.start_session()
    kiosk.request_help()
    kiosk.end_session()
    assert (kiosk.screen, kiosk.i18n.language, kiosk.help_requested) == (ScreenName.WELCOME, Language.EN, False)


def test_demo_basket_adds_up():
    lines, total, count, savings = demo_basket()
    amounts = [Money.of(line.amount_text.lstrip("¥"), "CNY") for line in lines]
    assert sum_money(amounts, "CNY") == total
    assert len(lines) == 5 and any("kg ×" in line.qty_text for line in lines)
    assert sum(1 for line in lines if line.saving_text) == 1
    assert demo_kiosk_view_model().screen is ScreenName.WELCOME


def test_view_models_import_no_kivy():
    code = "import sys, kiosk.viewmodels, kiosk.viewmodels.demo; print(any(m.startswith('kivy') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
