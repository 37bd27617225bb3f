"""Paying: the tender choice (split payments), the mobile-QR screen and the attendant's cash entry.

* :class:`PayViewModel` — amount due, what is paid so far, and one button per tender: card,
  WeChat Pay, Alipay, stored value and points (for a member), cash (an attendant comes). A
  tender pays what it can (stored value up to the balance, points up to the program's cap),
  so the rest is paid with the next one: that is a split payment.
* :class:`QrPayViewModel` — the QR the shopper scans with their phone, the wallet and amount.
* :class:`CashViewModel` — the attendant types the cash handed over; the change is shown
  before confirming.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.viewmodels.base import KeyEntry, ScreenViewModel, money_from_text
from kiosk.viewmodels.i18n import I18n
from retail.money import Money

if TYPE_CHECKING:
    from retail.loyalty import LoyaltyProgram

__all__ = ["CASH_KEYS", "CashViewModel", "PayViewModel", "QrPayViewModel"]

CASH_KEYS: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8", "9", ".", "0", "<")
PROVIDER_KEYS = {"wechat": "pay.wechat", "alipay": "pay.alipay"}


class PayViewModel(ScreenViewModel):
    def __init__(self, i18n: I18n, *, loyalty: LoyaltyProgram | None = None, **kwargs) -> None:  # noqa: ANN003
        super().__init__(i18n, **kwargs)
        self.loyalty = loyalty
        self.on_member = None  # opens the member screen (set by the root view-model)

    # -- amounts ----------------------------------------------------------------------------
    def _used(self, tender: str) -> tuple[int, int]:
        """(minor units, points) already paid with ``tender``."""
        snap = self._snap
        if snap is None:
            return 0, 0
        paid = [p for p in snap.payments if p.tender.value == tender]
        return sum(p.amount.minor for p in paid), sum(p.points or 0 for p in paid)

    @property
    def due(self) -> Money:
        snap = self._snap
        if snap is None:
            return Money.zero(self.currency)
        return snap.amount_due if snap.amount_due is not None else snap.total

    @property
    def stored_value_balance(self) -> Money | None:
        snap = self._snap
        if snap is None or snap.member is None:
            return None
        used, _ = self._used("stored_value")
        return snap.member.stored_value - Money(used, snap.member.stored_value.currency)

    @property
    def points_offer(self) -> tuple[int, Money] | None:
        """The most points the member may use now and their value, or None."""
        from retail.errors import LoyaltyError
        from retail.loyalty import max_redeemable_points, points_value

        snap = self._snap
        if snap is None or snap.member is None or self.loyalty is None or self.due.minor <= 0:
            return None
        _, used = self._used("points")
        try:
            points = max_redeemable_points(self.loyalty, max(0, snap.member.points - used), self.due, sale_total=snap.total)
            if points <= 0:
                return None
            return points, points_value(self.loyalty, points)
        except LoyaltyError:
            return None

    @property
    def busy(self) -> bool:
        snap = self._snap
        return bool(snap is not None and (snap.pending_payment is not None or snap.cash_drawer_open))

    # -- texts ------------------------------------------------------------------------------
    @property
    def title_text(self) -> str:
        return self.t("pay.title")

    @property
    def due_label(self) -> str:
        return self.t("pay.due")

    @property
    def due_text(self) -> str:
        return self.money(self.due)

    @property
    def total_text(self) -> str:
        snap = self._snap
        return "" if snap is None else self.t("pay.total", amount=self.money(snap.total))

    @property
    def paid_text(self) -> str:
        snap = self._snap
        if snap is None or not snap.payments:
            return ""
        parts = ", ".join(f"{self.t('tender.' + p.tender.value)} {self.money(p.amount)}" for p in snap.payments)
        return self.t("pay.payments", list=parts)

    @property
    def savings_text(self) -> str:
        snap = self._snap
        if snap is None or snap.savings.is_zero():
            return ""
        return self.t("scan.savings_total", amount=self.money(snap.savings))

    @property
    def card_waiting_text(self) -> str:
        snap = self._snap
        if snap is None or snap.pending_payment is None or snap.pending_payment.tender.value != "card":
            return ""
        return self.t("pay.card_waiting")

    @property
    def card_text(self) -> str:
        return self.t("pay.card")

    @property
    def wechat_text(self) -> str:
        return self.t("pay.wechat")

    @property
    def alipay_text(self) -> str:
        return self.t("pay.alipay")

    @property
    def stored_value_text(self) -> str:
        balance = self.stored_value_balance
        return "" if balance is None else self.t("pay.stored_value", amount=self.money(balance))

    @property
    def stored_value_enabled(self) -> bool:
        balance = self.stored_value_balance
        return balance is not None and balance.minor > 0 and not self.busy

    @property
    def points_text(self) -> str:
        offer = self.points_offer
        return "" if offer is None else self.t("pay.points", points=f"{offer[0]:,}", amount=self.money(offer[1]))

    @property
    def points_enabled(self) -> bool:
        return self.points_offer is not None and not self.busy

    @property
    def has_member(self) -> bool:
        return self._snap is not None and self._snap.member is not None

    @property
    def cash_text(self) -> str:
        return self.t("pay.cash")

    @property
    def member_text(self) -> str:
        return self.t("pay.member")

    @property
    def back_text(self) -> str:
        return self.t("pay.back")

    @property
    def can_go_back(self) -> bool:
        snap = self._snap
        return snap is not None and not snap.payments and not self.busy

    @property
    def cancel_payment_text(self) -> str:
        return self.t("pay.cancel_payment")

    @property
    def tenders_enabled(self) -> bool:
        return not self.busy and self.due.minor > 0

    # -- actions ----------------------------------------------------------------------------
    def pay_card(self) -> None:
        from kiosk.checkout.model import PayByCard

        if self.tenders_enabled:
            self._send(PayByCard())

    def pay_qr(self, provider: str) -> None:
        from kiosk.checkout.model import PayByQr

        if self.tenders_enabled:
            self._send(PayByQr(provider))

    def pay_stored_value(self) -> None:
        from kiosk.checkout.model import PayByStoredValue

        if self.stored_value_enabled:
            self._send(PayByStoredValue())

    def pay_points(self) -> None:
        from kiosk.checkout.model import PayByPoints

        offer = self.points_offer
        if offer is not None and not self.busy:
            self._send(PayByPoints(offer[0]))

    def pay_cash(self) -> None:
        from kiosk.checkout.model import PayByCash

        if self.tenders_enabled:
            self._send(PayByCash())

    def cancel_payment(self) -> None:
        from kiosk.checkout.model import CancelPayment

        self._send(CancelPayment())

    def back(self) -> None:
        from kiosk.checkout.model import BackToScanning

        if self.can_go_back:
            self._send(BackToScanning())

    def open_member(self) -> None:
        if self.on_member is not None:
            self.on_member()


class QrPayViewModel(ScreenViewModel):
    @property
    def payload(self) -> str:
        snap = self._snap
        if snap is None or snap.qr is None or snap.qr.purpose != "payment":
            return ""
        return snap.qr.payload

    @property
    def provider_text(self) -> str:
        snap = self._snap
        provider = snap.pending_payment.provider if snap is not None and snap.pending_payment else ""
        key = PROVIDER_KEYS.get(provider)
        return self.t(key) if key else provider

    @property
    def title_text(self) -> str:
        return self.t("qr.title", provider=self.provider_text)

    @property
    def amount_text(self) -> str:
        snap = self._snap
        if snap is None or snap.pending_payment is None:
            return ""
        return self.t("qr.amount", amount=self.money(snap.pending_payment.amount))

    @property
    def hint_text(self) -> str:
        return self.t("qr.hint")

    @property
    def cancel_text(self) -> str:
        return self.t("pay.cancel_payment")

    def cancel(self) -> None:
        from kiosk.checkout.model import CancelPayment

        self._send(CancelPayment())


class CashViewModel(ScreenViewModel):
    """The attendant's cash entry while the drawer is open."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._entry = KeyEntry(allowed="0123456789.", max_len=9, decimals=2)

    @property
    def due(self) -> Money:
        snap = self._snap
        if snap is None or snap.amount_due is None:
            return Money.zero(self.currency)
        return snap.amount_due

    @property
    def tendered(self) -> Money | None:
        return money_from_text(self._entry.text, self.currency)

    @property
    def title_text(self) -> str:
        return self.t("cash.title")

    @property
    def due_text(self) -> str:
        return self.t("cash.due", amount=self.money(self.due))

    @property
    def tendered_text(self) -> str:
        amount = self.tendered
        return self.t("cash.tendered", amount=self.money(amount if amount is not None else Money.zero(self.currency)))

    @property
    def change_text(self) -> str:
        amount = self.tendered
        if amount is None:
            return ""
        if amount < self.due:
            return self.t("cash.short", amount=self.money(self.due - amount))
        return self.t("cash.change", amount=self.money(amount - self.due))

    @property
    def can_confirm(self) -> bool:
        amount = self.tendered
        return amount is not None and amount.minor > 0

    @property
    def quick_amounts(self) -> tuple[tuple[str, str], ...]:
        """``(entry text, label)`` for the quick buttons: the exact amount, ¥50, ¥100."""
        out = [(str(self.due.amount), self.money(self.due))]
        for note in (50, 100):
            m = Money.of(note, self.currency)
            if m > self.due:
                out.append((str(note), self.money(m)))
        return tuple(out[:3])

    @property
    def confirm_text(self) -> str:
        return self.t("cash.confirm")

    @property
    def cancel_text(self) -> str:
        return self.t("common.cancel")

    def key(self, key: str) -> None:
        if self._entry.press(key):
            self._changed({"entry"})

    def set_amount(self, text: str) -> None:
        self._entry.clear()
        for ch in text:
            self._entry.press(ch)
        self._changed({"entry"})

    def confirm(self) -> None:
        from kiosk.checkout.model import CashTendered

        amount = self.tendered
        if amount is None or amount.minor <= 0:
            return
        self._entry.clear()
        self._send(CashTendered(amount))

    def cancel(self) -> None:
        from kiosk.checkout.model import CancelPayment

        self._entry.clear()
        self._send(CancelPayment())
