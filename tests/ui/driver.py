"""Scripted runs of the kiosk UI in a real Kivy window, one scenario per process.

    python -m tests.ui.driver SCENARIO --out DIR [--font-cache DIR] [--kivy-home DIR]

Writes the PNGs and ``DIR/result.json`` (texts on screen, geometry, timings) that the tests
in this folder assert on. The app gets simulated data (kiosk.viewmodels.demo).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

PROCESS_START = psutil.Process().create_time()

WELCOME_IDS = ("shop_name", "title", "subtitle", "start_button", "lang_en", "lang_zh", "help_button")
SCAN_IDS = (
    "shop_name", "title", "empty_hint", "item_count", "total_label", "total", "savings",
    "lookup_button", "pay_button", "help_button", "language_toggle", "offline",
)
BUTTONS = {
    "welcome": ("start_button", "lang_en", "lang_zh", "help_button"),
    "scan": ("lookup_button", "pay_button", "help_button", "language_toggle"),
}


def _texts(ui: Any, screen: str, ids: tuple[str, ...]) -> dict[str, str]:
    return {key: ui.text(f"{screen}.{key}") for key in ids}


def _visible_rows(ui: Any) -> list[dict[str, Any]]:
    """The basket rows as drawn: the RecycleView's row widgets inside its viewport, top first."""
    basket = ui.widget("scan.basket")
    rows = []
    for row in basket.layout_manager.children:
        x, y = row.to_window(row.x, row.y)
        bx, by = basket.to_window(basket.x, basket.y)
        inside = y + row.height > by + 1 and y < by + basket.height - 1
        if not inside or not row.line_id:
            continue
        rows.append(
            {
                "line_id": row.line_id,
                "name": row.ids.name.text,
                "qty": row.ids.qty.text,
                "amount": row.ids.amount.text,
                "saving": row.ids.saving.text if row.ids.saving.opacity > 0 else "",
                "saving_color": list(row.ids.saving.color),
                "top": y + row.height,
                "fully_visible": y >= by - 1 and y + row.height <= by + basket.height + 1,
            }
        )
    rows.sort(key=lambda r: -r["top"])
    return rows


def _run_in_thread(target: Any) -> None:
    """Push into the view-models from another thread, as the checkout engine will."""
    thread = threading.Thread(target=target, name="engine")
    thread.start()
    thread.join()


# -- scenarios ---------------------------------------------------------------------------------
def _type_faces(widgets: Iterator[Any]) -> list[list[Any]]:
    """The ``[font_size, bold]`` pairs of the labels among ``widgets`` (one font face each)."""
    from kivy.uix.label import Label

    return sorted({(w.font_size, bool(w.bold)) for w in widgets if isinstance(w, Label)})


def scenario_welcome(ui: Any, vm: Any) -> Iterator[Any]:
    manager = ui.app.screen_manager
    yield from ui.settle(2)
    ui.result["current_at_start"] = manager.current
    ui.result["screens_at_start"] = list(manager.screen_names)
    yield from ui.screenshot("welcome_en")
    ui.result["welcome_en"] = _texts(ui, "welcome", WELCOME_IDS)
    ui.result["buttons"] = {key: ui.geometry(f"welcome.{key}") for key in BUTTONS["welcome"]}
    ui.result["font_sizes"] = {key: ui.widget(f"welcome.{key}").font_size for key in ("shop_name", "title", "subtitle", "start_button")}
    yield from ui.tap("welcome.lang_zh")
    yield from ui.screenshot("welcome_zh")
    ui.result["welcome_zh"] = _texts(ui, "welcome", WELCOME_IDS)
    ui.result["language_after_zh_tap"] = vm.i18n.language.value
    ui.result["still_on"] = manager.current
    yield from ui.tap("welcome.lang_en")
    ui.result["welcome_back_en"] = _texts(ui, "welcome", WELCOME_IDS)
    # a touch on no button (top-left corner, over the shop's name) starts a session
    yield from ui.tap_at(40, ui.app.root.height - 40)
    yield ui.wait_for(lambda: manager.current == "scan" and not manager.transition.is_active, "scan screen")
    ui.result["current_after_blank_touch"] = manager.current
    ui.result["screens_after_start"] = list(manager.screen_names)
    yield from ui.screenshot("scan_empty_en")
    ui.result["scan_empty_en"] = _texts(ui, "scan", SCAN_IDS)
    # every sale screen built (as if each had been shown): the type sizes they draw text in
    from kiosk.ui.app import SCREEN_CLASSES

    screens = [ui.app.screen(name) for name in SCREEN_CLASSES]
    yield from ui.settle(2)
    ui.result["type_faces"] = _type_faces(w for screen in screens for w in screen.walk(restrict=True))
    ui.result["type_faces"] += _type_faces(ui.app.root.walk(restrict=True))
    labels = [w for screen in screens for w in screen.walk(restrict=True) if hasattr(w, "_label")]
    ui.result["labels_drawn"] = sum(1 for w in labels if w.texture is not None)
    ui.result["labels_keeping_text_surface"] = sum(1 for w in labels if getattr(w._label, "_surface", None) is not None)


