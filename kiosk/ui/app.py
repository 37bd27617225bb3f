"""The kiosk's Kivy application: the window, the screens and their view-models.

Run the demo with ``python -m kiosk.ui``. Importing this module imports Kivy, so call
:func:`kiosk.ui.env.prepare_kivy` first (``main()`` does it for you via ``kiosk.ui.__main__``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import FadeTransition, ScreenManager, TransitionBase

from kiosk.ui import widgets as _widgets  # noqa: F401 - registers the widget classes used in .kv
from kiosk.ui.fonts import FontFiles, prepare_fonts, register_default_font
from kiosk.ui.memory import HeapReport, settle_heap, trim_malloc
from kiosk.ui.screens import KV_FILES
from kiosk.ui.screens.base import BoundScreen, on_ui_thread
from kiosk.ui.screens.checkout import (
    AgeCheckScreen,
    AttendantScreen,
    CashScreen,
    CouponScreen,
    MemberScreen,
    PayScreen,
    PriceScreen,
    QrScreen,
    ReceiptScreen,
    SuspendedScreen,
    ThankYouScreen,
    WeighingScreen,
)
from kiosk.ui.screens.lookup import LookupScreen
from kiosk.ui.screens.scan import ScanScreen
from kiosk.ui.screens.welcome import WelcomeScreen
from kiosk.ui.text_surfaces import release_text_surfaces
from kiosk.ui.theme import DEFAULT_THEME, Theme
from kiosk.viewmodels.kiosk import KioskViewModel, ScreenName
from kiosk.viewmodels.observable import Subscription

__all__ = ["KivyScheduler", "KioskApp", "KioskRoot", "SCREEN_CLASSES", "load_kv", "main"]

logger = logging.getLogger(__name__)

UI_DIR = Path(__file__).resolve().parent
SHARED_KV: tuple[Path, ...] = (UI_DIR / "widgets.kv", UI_DIR / "root.kv")
_loaded_kv: set[Path] = set()


def load_kv() -> None:
    """Load the shared and per-screen ``.kv`` files once per process."""
    for path in (*SHARED_KV, *KV_FILES):
        if path not in _loaded_kv:
            Builder.load_file(str(path))
            _loaded_kv.add(path)


SCREEN_CLASSES: dict[ScreenName, type[BoundScreen]] = {
    ScreenName.WELCOME: WelcomeScreen,
    ScreenName.SCAN: ScanScreen,
    ScreenName.LOOKUP: LookupScreen,
    ScreenName.WEIGHING: WeighingScreen,
    ScreenName.ATTENDANT: AttendantScreen,
    ScreenName.AGE_CHECK: AgeCheckScreen,
    ScreenName.MEMBER: MemberScreen,
    ScreenName.COUPON: CouponScreen,
    ScreenName.PAY: PayScreen,
    ScreenName.QR: QrScreen,
    ScreenName.CASH: CashScreen,
    ScreenName.RECEIPT: ReceiptScreen,
    ScreenName.THANK_YOU: ThankYouScreen,
    ScreenName.SUSPENDED: SuspendedScreen,
    ScreenName.PRICE: PriceScreen,
}


class KivyScheduler:
    """Hands work to Kivy's UI thread: ``call_soon(fn)`` runs ``fn`` before the next frame is
    drawn (:func:`~kiosk.ui.screens.base.on_ui_thread`); calls from one thread run in order."""

    def call_soon(self, fn: Callable[[], None]) -> None:
        on_ui_thread(fn)


class KioskRoot(FloatLayout):
    """The window's root: the screen manager, with the help banner and messages over it."""

    help_message = StringProperty("")
    help_cancel_text = StringProperty("")
    help_shown = BooleanProperty(False)
    message_text = StringProperty("")
    offline_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self.on_cancel_help: Callable[[], None] | None = None
        super().__init__(**kwargs)

    def cancel_help(self) -> None:
        if self.on_cancel_help is not None:
            self.on_cancel_help()


