"""The end of a visit: the receipt choice, thank you, a suspended basket and the staff price change.

* :class:`ReceiptViewModel` — print, e-receipt (a QR to the receipt online) or none; the
  change to take, when cash was paid.
* :class:`ThankYouViewModel` — thanks, and the e-receipt QR when chosen; "Finish" starts over.
* :class:`SuspendedViewModel` — the basket was saved: a QR to scan at any lane to carry on.
* :class:`PriceOverrideViewModel` — staff type a new price for the selected line; a supervisor
  approves it on the attendant screen.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.viewmodels.base import KeyEntry, ScreenViewModel, money_from_text
from retail.money import Money

__all__ = ["PriceOverrideViewModel", "ReceiptViewModel", "SuspendedViewModel", "ThankYouViewModel"]


class ReceiptViewModel(ScreenViewModel):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.last_choice: str | None = None

    @property
    def title_text(self) -> str:
        return self.t("receipt.title")

    @property
    def question_text(self) -> str:
        return self.t("receipt.question")

    @property
    def change_text(self) -> str:
        snap = self._snap
        sale = snap.finished_sale if snap is not None else None
        if sale is None or sale.change.minor <= 0:
            return ""
        return self.t("receipt.change", amount=self.money(sale.change))

    @property
    def total_text(self) -> str:
        snap = self._snap
        sale = snap.finished_sale if snap is not None else None
        return "" if sale is None else self.t("pay.total", amount=self.money(sale.total))

    @property
    def print_text(self) -> str:
        return self.t("receipt.print")

    @property
    def e_receipt_text(self) -> str:
        return self.t("receipt.e_receipt")

    @property
    def none_text(self) -> str:
        return self.t("receipt.none")

    def choose(self, choice: str) -> None:
        from kiosk.checkout.model import ChooseReceipt, ReceiptChoice

        self.last_choice = ReceiptChoice(choice).value
        self._send(ChooseReceipt(ReceiptChoice(choice)))


class ThankYouViewModel(ScreenViewModel):
    def __init__(self, *args, receipt: ReceiptViewModel | None = None, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._receipt = receipt

    @property
    def payload(self) -> str:
        snap = self._snap
        if snap is None or snap.qr is None or snap.qr.purpose != "e_receipt":
            return ""
        return snap.qr.payload

    @property
    def title_text(self) -> str:
        return self.t("thanks.title")

    @property
    def body_text(self) -> str:
        return self.t("thanks.body")

    @property
    def receipt_text(self) -> str:
        if self.payload:
            return self.t("thanks.e_receipt")
        if self._receipt is not None and self._receipt.last_choice == "print":
            return self.t("thanks.printing")
        return ""

    @property
    def points_text(self) -> str:
        snap = self._snap
        sale = snap.finished_sale if snap is not None else None
        return self.t("thanks.points") if sale is not None and sale.member_id else ""

    @property
    def new_text(self) -> str:
        return self.t("thanks.new")

    def finish(self) -> None:
        from kiosk.checkout.model import Start

        self._send(Start())


class SuspendedViewModel(ScreenViewModel):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.item_count = 0  # from the BasketSuspended effect

    @property
    def payload(self) -> str:
        snap = self._snap
        if snap is None or snap.qr is None or snap.qr.purpose != "suspend":
            return ""
        return snap.qr.payload

    @property
    def title_text(self) -> str:
        return self.t("suspended.title")

    @property
    def body_text(self) -> str:
        return self.t("suspended.body", count=self.item_count)

    @property
    def done_text(self) -> str:
        return self.t("common.done")

    def set_item_count(self, count: int) -> None:
        self.item_count = int(count)
        self._changed({"state"})

    def finish(self) -> None:
        from kiosk.checkout.model import Start

        self._send(Start())


class PriceOverrideViewModel(ScreenViewModel):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._entry = KeyEntry(allowed="0123456789.", max_len=9, decimals=2)
        self.line_id: str | None = None
        self.on_done: Callable[[], None] | None = None

    def open(self, line_id: str) -> None:
        self.line_id = line_id
        self._entry.clear()
        self._changed({"state"})

    def _line(self):  # noqa: ANN202
        snap = self._snap
        if snap is None or self.line_id is None:
            return None
        return next((ln for ln in snap.lines if ln.line_id == self.line_id), None)

    @property
    def title_text(self) -> str:
        return self.t("price.title")

    @property
    def item_text(self) -> str:
        line = self._line()
        return "" if line is None else line.name(self.language.value)

    @property
    def current_text(self) -> str:
        line = self._line()
        return "" if line is None else self.t("price.current", amount=self.money(line.payable))

    @property
    def new_price(self) -> Money | None:
        return money_from_text(self._entry.text, self.currency)

    @property
    def new_text(self) -> str:
        price = self.new_price
        return self.t("price.new", amount=self.money(price if price is not None else Money.zero(self.currency)))

    @property
    def can_request(self) -> bool:
        return self.new_price is not None and self._line() is not None

    @property
    def request_text(self) -> str:
        return self.t("price.request")

    @property
    def cancel_text(self) -> str:
        return self.t("common.cancel")

    def key(self, key: str) -> None:
        if self._entry.press(key):
            self._changed({"entry"})

    def request(self) -> None:
        from kiosk.checkout.model import RequestPriceOverride

        price = self.new_price
        if price is None or self.line_id is None or self._line() is None:
            return
        line_id = self.line_id
        self._entry.clear()
        self.line_id = None
        if self.on_done is not None:
            self.on_done()
        self._send(RequestPriceOverride(line_id, price, "kiosk price change"))

    def cancel(self) -> None:
        self._entry.clear()
        self.line_id = None
        if self.on_done is not None:
            self.on_done()
