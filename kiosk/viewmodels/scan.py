"""The scan screen's view-model: the basket lines, the running total and the actions.

The checkout engine pushes what it priced (:meth:`ScanViewModel.apply` takes its snapshot;
:meth:`ScanViewModel.show_basket` takes ready-made lines, as the demo does); this view-model
turns it into the texts a screen shows, in the shopper's language, and tells its listeners
what changed. Its actions send checkout events through ``send`` (set by the app wiring).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk.viewmodels.errors import InvalidLineError
from kiosk.viewmodels.formatting import quantity_text, weight_text
from kiosk.viewmodels.i18n import I18n, Language
from kiosk.viewmodels.observable import Observable
from retail.money import Money

if TYPE_CHECKING:
    from kiosk.checkout import CheckoutLine, CheckoutSnapshot

__all__ = ["LineRow", "LineView", "ScanViewModel", "line_view"]

Action = Callable[[], None]


@dataclass(frozen=True, slots=True)
class LineView:
    """One basket line as the engine hands it over: texts already formatted.

    ``qty_text`` is ``"2 × ¥3.50"`` or ``"0.456 kg × ¥12.80/kg"`` (see
    :mod:`kiosk.viewmodels.formatting`); ``saving_text`` is the saving amount (``"¥2.00"``) or
    ``""``. ``name_zh`` is shown instead of ``name`` while the shopper reads Chinese.
    """

    line_id: str
    name: str
    qty_text: str
    amount_text: str
    saving_text: str = ""
    name_zh: str = ""
    saving_name: str = ""  # the promotion's name (English), "" when none
    saving_name_zh: str = ""
    adjustable: bool = False  # a unit line: quantity + / − apply
    note: str = ""  # e.g. "override" for a price changed by staff

    def __post_init__(self) -> None:
        if not isinstance(self.line_id, str) or not self.line_id:
            raise InvalidLineError("a basket line needs a line_id")
        for field_name in ("name", "qty_text", "amount_text", "saving_text", "name_zh", "saving_name", "saving_name_zh", "note"):
            if not isinstance(getattr(self, field_name), str):
                raise InvalidLineError(f"line {self.line_id}: {field_name} must be text")
        if not self.name:
            raise InvalidLineError(f"line {self.line_id}: a line needs a name")

    @classmethod
    def priced(
        cls,
        line_id: str,
        name: str,
        qty_text: str,
        amount: Money,
        saving: Money | None = None,
        *,
        name_zh: str = "",
        locale: str = "en",
    ) -> LineView:
        """Build a line from exact amounts; a zero saving shows as none."""
        saving_text = saving.format(locale) if saving is not None and not saving.is_zero() else ""
        return cls(line_id, name, qty_text, amount.format(locale), saving_text, name_zh)

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> LineView:
        try:
            return cls(**data)
        except TypeError as exc:
            raise InvalidLineError(f"not a basket line: {exc}") from None


@dataclass(frozen=True, slots=True)
class LineRow:
    """One line as the screen shows it, in the current language."""

    line_id: str
    name: str
    qty_text: str
    amount_text: str
    saving_text: str  # "You save ¥2.00" / "优惠 ¥2.00", or ""
    selected: bool = False
    adjustable: bool = False

    @property
    def has_saving(self) -> bool:
        return bool(self.saving_text)


def line_view(line: CheckoutLine, locale: str = "en") -> LineView:
    """A basket line of the engine's snapshot as the scan screen shows it."""
    kind = getattr(line.kind, "value", str(line.kind))
    if kind in ("weighed", "label_weight") and line.weight_g:
        qty = weight_text(line.weight_g, line.unit_price, locale=locale)
    elif kind == "label_price":
        qty = (
            f"{weight_text(line.weight_g, line.unit_price, locale=locale).split(' ', 2)[0]} kg"
            if line.weight_g
            else quantity_text(1, line.unit_price, locale=locale)
        )
    else:
        qty = quantity_text(line.quantity, line.unit_price, locale=locale)
    saving = line.savings
    names = line.saving_names
    return LineView(
        line.line_id,
        line.name_en,
        qty,
        line.payable.format(locale),
        "" if saving.is_zero() else saving.format(locale),
        line.name_zh,
        names[0][0] if names else "",
        names[0][1] if names else "",
        adjustable=kind == "unit" and not line.price_override,
        note="override" if line.price_override else "",
    )


@dataclass(frozen=True, slots=True)
class _Totals:
    total: Money
    item_count: int
    savings: Money | None


