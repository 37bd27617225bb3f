"""Whole purchases driven through a real Kivy window: touches on widgets, scans and scale
placements from other threads (as the devices deliver them), payments approved on the
simulated terminal and gateway. Used by tests/ui/driver.py; each scenario runs in one
process and records texts, device outcomes and a PNG of every screen it passes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from retail.barcodes import make_variable_measure

WEIGHTS = {"COKE": 350, "TEA": 520, "BEER": 520, "WATER": 12500, "CHIPS": 80, "MILK": 1050}


class Shopper:
    """A person at the lane: scans, puts things on the scales, touches the screen."""

    def __init__(self, ui: Any, lane: Any, language: str) -> None:
        self.ui = ui
        self.lane = lane
        self.rt = lane.runtime
        self.vm = lane.runtime.view_models
        self.language = language
        self.bag_g = 0
        self.shots: list[str] = []
        self.texts: dict[str, dict[str, str]] = {}
        ui.result.setdefault("purchases", {})

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def in_thread(fn: Callable[[], Any]) -> None:
        """Run a device verb on another thread (devices call back on their own threads)."""
        t = threading.Thread(target=fn, name="device")
        t.start()
        t.join()

    @property
    def state(self) -> str:
        return self.rt.engine.state.value

    @property
    def current(self) -> str:
        return self.ui.app.screen_manager.current

    def wait_screen(self, name: str, limit_s: float = 10.0) -> Iterator[Any]:
        yield self.ui.wait_for(lambda: self.current == name and self.vm.screen.value == name, f"screen {name}", limit_s)
        yield from self.ui.settle(1)

    def wait_state(self, state: str) -> Iterator[Any]:
        yield self.ui.wait_for(lambda: self.state == state, f"engine state {state}")
        yield from self.ui.settle(1)

    def shot(self, name: str, ids: tuple[str, ...] = ()) -> Iterator[Any]:
        full = f"{self.language}_{name}"
        self.ui.result.setdefault("shot_at", []).append([full, round(time.perf_counter(), 2)])
        yield from self.ui.screenshot(full)
        self.shots.append(full)
        screen = self.current
        own = self.ui.app.screen_manager.get_screen(screen).ids
        self.texts[full] = {
            key: self.ui.text(f"{screen}.{key}" if key in own or key != "title" else f"{screen}.top.title") for key in ids
        }
        self.texts[full]["_screen"] = screen
        self.texts[full]["_toast"] = self.ui.app.root.message_text
        self.texts[full]["_help"] = self.ui.app.root.help_message
        self.ui.result.setdefault("touch_targets", {})[full] = _smallest_button(self.ui.app.screen_manager.get_screen(screen))

    def scan(self, code: str) -> Iterator[Any]:
        before = self.rt.handled
        self.in_thread(lambda: self.lane.devices.scanner.scan(code, "QRCODE" if not code.isdigit() else _symbology(code)))
        yield self.ui.wait_for(lambda: self.rt.handled > before, f"scan {code} handled")
        yield from self.ui.settle(1)

    def bag(self, grams: int) -> Iterator[Any]:
        """Put ``grams`` into the bagging area (negative: take out)."""
        self.bag_g += grams
        scale = self.lane.devices.bag_scale
        before = self.rt.handled
        self.in_thread(lambda: scale.place(grams) if grams > 0 else scale.remove(-grams))
        yield self.ui.wait_for(lambda: self.rt.handled > before, "bag reading handled")
        yield from self.ui.settle(1)

    def tap(self, path: str) -> Iterator[Any]:
        yield from self.ui.tap(path)

    def keys(self, pad: str, text: str) -> Iterator[Any]:
        """Type on an on-screen keypad, one real touch per key."""
        keypad = self.ui.widget(pad)
        for key in text:
            button = keypad.button(key)
            x, y = button.to_window(*button.center)
            yield from self.ui.tap_at(x, y, settle_frames=1)
        yield from self.ui.settle(1)

    def tap_widget(self, widget: Any) -> Iterator[Any]:
        x, y = widget.to_window(*widget.center)
        yield from self.ui.tap_at(x, y)

    def start(self) -> Iterator[Any]:
        yield from self.wait_screen("welcome")
        if self.language == "zh_CN":
            yield from self.tap("welcome.lang_zh")
        yield from self.tap("welcome.start_button")
        yield from self.wait_screen("scan")

    def scan_and_bag(self, sku: str) -> Iterator[Any]:
        yield from self.scan(self.lane.gtins[sku])
        yield from self.wait_state("waiting_for_bagging")
        yield from self.bag(WEIGHTS[sku])
        yield from self.wait_state("scanning")

    def pin(self, screen: str, pin: str) -> Iterator[Any]:
        yield from self.keys(f"{screen}.pin_pad", pin)
        yield from self.tap(f"{screen}.approve_button")

    def finish(self, key: str) -> Iterator[Any]:
        """Finish on the thank-you screen and record the sale."""
        yield from self.tap("thank_you.finish_button")
        yield from self.wait_screen("welcome")
        sale = self.lane.sale_sink.sales[-1]
        self.ui.result["purchases"][f"{self.language}_{key}"] = {
            "total": sale.total.format(),
            "payments": [[p.tender.value, p.amount.format(), p.change.format() if p.change else ""] for p in sale.payments],
            "lines": [[ln.sku, ln.kind, ln.quantity, ln.weight_g, ln.payable.format(), ln.price_override] for ln in sale.lines],
            "member": sale.member_id,
            "approvals": [[a.reason.value, a.staff_id, a.approved] for a in sale.approvals],
            "language": sale.language,
            "coupons": list(sale.coupons),
        }

    def save(self) -> None:
        self.ui.result.setdefault("shots", []).extend(self.shots)
        self.ui.result.setdefault("texts", {}).update(self.texts)


def _symbology(code: str) -> str:
    return "EAN13" if len(code) == 13 else "UPCA" if len(code) == 12 else "EAN8"


SCAN_IDS = ("total", "item_count", "savings", "bag_prompt", "member", "title", "pay_button")
PAY_IDS = ("due", "total", "paid", "savings", "card_waiting", "stored_value_button", "points_button", "card_button")


# ============================================================================================
# Purchases
# ============================================================================================
def purchases(ui: Any, lane: Any, language: str) -> Iterator[Any]:
    """Unit item + card + printed receipt; lookup + weighing + mobile QR + e-receipt; deli
    label + promotion + member by phone + stored value and card (split); age check + member
    e-card + points + cash with change."""
    s = Shopper(ui, lane, language)
    yield from s.shot("welcome", ("title", "start_button", "shop_name"))

    # 1. a unit item, paid by card, receipt printed
    yield from s.start()
    yield from s.shot("scan_empty", SCAN_IDS + ("empty_hint",))
    yield from s.scan(lane.gtins["COKE"])
    yield from s.shot("scan_bagging", SCAN_IDS)
    yield from s.bag(350)
    yield from s.wait_state("scanning")
    yield from s.shot("scan_one_item", SCAN_IDS)
    yield from s.tap("scan.pay_button")
    yield from s.wait_screen("pay")
    yield from s.shot("pay", PAY_IDS + ("title",))
    yield from s.tap("pay.card_button")
    yield from s.shot("pay_card_waiting", PAY_IDS)
    s.in_thread(lambda: lane.terminal.approve())
    yield from s.wait_screen("receipt")
    yield from s.shot("receipt", ("title", "total", "change", "question", "print_button", "e_receipt_button", "none_button"))
    yield from s.tap("receipt.print_button")
    yield from s.wait_screen("thank_you")
    yield from s.shot("thank_you_printed", ("title", "body", "receipt"))
    yield ui.wait_for(lambda: len(lane.devices.printer.printed) >= 1, "receipt printed")
    ui.result.setdefault("printed", []).append(lane.devices.printer.printed[-1].data.to_dict())
    yield from s.finish("card")
    s.bag_g = 0
    s.in_thread(lambda: lane.devices.bag_scale.clear())

    # 2. loose apples: lookup (category and pinyin search), weighing with a tare, mobile QR, e-receipt
    yield from s.start()
    yield from s.tap("scan.lookup_button")
    yield from s.wait_screen("lookup")
    yield from s.shot("lookup", ("title", "back_button", "search_button"))
    ui.result.setdefault("tiles", {})[language] = [
        [t.sku, t.name, t.price_text, t.initial, t.colour] for t in lane.runtime.view_models.lookup.tiles
    ]
    yield from s.tap("lookup.search_button")
    yield from s.keys("lookup.keyboard", "pg")
    yield from s.shot("lookup_search", ("search_box", "no_results"))
    ui.result.setdefault("search", {})[language] = [t.sku for t in lane.runtime.view_models.lookup.tiles]
    yield from s.tap_widget(ui.app.screen("lookup").tile("APPLE"))
    yield from s.wait_screen("weighing")
    produce = lane.devices.produce_scale
    s.in_thread(lambda: produce.place(50))  # the shopper's bag first
    yield from ui.settle(4)
    yield from s.tap("weighing.tare_button")
    s.in_thread(lambda: (produce.make_unstable(), produce.place(456)))
    yield from ui.settle(4)
    yield from s.shot("weighing_unsteady", ("item", "weight", "status", "tare", "price", "price_per_kg", "instruction"))
    s.in_thread(produce.settle)
    yield ui.wait_for(lambda: lane.runtime.view_models.weighing.can_add, "steady weight")
    yield from ui.settle(3)
    yield from s.shot("weighing_steady", ("item", "weight", "status", "tare", "price", "add_button"))
    yield from s.tap("weighing.add_button")
    yield from s.wait_screen("scan")
    s.in_thread(produce.clear)
    yield from s.bag(456)
    yield from s.wait_state("scanning")
    yield from s.shot("scan_weighed", SCAN_IDS)
    ui.result.setdefault("weighed_row", {})[language] = lane.runtime.view_models.scan.rows[0].qty_text
    yield from s.tap("scan.pay_button")
    yield from s.wait_screen("pay")
    yield from s.tap("pay.wechat_button")
    yield from s.wait_screen("qr")
    yield from s.shot("qr", ("title", "amount", "hint", "cancel_button"))
    ui.result.setdefault("qr_payload", {})[language] = ui.app.screen("qr").payload
    s.in_thread(lambda: lane.gateway.pay())
    yield from s.wait_screen("receipt")
    yield from s.tap("receipt.e_receipt_button")
    yield from s.wait_screen("thank_you")
    yield from s.shot("thank_you_e_receipt", ("title", "receipt"))
    ui.result.setdefault("e_receipt", {})[language] = ui.app.screen("thank_you").payload
    yield from s.finish("weighed_qr")
    s.in_thread(lambda: lane.devices.bag_scale.clear())

    # 3. deli label, a promotion, member by phone, stored value then card (split)
    yield from s.start()
    yield from s.scan(make_variable_measure("20", "23456", price_minor=1575))
    yield from s.bag(300)
    yield from s.wait_state("scanning")
    yield from s.scan_and_bag("CHIPS")
    yield from s.shot("scan_label_and_saving", SCAN_IDS)
    ui.result.setdefault("saving_rows", {})[language] = [
        [r.name, r.qty_text, r.amount_text, r.saving_text] for r in lane.runtime.view_models.scan.rows
    ]
    yield from s.tap("scan.member_button")
    yield from s.wait_screen("member")
    yield from s.shot("member_empty", ("title", "prompt", "phone", "status", "scan_hint"))
    yield from s.keys("member.keypad", "13812345678")
    yield from s.shot("member_typed", ("phone",))
    yield from s.tap("member.find_button")
    yield ui.wait_for(lambda: lane.runtime.view_models.member.member is not None, "member found")
    yield from ui.settle(3)
    yield from s.shot("member_found", ("phone", "level", "points", "balance"))
    yield from s.tap("member.done_button")
    yield from s.wait_screen("scan")
    yield from s.shot("scan_member", SCAN_IDS)
    yield from s.tap("scan.pay_button")
    yield from s.wait_screen("pay")
    yield from s.shot("pay_member", PAY_IDS)
    yield from s.tap("pay.stored_value_button")
    yield ui.wait_for(lambda: bool(lane.runtime.engine.snapshot().payments), "stored value paid")
    yield from ui.settle(3)
    yield from s.shot("pay_split", PAY_IDS)
    yield from s.tap("pay.card_button")
    s.in_thread(lambda: lane.terminal.approve())
    yield from s.wait_screen("receipt")
    yield from s.tap("receipt.none_button")
    yield from s.wait_screen("thank_you")
    yield from s.shot("thank_you_member", ("title", "receipt", "points"))
    yield from s.finish("split")
    s.in_thread(lambda: lane.devices.bag_scale.clear())

    # 4. beer (age check with a PIN), member e-card QR, points, cash with change
    yield from s.start()
    yield from s.scan(lane.gtins["BEER"])
    yield from s.wait_screen("age_check")
    yield from s.shot("age_check", ("title", "body", "staff.pin", "approve_button", "refuse_button"))
    yield from s.keys("age_check.pin_pad", "1111")
    yield from s.shot("age_check_pin", ("staff.pin",))
    yield from s.tap("age_check.approve_button")
    yield from s.wait_state("waiting_for_bagging")
    yield from s.bag(520)
    yield from s.wait_state("scanning")
    yield from s.scan("TILLPI-MEMBER:M001")
    yield from s.scan_and_bag("MILK")
    yield from s.shot("scan_member_price", SCAN_IDS)
    yield from s.tap("scan.pay_button")
    yield from s.wait_screen("pay")
    yield from s.tap("pay.points_button")
    yield ui.wait_for(lambda: bool(lane.runtime.engine.snapshot().payments), "points paid")
    yield from ui.settle(3)
    yield from s.shot("pay_after_points", PAY_IDS)
    yield from s.tap("pay.cash_button")
    yield from s.wait_screen("attendant")
    yield from s.shot("attendant_cash", ("title", "reason", "staff.pin", "approve_button"))
    yield from s.pin("attendant", "1111")
    yield from s.wait_screen("cash")
    ui.result.setdefault("drawer_open_after_approval", {})[language] = bool(lane.devices.drawer.is_open)
    yield from s.shot("cash", ("due", "tendered", "change"))
    yield from s.keys("cash.keypad", "20")
    yield from s.shot("cash_entered", ("due", "tendered", "change", "confirm_button"))
    yield from s.tap("cash.confirm_button")
    yield from s.wait_screen("receipt")
    yield from s.shot("receipt_change", ("title", "total", "change"))
    yield from s.tap("receipt.none_button")
    yield from s.wait_screen("thank_you")
    yield from s.finish("cash")
    s.in_thread(lambda: lane.devices.drawer.push_closed())
    s.save()


# ============================================================================================
# Interventions
# ============================================================================================
def interventions(ui: Any, lane: Any, language: str) -> Iterator[Any]:
    """Quantity + with bagging, void with approval (and taking it off the bagging area), a
    price override (attendant refused, supervisor approves), an unexpected item, skip bagging,
    a coupon, help, and a suspended basket."""
    s = Shopper(ui, lane, language)
    yield from s.start()
    yield from s.scan_and_bag("COKE")
    yield from s.scan_and_bag("TEA")
    coke = lane.runtime.engine.snapshot().lines[0].line_id
    # quantity +
    row = _row(ui, coke)
    yield from s.tap_widget(row)
    yield from s.shot("scan_line_selected", SCAN_IDS + ("line_minus", "line_plus", "line_remove", "line_price"))
    yield from s.tap("scan.line_plus")
    yield from s.wait_state("waiting_for_bagging")
    yield from s.bag(350)
    yield from s.wait_state("scanning")
    yield from s.shot("scan_quantity_two", SCAN_IDS)
    # void with approval (the line is still selected after "+")
    ui.result.setdefault("still_selected_after_plus", {})[language] = s.vm.scan.selected_line_id == coke
    yield from s.tap("scan.line_remove")
    yield from s.wait_screen("attendant")
    yield from s.shot("attendant_void", ("title", "reason", "fix", "approve_button", "refuse_button"))
    yield from s.pin("attendant", "1111")
    yield from s.wait_screen("scan")
    yield from s.shot("scan_take_off", SCAN_IDS)
    yield from s.bag(-700)
    yield from s.wait_state("scanning")
    # price override: an attendant may not, a supervisor may
    tea = lane.runtime.engine.snapshot().lines[0].line_id
    yield from s.tap_widget(_row(ui, tea))
    yield from s.tap("scan.line_price")
    yield from s.wait_screen("price")
    yield from s.keys("price.keypad", "3.00")
    yield from s.shot("price", ("title", "item", "current", "new", "request_button"))
    yield from s.tap("price.request_button")
    yield from s.wait_screen("attendant")
    yield from s.pin("attendant", "1111")
    yield from s.shot("attendant_price_refused", ("title", "reason"))
    yield from s.pin("attendant", "2222")
    yield from s.wait_screen("scan")
    yield from s.shot("scan_price_override", SCAN_IDS)
    ui.result.setdefault("override_rows", {})[language] = [
        [r.name, r.amount_text, r.saving_text] for r in lane.runtime.view_models.scan.rows
    ]
    # an unexpected item, put right by taking it away
    yield from s.bag(400)
    yield from s.wait_screen("attendant")
    yield from s.shot("attendant_unexpected", ("title", "reason", "fix"))
    ui.result.setdefault("light_during_unexpected", {})[language] = lane.devices.light.state.value
    yield from s.bag(-400)
    yield from s.wait_screen("scan")
    # skip bagging a bulky item
    yield from s.scan(lane.gtins["WATER"])
    yield from s.wait_state("waiting_for_bagging")
    yield from s.shot("scan_bulky", SCAN_IDS + ("skip_bagging",))
    yield from s.tap("scan.skip_bagging")
    yield from s.wait_screen("attendant")
    yield from s.shot("attendant_skip_bagging", ("title", "reason"))
    yield from s.pin("attendant", "1111")
    yield from s.wait_screen("scan")
    # a coupon typed on the keyboard
    yield from s.tap("scan.coupon_button")
    yield from s.wait_screen("coupon")
    yield from s.keys("coupon.keyboard", "save2")
    yield from s.tap("coupon.add_button")
    yield from ui.settle(3)
    yield from s.shot("coupon", ("title", "code", "applied", "savings"))
    yield from s.tap("coupon.done_button")
    yield from s.wait_screen("scan")
    # help
    yield from s.tap("scan.help_button")
    yield ui.wait_for(lambda: ui.app.root.help_shown, "help banner")
    yield from s.shot("scan_help", SCAN_IDS)
    ui.result.setdefault("light_after_help", {})[language] = lane.devices.light.state.value
    yield from s.tap("root.help_banner.cancel")
    yield from ui.settle(3)
    # save the basket for another lane
    yield from s.tap("scan.suspend_button")
    yield from s.wait_screen("suspended")
    yield from s.shot("suspended", ("title", "body", "done_button"))
    ui.result.setdefault("suspend_payload", {})[language] = ui.app.screen("suspended").payload
    yield from s.tap("suspended.done_button")
    yield from s.wait_screen("welcome")
    ui.result.setdefault("errors", {})[language] = list(lane.runtime.errors)
    s.save()


def _smallest_button(root: Any) -> list[Any]:
    """The smallest touchable button on a screen: [height, width, text]."""
    from kiosk.ui.widgets import KioskButton

    found = []
    for widget in root.walk(restrict=True):
        if isinstance(widget, KioskButton) and widget.opacity > 0 and not widget.disabled and widget.width > 1:
            parent, hidden = widget.parent, False
            while parent is not None and parent is not root:
                if parent.opacity == 0 or parent.disabled:
                    hidden = True
                    break
                parent = parent.parent
            if not hidden:
                found.append([round(widget.height), round(widget.width), widget.text])
    return min(found) if found else []


def _row(ui: Any, line_id: str) -> Any:
    for row in ui.widget("scan.basket").layout_manager.children:
        if row.line_id == line_id:
            return row
    raise LookupError(line_id)