def scenario_checkout(ui: Any, vm: Any) -> Iterator[Any]:
    from kiosk.viewmodels.demo import push_demo_basket

    manager = ui.app.screen_manager
    pay_calls: list[float] = []
    vm.scan.on_pay = lambda: pay_calls.append(time.monotonic())  # the engine's hook, recorded
    yield from ui.settle(2)
    yield from ui.tap("welcome.start_button")
    yield ui.wait_for(lambda: manager.current == "scan" and not manager.transition.is_active, "scan screen")
    ui.result["pay_enabled_when_empty"] = ui.widget("scan.pay_button").enabled
    yield from ui.tap("scan.pay_button")
    ui.result["pay_calls_when_empty"] = len(pay_calls)

    _run_in_thread(lambda: push_demo_basket(vm))
    yield ui.wait_for(lambda: len(_visible_rows(ui)) == 5, "five basket rows")
    yield from ui.screenshot("scan_en")
    ui.result["scan_en"] = _texts(ui, "scan", SCAN_IDS)
    ui.result["rows_en"] = _visible_rows(ui)
    ui.result["buttons"] = {key: ui.geometry(f"scan.{key}") for key in BUTTONS["scan"]}
    ui.result["window"] = list(ui.app.root.size)
    row = ui.widget("scan.basket").layout_manager.children[0]
    ui.result["font_sizes"] = {
        "total": ui.widget("scan.total").font_size,
        "total_label": ui.widget("scan.total_label").font_size,
        "item_count": ui.widget("scan.item_count").font_size,
        "row_name": row.ids.name.font_size,
        "row_qty": row.ids.qty.font_size,
        "row_amount": row.ids.amount.font_size,
        "row_saving": row.ids.saving.font_size,
        "button": ui.widget("scan.pay_button").font_size,
    }

    _run_in_thread(lambda: vm.scan.set_offline(True))
    yield ui.wait_for(lambda: ui.text("scan.offline") != "", "offline indicator")
    ui.result["offline_text_en"] = ui.text("scan.offline")
    ui.result["offline_geometry"] = ui.geometry("scan.offline")

    yield from ui.tap("scan.language_toggle")
    yield ui.wait_for(lambda: ui.text("scan.total_label") != ui.result["scan_en"]["total_label"], "Chinese labels")
    yield from ui.screenshot("scan_zh")
    ui.result["scan_zh"] = _texts(ui, "scan", SCAN_IDS)
    ui.result["rows_zh"] = _visible_rows(ui)
    # screens off the glass refresh when they show: look at the welcome, then come back
    vm.go("welcome")
    yield ui.wait_for(lambda: manager.current == "welcome", "welcome shown")
    yield from ui.settle(2)
    ui.result["welcome_title_while_zh"] = ui.text("welcome.title")
    vm.go("scan")
    yield ui.wait_for(lambda: manager.current == "scan", "scan shown again")
    yield from ui.settle(2)

    yield from ui.tap("scan.pay_button")
    ui.result["pay_calls_with_basket"] = len(pay_calls)

    yield from ui.tap("scan.help_button")
    yield ui.wait_for(lambda: ui.app.root.help_shown, "help banner")
    yield from ui.screenshot("scan_help_zh")
    ui.result["help_banner_zh"] = {"message": ui.text("root.help_banner.message"), "cancel": ui.text("root.help_banner.cancel")}
    ui.result["help_requested"] = vm.help_requested
    yield from ui.tap("root.help_banner.cancel")
    yield ui.wait_for(lambda: not ui.app.root.help_shown, "help banner gone")
    ui.result["help_after_cancel"] = vm.help_requested
    ui.result["banner_opacity_after_cancel"] = ui.widget("root.help_banner").opacity

    # a long basket: the newest line scrolls into view
    from kiosk.viewmodels.formatting import quantity_text
    from kiosk.viewmodels.scan import LineView
    from retail.money import Money

    def push_many() -> None:
        price = Money.of("4.20", "CNY")
        for i in range(6, 15):
            vm.scan.upsert_line(
                LineView.priced(f"L{i}", f"Oat biscuits no. {i}", quantity_text(1, price), price, name_zh=f"燕麦饼干 {i} 号")
            )
        vm.scan.set_totals(Money.of("122.84", "CNY"), 17, Money.of("10.00", "CNY"))

    _run_in_thread(push_many)
    yield ui.wait_for(
        lambda: any(r["line_id"] == "L14" and r["fully_visible"] for r in _visible_rows(ui)), "newest line in view"
    )
    yield from ui.screenshot("scan_long_zh")
    ui.result["rows_long"] = _visible_rows(ui)
    ui.result["scan_long_zh"] = _texts(ui, "scan", SCAN_IDS)