class KioskApp(App):
    """The self-checkout app shell. ``view_models`` is the plain-Python state it shows.

    ``fonts`` defaults to Noto Sans CJK SC prepared in ``font_cache``; ``transition`` to a
    short fade (tests pass ``NoTransition()``). Screens are built when first shown
    (:meth:`screen`). ``settle_heap``: once the first frame is drawn, and again after a screen
    is built, collect, trim and freeze the heap (:mod:`kiosk.ui.memory`), so garbage collection
    never pauses a scan to walk the widget tree; and each time the welcome screen is back after
    a sale, trim again, so what the sale's screens freed goes back to the system instead of
    staying in the C heap.
    """

    title = "tillpi"

    def __init__(
        self,
        view_models: KioskViewModel,
        *,
        fonts: FontFiles | None = None,
        font_cache: Path | None = None,
        transition: TransitionBase | None = None,
        theme: Theme = DEFAULT_THEME,
        runtime: Any = None,
        poll_s: float = 0.1,
        tick_s: float = 0.5,
        settle_heap: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.view_models = view_models
        self.runtime = runtime  # a kiosk.app_wiring.KioskRuntime, started on_start, closed on_stop
        self._poll_s = poll_s
        self._settle_heap = settle_heap
        self._after_sale = Clock.create_trigger(self._settle_after_sale, 0)
        self._after_new_screen = Clock.create_trigger(self._settle, 0)
        self.heap_report: HeapReport | None = None
        self._tick_s = tick_s
        self._events: list[Any] = []
        self.theme = theme
        self._fonts = fonts
        self._font_cache = font_cache
        self._transition = transition
        self._subscription: Subscription | None = None
        self.kiosk_root: KioskRoot | None = None
        self.screen_manager: ScreenManager | None = None

    # -- building ---------------------------------------------------------------------------
    def build(self) -> KioskRoot:
        fonts = self._fonts
        if fonts is None:
            cache = self._font_cache or Path(self.user_data_dir) / "fonts"
            fonts = prepare_fonts(cache)
        register_default_font(fonts)
        release_text_surfaces()
        load_kv()
        root = KioskRoot()
        root.on_cancel_help = self.view_models.cancel_help
        manager: ScreenManager = root.ids.screens
        manager.transition = self._transition if self._transition is not None else FadeTransition(duration=0.15)
        self.kiosk_root = root
        self.screen_manager = manager
        manager.current = self.screen(self.view_models.screen).name
        self._subscription = self.view_models.on_change(self._view_models_changed)
        self._apply_root(frozenset({"*"}))
        return root

    def on_start(self) -> None:
        if self.runtime is not None:
            self.runtime.start()
            self._events.append(Clock.schedule_interval(lambda _dt: self.runtime.poll(), self._poll_s))
            self._events.append(Clock.schedule_interval(lambda _dt: self.runtime.tick(), self._tick_s))
        else:
            self._events.append(Clock.schedule_interval(lambda _dt: self.view_models.expire_message(), 0.5))
        if self._settle_heap:
            from kivy.core.window import Window

            def after_first_frame(*_args: Any) -> None:
                Window.unbind(on_flip=after_first_frame)
                self._events.append(Clock.schedule_once(self._settle, 0))

            Window.bind(on_flip=after_first_frame)

    def _settle(self, _dt: float = 0.0) -> None:
        self.heap_report = settle_heap()

    def _settle_after_sale(self, _dt: float) -> None:
        trim_malloc()

    def screen(self, name: ScreenName | str) -> BoundScreen:
        """The screen ``name``, built and bound to its view-model if it is not built yet.

        Screens are built when first shown, not at start-up: a screen's widgets, their
        textures and the font faces of its type sizes cost memory only once a shopper has
        needed it (most sales never see the lookup, the attendant's or the price screens).
        """
        manager = self.screen_manager
        if manager is None:
            raise RuntimeError("the app is not built yet")
        key = ScreenName(name)
        if not manager.has_screen(key.value):
            screen = SCREEN_CLASSES[key](name=key.value)
            if isinstance(screen, ScanScreen):
                screen.shop_name = self.view_models.shop_name
            manager.add_widget(screen)
            screen.bind_view_model(self.view_models.screen_view_models[key])
            if self._settle_heap and self.heap_report is not None:
                self._after_new_screen()  # its widgets join the frozen heap, as those built at start
        return manager.get_screen(key.value)

    def _view_models_changed(self, names: frozenset[str]) -> None:
        on_ui_thread(lambda: self._apply_root(names))

    def _apply_root(self, names: frozenset[str]) -> None:
        root, manager, vm = self.kiosk_root, self.screen_manager, self.view_models
        if root is None or manager is None:
            return
        if manager.current != vm.screen.value:
            manager.current = self.screen(vm.screen).name
            if vm.screen is ScreenName.WELCOME and self._settle_heap:
                self._after_sale()
        root.help_shown = vm.help_requested
        root.help_message = vm.help_text
        root.help_cancel_text = vm.cancel_help_text
        root.message_text = vm.message_text
        root.offline_text = vm.offline_text if vm.screen is not ScreenName.SCAN else ""

    def on_stop(self) -> None:
        for event in self._events:
            event.cancel()
        self._events.clear()
        self._after_sale.cancel()
        self._after_new_screen.cancel()
        if self.runtime is not None:
            self.runtime.close()
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        if self.screen_manager is not None:
            for screen in self.screen_manager.screens:
                screen.unbind_view_model()


def main(argv: list[str] | None = None) -> int:
    """Open the kiosk window with demo data (``python -m kiosk.ui``)."""
    import argparse

    from kiosk.viewmodels.demo import demo_kiosk_view_model, push_demo_basket

    parser = argparse.ArgumentParser(prog="python -m kiosk.ui", description="tillpi kiosk UI with demo data")
    parser.add_argument("--language", default="en", help="en or zh_CN")
    parser.add_argument("--scan", action="store_true", help="open on the scan screen with a demo basket")
    parser.add_argument("--offline", action="store_true", help="show the staff offline indicator")
    parser.add_argument("--demo-basket", action="store_true", help="no engine: a fixed demo basket (screens only)")
    args = parser.parse_args(argv)
    if not args.demo_basket:
        from kiosk.app_wiring import build_simulated_runtime

        lane = build_simulated_runtime(scheduler=KivyScheduler())
        lane.runtime.view_models.i18n.set_language(args.language)
        KioskApp(lane.runtime.view_models, runtime=lane.runtime).run()
        return 0
    view_models = demo_kiosk_view_model()
    # a simulated engine: every session starts with the demo basket
    view_models.on_session_start = lambda: push_demo_basket(view_models)
    view_models.i18n.set_language(args.language)
    view_models.scan.set_offline(args.offline)
    if args.scan:
        view_models.start_session()
    KioskApp(view_models).run()
    return 0

