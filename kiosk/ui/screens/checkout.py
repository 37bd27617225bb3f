"""The thin checkout screens: each copies its view-model's texts into Kivy properties that
its own ``.kv`` file lays out (see :func:`kiosk.ui.screens.base.bound_screen`)."""

from __future__ import annotations

from kiosk.ui.screens.base import BoundScreen, bound_screen
from kiosk.ui.widgets import KioskButton

__all__ = [
    "AgeCheckScreen", "AttendantScreen", "CashScreen", "CouponScreen", "MemberScreen", "PayScreen",
    "PriceScreen", "QrScreen", "ReceiptScreen", "SuspendedScreen", "ThankYouScreen", "WeighingScreen",
]

WeighingScreen = bound_screen(
    "WeighingScreen", screen_name="weighing",
    strings=("title_text", "item_text", "instruction_text", "price_per_kg_text", "weight_text", "status_text",
             "tare_text", "price_text", "tare_button_text", "add_text", "back_text", "help_text"),
    flags=("stable", "can_add"),
    doc="Weighing: the live weight from the produce scale, tare, the price; add when steady.",
)

AttendantScreen = bound_screen(
    "AttendantScreen", screen_name="attendant",
    strings=("title_text", "reason_text", "fix_text", "staff_text", "pin_text", "approve_text", "refuse_text",
             "help_text"),
    flags=("can_refuse", "pin_entered"),
    doc="Needs an attendant: please wait, help is coming, with the reason; the staff PIN pad.",
)

AgeCheckScreen = bound_screen(
    "AgeCheckScreen", screen_name="age_check",
    strings=("age_title_text", "age_body_text", "staff_text", "pin_text", "approve_text", "refuse_text", "help_text"),
    flags=("can_refuse", "pin_entered"),
    doc="Age check waiting: an adults-only item; staff check ID and approve with a PIN or badge.",
)

MemberScreen = bound_screen(
    "MemberScreen", screen_name="member",
    strings=("title_text", "prompt_text", "scan_hint_text", "phone_text", "level_text", "points_text",
             "balance_text", "status_text", "find_text", "done_text", "help_text"),
    flags=("can_find",),
    doc="Member: phone keypad (masked once found) or e-card QR; level, points, stored value.",
)

CouponScreen = bound_screen(
    "CouponScreen", screen_name="coupon",
    strings=("title_text", "prompt_text", "scan_hint_text", "code_text", "applied_text", "savings_text",
             "add_text", "done_text", "help_text"),
    flags=("can_add",),
    doc="Coupon: type the code on the keyboard or scan it; the coupons in use.",
)

PayScreen = bound_screen(
    "PayScreen", screen_name="pay",
    strings=("title_text", "due_label", "due_text", "total_text", "paid_text", "savings_text", "card_waiting_text",
             "card_text", "wechat_text", "alipay_text", "stored_value_text", "points_text", "cash_text",
             "member_text", "back_text", "cancel_payment_text", "help_text"),
    flags=("stored_value_enabled", "points_enabled", "has_member", "can_go_back", "tenders_enabled", "busy"),
    doc="Pay: amount due and one button per tender; split payments pay what each can.",
)

QrScreen = bound_screen(
    "QrScreen", screen_name="qr",
    strings=("payload", "title_text", "amount_text", "hint_text", "cancel_text", "help_text"),
    doc="Mobile payment: the QR code the shopper scans with WeChat Pay or Alipay.",
)

class _CashBase(BoundScreen):
    def refresh_more(self, vm, names: frozenset[str]) -> None:  # noqa: ANN001
        quick = vm.quick_amounts
        if getattr(self, "_quick", None) == quick:
            return
        self._quick = quick
        box = self.ids.quick
        box.clear_widgets()
        for text, label in quick:
            button = KioskButton(text=label, role="secondary")
            button.amount_text = text
            button.bind(on_release=lambda b: vm.set_amount(b.amount_text))
            box.add_widget(button)


CashScreen = bound_screen(
    "CashScreen", screen_name="cash", base=_CashBase,
    strings=("title_text", "due_text", "tendered_text", "change_text", "confirm_text", "cancel_text"),
    flags=("can_confirm",),
    doc="Cash (attendant): the drawer is open; type the cash handed over; the change.",
)

ReceiptScreen = bound_screen(
    "ReceiptScreen", screen_name="receipt",
    strings=("title_text", "question_text", "change_text", "total_text", "print_text", "e_receipt_text",
             "none_text", "help_text"),
    doc="Receipt choice: print, e-receipt QR, or none.",
)

ThankYouScreen = bound_screen(
    "ThankYouScreen", screen_name="thank_you",
    strings=("payload", "title_text", "body_text", "receipt_text", "points_text", "new_text", "help_text"),
    doc="Thank you, with the e-receipt QR when chosen; back to welcome.",
)

SuspendedScreen = bound_screen(
    "SuspendedScreen", screen_name="suspended",
    strings=("payload", "title_text", "body_text", "done_text", "help_text"),
    doc="Suspended: a QR to scan at another lane to carry on with this basket.",
)

PriceScreen = bound_screen(
    "PriceScreen", screen_name="price",
    strings=("title_text", "item_text", "current_text", "new_text", "request_text", "cancel_text"),
    flags=("can_request",),
    doc="Staff price change for a line; a supervisor approves it.",
)