def scenario_glyphs(ui: Any, vm: Any) -> Iterator[Any]:
    """Render the same strings with the kiosk's default font and with Kivy's own Roboto."""
    import os

    import kivy
    from kivy.core.text import Label as CoreLabel

    roboto = os.path.join(os.path.dirname(kivy.__file__), "data", "fonts", "Roboto-Regular.ttf")
    samples = {
        "hanzi_default": ("合计", None),
        "unassigned_default": ("\u0378\u0379", None),
        "hanzi_roboto": ("合计", roboto),
        "unassigned_roboto": ("\u0378\u0379", roboto),
        "latin_default": ("Total", None),
        # 直 differs between Japanese and Simplified Chinese glyph forms
        "zhi_default": ("直骨", None),
        "zhi_collection_first_face": ("直骨", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    }
    yield from ui.settle(2)
    rendered = {}
    for name, (text, font) in samples.items():
        kwargs: dict[str, Any] = {"text": text, "font_size": 96, "color": (1, 1, 1, 1)}
        if font:
            kwargs["font_name"] = font
        label = CoreLabel(**kwargs)
        label.refresh()
        path = ui.out_dir / f"glyph_{name}.png"
        label.texture.save(str(path), flipped=False)
        rendered[name] = {"path": str(path), "size": list(label.texture.size), "font": label.options["font_name"]}
        yield from ui.settle(1)
    ui.result["glyphs"] = rendered
    vm.i18n.set_language("zh_CN")
    yield from ui.screenshot("welcome_zh_glyphs")


SCENARIOS = {"welcome": scenario_welcome, "checkout": scenario_checkout, "glyphs": scenario_glyphs}

# the pairing screen of a newly provisioned kiosk, in its own app (kiosk.ui.screens.pairing)
PAIRING_DATA = {
    "store_id": "s1", "kiosk_id": "kiosk-05", "lane": 5, "code": "K7QM-4XTD",
    "payload": "tillpi://pair?v=1&s=s1&k=kiosk-05&l=5&c=K7QM4XTD",
    "expires_at": "2026-03-01T09:10:00+00:00",
}
PAIRING_IDS = ("lane", "code", "expiry", "hint", "language_toggle")


def scenario_pairing(ui: Any, vm: Any, clock: Any) -> Iterator[Any]:
    yield from ui.settle(3)
    ui.result["pairing_en"] = _texts(ui, "pairing", PAIRING_IDS)
    ui.result["pairing_en"]["title"] = ui.text("pairing.top.title")
    ui.result["payload_en"] = ui.widget("pairing.qr").payload
    ui.result["code_font_size"] = ui.widget("pairing.code").font_size
    ui.result["qr_geometry"] = ui.geometry("pairing.qr")
    ui.result["window"] = list(ui.app.root.size)
    yield from ui.screenshot("pairing_en")
    yield from ui.tap("pairing.language_toggle")
    yield ui.wait_for(lambda: ui.text("pairing.code") and ui.text("pairing.hint") != ui.result["pairing_en"]["hint"], "Chinese")
    yield from ui.settle(2)
    ui.result["pairing_zh"] = _texts(ui, "pairing", PAIRING_IDS)
    yield from ui.screenshot("pairing_zh")
    clock.advance(seconds=601)
    vm.tick()
    yield ui.wait_for(lambda: ui.widget("pairing.qr").payload == "", "expired")
    yield from ui.settle(2)
    ui.result["pairing_expired_zh"] = _texts(ui, "pairing", PAIRING_IDS)
    yield from ui.screenshot("pairing_expired_zh")

# scenarios against the real checkout engine, simulated devices and payment providers
ENGINE_SCENARIOS = {
    "purchases_en": ("purchases", "en"),
    "purchases_zh": ("purchases", "zh_CN"),
    "interventions_en": ("interventions", "en"),
    "interventions_zh": ("interventions", "zh_CN"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", choices=sorted(SCENARIOS) + sorted(ENGINE_SCENARIOS) + ["pairing"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--font-cache", type=Path, default=None)
    parser.add_argument("--kivy-home", type=Path, default=None)
    parser.add_argument("--limit", type=float, default=60.0, help="stop the app after this many seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from kiosk.ui.env import DisplaySettings, prepare_kivy

    settings = DisplaySettings(kivy_home=args.kivy_home, font_cache=args.font_cache)
    prepare_kivy(settings)

    from kivy.clock import Clock
    from kivy.uix.screenmanager import NoTransition

    from kiosk.ui.app import KioskApp
    from kiosk.ui.testing import UiDriver
    from kiosk.viewmodels.demo import demo_kiosk_view_model

    if args.scenario == "pairing":
        from datetime import datetime, timezone

        from kiosk.ui.screens.pairing import PairingApp
        from kiosk.viewmodels.i18n import I18n
        from kiosk.viewmodels.pairing import PairingViewModel
        from retail.clock import FakeClock

        clock = FakeClock(datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc))
        vm = PairingViewModel(I18n("en"), PAIRING_DATA, clock=clock)
        app = PairingApp(vm, font_cache=settings.resolved_font_cache())
        driver = UiDriver(app, args.out, process_start=PROCESS_START)
        driver.start(lambda ui: scenario_pairing(ui, vm, clock))
    elif args.scenario in ENGINE_SCENARIOS:
        from kiosk.app_wiring import DEMO_GTINS, build_simulated_runtime
        from kiosk.ui.app import KivyScheduler
        from retail.clock import FakeClock
        from tests.ui import purchases

        name, language = ENGINE_SCENARIOS[args.scenario]
        lane = build_simulated_runtime(clock=FakeClock(), scheduler=KivyScheduler())
        lane.gtins = DEMO_GTINS  # type: ignore[attr-defined]
        vm = lane.runtime.view_models
        app = KioskApp(vm, runtime=lane.runtime, font_cache=settings.resolved_font_cache(), transition=NoTransition())
        driver = UiDriver(app, args.out, process_start=PROCESS_START)
        driver.start(lambda ui: getattr(purchases, name)(ui, lane, language))
    else:
        vm = demo_kiosk_view_model()
        app = KioskApp(vm, font_cache=settings.resolved_font_cache(), transition=NoTransition())
        driver = UiDriver(app, args.out, process_start=PROCESS_START)
        driver.start(lambda ui: SCENARIOS[args.scenario](ui, vm))

    def watchdog(_dt: float) -> None:
        driver.abort(TimeoutError(f"scenario {args.scenario} still running after {args.limit} s"))

    Clock.schedule_once(watchdog, args.limit)
    app.run()
    vm.close()
    return 0 if driver.result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