class ScanViewModel(Observable):
    """State of the scan screen. Listeners hear the names of what changed:
    ``lines``, ``totals``, ``labels`` (language), ``offline``, ``last_line``."""

    def __init__(
        self,
        i18n: I18n,
        *,
        currency: str = "CNY",
        on_lookup: Action | None = None,
        on_pay: Action | None = None,
        on_help: Action | None = None,
    ) -> None:
        super().__init__()
        self._i18n = i18n
        self._currency = currency
        self._lines: tuple[LineView, ...] = ()
        self._totals = _Totals(Money.zero(currency), 0, None)
        self._offline = False
        self._last_line_id: str | None = None
        # what the actions call; the checkout engine sets these (public, may be replaced)
        self.on_lookup = on_lookup
        self.on_pay = on_pay
        self.on_help = on_help
        self.on_member: Action | None = None
        self.on_language: Action | None = None  # the root's switch (it tells the engine)
        self.on_coupon: Action | None = None
        self.on_price: Callable[[str], None] | None = None  # opens the price override for a line
        self.send: Callable[[Any], None] | None = None  # checkout events (set by the app wiring)
        self._selected: str | None = None
        self._snap: CheckoutSnapshot | None = None
        self._lock = threading.Lock()
        self._i18n_subscription = i18n.on_change(lambda _names: self._changed({"labels", "lines", "totals"}))

    # -- input from the checkout engine ----------------------------------------------------
    def show_basket(
        self,
        lines: Iterable[LineView | dict[str, str]],
        total: Money,
        item_count: int,
        savings: Money | None = None,
    ) -> None:
        """Replace the lines and totals in one change (the usual call after each scan)."""
        new_lines = self._validated(lines)
        totals = self._validated_totals(total, item_count, savings)
        with self._lock:
            old_ids = {line.line_id for line in self._lines}
            self._lines = new_lines
            self._totals = totals
            added = [line.line_id for line in new_lines if line.line_id not in old_ids]
            if added:
                self._last_line_id = added[-1]
        self._changed({"lines", "totals"} | ({"last_line"} if added else set()))

    def set_lines(self, lines: Iterable[LineView | dict[str, str]]) -> None:
        """Replace the lines, keeping the totals."""
        new_lines = self._validated(lines)
        with self._lock:
            old_ids = {line.line_id for line in self._lines}
            self._lines = new_lines
            added = [line.line_id for line in new_lines if line.line_id not in old_ids]
            if added:
                self._last_line_id = added[-1]
        self._changed({"lines"} | ({"last_line"} if added else set()))

    def upsert_line(self, line: LineView | dict[str, str]) -> None:
        """Add a line at the end, or replace the line with the same ``line_id`` in place."""
        (new,) = self._validated([line])
        with self._lock:
            ids = [existing.line_id for existing in self._lines]
            if new.line_id in ids:
                lines = list(self._lines)
                lines[ids.index(new.line_id)] = new
                self._lines = tuple(lines)
                changed = {"lines"}
            else:
                self._lines = self._lines + (new,)
                self._last_line_id = new.line_id
                changed = {"lines", "last_line"}
        self._changed(changed)

    def remove_line(self, line_id: str) -> bool:
        """Remove a line (a void); returns whether it was there."""
        with self._lock:
            kept = tuple(line for line in self._lines if line.line_id != line_id)
            removed = len(kept) != len(self._lines)
            self._lines = kept
            if removed and self._last_line_id == line_id:
                self._last_line_id = kept[-1].line_id if kept else None
        if removed:
            self._changed({"lines"})
        return removed

    def set_totals(self, total: Money, item_count: int, savings: Money | None = None) -> None:
        totals = self._validated_totals(total, item_count, savings)
        with self._lock:
            self._totals = totals
        self._changed({"totals"})

    def clear(self) -> None:
        """Empty basket (a new shopper)."""
        with self._lock:
            self._lines = ()
            self._totals = _Totals(Money.zero(self._currency), 0, None)
            self._last_line_id = None
        self._changed({"lines", "totals"})

    def set_offline(self, offline: bool) -> None:
        """Show or hide the small staff-only indicator that the edge node is out of reach."""
        offline = bool(offline)
        if offline == self._offline:
            return
        self._offline = offline
        self._changed({"offline"})

    # -- state for the screen --------------------------------------------------------------
    @property
    def language(self) -> Language:
        return self._i18n.language

    @property
    def lines(self) -> tuple[LineView, ...]:
        return self._lines

    @property
    def rows(self) -> tuple[LineRow, ...]:
        lang = self._i18n.language
        return tuple(
            LineRow(
                line.line_id,
                line.name_zh if lang is Language.ZH_CN and line.name_zh else line.name,
                line.qty_text,
                line.amount_text,
                self._saving_row_text(line, lang),
                line.line_id == self._selected,
                line.adjustable,
            )
            for line in self._lines
        )

    def _saving_row_text(self, line: LineView, lang: Language) -> str:
        if line.note == "override":
            return self._i18n.t("scan.override_mark")
        if not line.saving_text:
            return ""
        text = self._i18n.t("scan.saving", amount=line.saving_text)
        name = line.saving_name_zh if lang is Language.ZH_CN and line.saving_name_zh else line.saving_name
        return f"{name} · {text}" if name else text

    @property
    def last_line_id(self) -> str | None:
        """The line added most recently (the screen scrolls it into view)."""
        return self._last_line_id

    @property
    def is_empty(self) -> bool:
        return not self._lines

    @property
    def total(self) -> Money:
        return self._totals.total

    @property
    def item_count(self) -> int:
        return self._totals.item_count

    @property
    def title_text(self) -> str:
        return self._i18n.t("scan.title")

    @property
    def empty_text(self) -> str:
        return self._i18n.t("scan.empty")

    @property
    def total_label(self) -> str:
        return self._i18n.t("scan.total")

    @property
    def total_text(self) -> str:
        return self._totals.total.format(self._i18n.money_locale)

    @property
    def item_count_text(self) -> str:
        return self._i18n.t("scan.items", count=self._totals.item_count)

    @property
    def savings_text(self) -> str:
        savings = self._totals.savings
        if savings is None or savings.is_zero():
            return ""
        return self._i18n.t("scan.savings_total", amount=savings.format(self._i18n.money_locale))

    @property
    def lookup_text(self) -> str:
        return self._i18n.t("scan.lookup")

    @property
    def pay_text(self) -> str:
        return self._i18n.t("scan.pay")

    @property
    def help_text(self) -> str:
        return self._i18n.t("common.help")

    @property
    def pay_enabled(self) -> bool:
        return bool(self._lines) and self._totals.total.minor > 0

    @property
    def offline(self) -> bool:
        return self._offline

    @property
    def offline_text(self) -> str:
        return self._i18n.t("status.offline") if self._offline else ""

    @property
    def language_toggle_text(self) -> str:
        return self._i18n.other_language.native_name

    # -- actions from the screen -----------------------------------------------------------
    def toggle_language(self) -> None:
        if self.on_language is not None:
            self.on_language()
        else:
            self._i18n.toggle()

    def look_up(self) -> None:
        if self.on_lookup is not None:
            self.on_lookup()

    def pay(self) -> bool:
        """Ask to pay; refused (returns False) while the basket is empty."""
        if not self.pay_enabled:
            return False
        if self.on_pay is not None:
            self.on_pay()
        return True

    def request_help(self) -> None:
        if self.on_help is not None:
            self.on_help()

    def close(self) -> None:
        """Stop following the language (idempotent)."""
        self._i18n_subscription.cancel()

    # -- the checkout engine ---------------------------------------------------------------
    def apply(self, snap: CheckoutSnapshot) -> None:
        """Show the engine's snapshot: lines, totals, bagging prompt, member, offline."""
        views = [line_view(line, "en") for line in snap.lines]
        with self._lock:
            ids = {v.line_id for v in views}
            if self._selected not in ids:
                self._selected = None
            self._snap = snap
            same = tuple(views) == self._lines and self._totals == _Totals(snap.total, snap.item_count, snap.savings)
        if not same:
            self.show_basket(views, snap.total, snap.item_count, snap.savings)
        self.set_offline(not snap.edge_online)
        self._changed({"state"})

    def _bagging(self, snap: CheckoutSnapshot) -> tuple[str, bool]:
        bag = snap.bagging
        if bag is None or getattr(snap.state, "value", snap.state) != "waiting_for_bagging":
            return "", False
        line = next((ln for ln in snap.lines if ln.line_id == bag.line_id), None)
        if line is None:  # a voided line: its pieces come off the scale
            if bag.removing:
                return self._i18n.t("scan.bag_remove", item=self._i18n.t("common.this_item")), False
            return self._i18n.t("scan.bag_prompt_generic"), True
        name = line.name(self._i18n.language.value)
        key = "scan.bag_remove" if bag.removing else "scan.bag_prompt"
        return self._i18n.t(key, item=name), not bag.removing

    @property
    def bag_prompt_text(self) -> str:
        """"Place Coca-Cola in the bagging area", in the current language, or ""."""
        snap = self._snap
        if snap is None:
            return ""
        return self._bagging(snap)[0]

    @property
    def bag_skippable(self) -> bool:
        snap = self._snap
        if snap is None:
            return False
        prompt, skippable = self._bagging(snap)
        return bool(prompt) and skippable

    @property
    def member_text(self) -> str:
        snap = self._snap
        if snap is None or snap.member is None:
            return ""
        member = snap.member
        return self._i18n.t("scan.member_badge", level=member.level_name(self._i18n.language.value), points=member.points)

    @property
    def selected_line_id(self) -> str | None:
        return self._selected

    @property
    def selected_line(self) -> LineView | None:
        return next((line for line in self._lines if line.line_id == self._selected), None)

    @property
    def member_button_text(self) -> str:
        return self._i18n.t("scan.member")

    @property
    def coupon_button_text(self) -> str:
        return self._i18n.t("scan.coupon")

    @property
    def suspend_text(self) -> str:
        return self._i18n.t("scan.suspend")

    @property
    def skip_bagging_text(self) -> str:
        return self._i18n.t("scan.skip_bagging")

    @property
    def line_texts(self) -> dict[str, str]:
        return {
            "minus": self._i18n.t("scan.line_minus"),
            "plus": self._i18n.t("scan.line_plus"),
            "remove": self._i18n.t("scan.line_remove"),
            "price": self._i18n.t("scan.line_price"),
            "close": self._i18n.t("scan.line_close"),
        }

    def select_line(self, line_id: str) -> None:
        """Touch a line: select it (its actions appear); touching it again deselects."""
        with self._lock:
            if line_id not in {line.line_id for line in self._lines}:
                return
            self._selected = None if self._selected == line_id else line_id
        self._changed({"lines", "selection"})

    def deselect(self) -> None:
        if self._selected is None:
            return
        self._selected = None
        self._changed({"lines", "selection"})

    def _send(self, event: Any) -> None:
        if self.send is not None:
            self.send(event)

    def _selected_quantity(self) -> tuple[str, int] | None:
        snap = self._snap
        if snap is None or self._selected is None:
            return None
        line = next((ln for ln in snap.lines if ln.line_id == self._selected), None)
        return None if line is None else (line.line_id, line.quantity)

    def increase(self) -> None:
        from kiosk.checkout.model import ChangeQuantity

        found = self._selected_quantity()
        if found is not None and self.selected_line is not None and self.selected_line.adjustable:
            self._send(ChangeQuantity(found[0], found[1] + 1))

    def decrease(self) -> None:
        from kiosk.checkout.model import ChangeQuantity, RemoveLine

        found = self._selected_quantity()
        if found is None or self.selected_line is None or not self.selected_line.adjustable:
            return
        line_id, quantity = found
        self._send(ChangeQuantity(line_id, quantity - 1) if quantity > 1 else RemoveLine(line_id))

    def remove_selected(self) -> None:
        from kiosk.checkout.model import RemoveLine

        if self._selected is not None:
            line_id = self._selected
            self.deselect()
            self._send(RemoveLine(line_id))

    def change_price(self) -> None:
        if self._selected is not None and self.on_price is not None:
            line_id = self._selected
            self.deselect()
            self.on_price(line_id)

    def skip_bagging(self) -> None:
        from kiosk.checkout.model import RequestSkipBagging

        self._send(RequestSkipBagging())

    def suspend(self) -> None:
        from kiosk.checkout.model import Suspend

        if self._lines:
            self._send(Suspend())

    def open_member(self) -> None:
        if self.on_member is not None:
            self.on_member()

    def open_coupon(self) -> None:
        if self.on_coupon is not None:
            self.on_coupon()

    # -- validation ------------------------------------------------------------------------
    def _validated(self, lines: Iterable[LineView | dict[str, str]]) -> tuple[LineView, ...]:
        result: list[LineView] = []
        seen: set[str] = set()
        for line in lines:
            view = line if isinstance(line, LineView) else LineView.from_dict(dict(line))
            if view.line_id in seen:
                raise InvalidLineError(f"line id {view.line_id!r} appears twice")
            seen.add(view.line_id)
            result.append(view)
        return tuple(result)

    def _validated_totals(self, total: Money, item_count: int, savings: Money | None) -> _Totals:
        if not isinstance(total, Money):
            raise InvalidLineError(f"the total must be Money, not {type(total).__name__}")
        if total.currency != self._currency:
            raise InvalidLineError(f"the total is in {total.currency}, the screen shows {self._currency}")
        if isinstance(item_count, bool) or not isinstance(item_count, int) or item_count < 0:
            raise InvalidLineError(f"item count must be a non-negative int, not {item_count!r}")
        if savings is not None and (not isinstance(savings, Money) or savings.currency != self._currency):
            raise InvalidLineError("savings must be Money in the screen's currency")
        return _Totals(total, item_count, savings)


