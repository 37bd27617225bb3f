"""The scan screen: basket lines on the left, total and actions on the right."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview.views import RecycleDataViewBehavior

from kiosk.ui.screens.base import BoundScreen
from kiosk.ui.theme import DEFAULT_THEME
from kiosk.viewmodels.scan import LineRow, ScanViewModel

__all__ = ["BasketLineRow", "ScanScreen", "row_data"]


class BasketLineRow(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):
    """One basket line: name, quantity or weight under it, a saving under that, the amount.
    Touching it selects it (its quantity, remove and price actions appear)."""

    line_id = StringProperty("")
    name = StringProperty("")
    qty_text = StringProperty("")
    amount_text = StringProperty("")
    saving_text = StringProperty("")
    has_saving = BooleanProperty(False)
    selected = BooleanProperty(False)
    row_size = ListProperty([0, 0])  # the RecycleBoxLayout's key_size


def row_data(row: LineRow) -> dict[str, Any]:
    """The RecycleView data of one line."""
    theme = DEFAULT_THEME
    height = theme.line_height + (theme.line_saving_extra if row.has_saving else 0)
    return {
        "line_id": row.line_id,
        "name": row.name,
        "qty_text": row.qty_text,
        "amount_text": row.amount_text,
        "saving_text": row.saving_text,
        "has_saving": row.has_saving,
        "selected": row.selected,
        "row_size": [0, height],
    }


class ScanScreen(BoundScreen):
    title_text = StringProperty("")
    empty_text = StringProperty("")
    total_label = StringProperty("")
    total_text = StringProperty("")
    item_count_text = StringProperty("")
    savings_text = StringProperty("")
    lookup_text = StringProperty("")
    pay_text = StringProperty("")
    help_text = StringProperty("")
    offline_text = StringProperty("")
    language_toggle_text = StringProperty("")
    shop_name = StringProperty("")
    pay_enabled = BooleanProperty(False)
    is_empty = BooleanProperty(True)
    member_text = StringProperty("")
    member_button_text = StringProperty("")
    coupon_button_text = StringProperty("")
    suspend_text = StringProperty("")
    bag_prompt_text = StringProperty("")
    skip_bagging_text = StringProperty("")
    bag_skippable = BooleanProperty(False)
    has_selection = BooleanProperty(False)
    selected_adjustable = BooleanProperty(False)
    line_minus_text = StringProperty("")
    line_plus_text = StringProperty("")
    line_remove_text = StringProperty("")
    line_price_text = StringProperty("")
    line_close_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._rows_shown: tuple[LineRow, ...] | None = None
        super().__init__(**kwargs)

    def refresh(self, names: frozenset[str]) -> None:
        vm: ScanViewModel | None = self.view_model
        if vm is None:
            return
        self.title_text = vm.title_text
        self.empty_text = vm.empty_text
        self.total_label = vm.total_label
        self.total_text = vm.total_text
        self.item_count_text = vm.item_count_text
        self.savings_text = vm.savings_text
        self.lookup_text = vm.lookup_text
        self.pay_text = vm.pay_text
        self.help_text = vm.help_text
        self.offline_text = vm.offline_text
        self.language_toggle_text = vm.language_toggle_text
        self.pay_enabled = vm.pay_enabled
        self.is_empty = vm.is_empty
        self.member_text = vm.member_text
        self.member_button_text = vm.member_button_text
        self.coupon_button_text = vm.coupon_button_text
        self.suspend_text = vm.suspend_text
        self.bag_prompt_text = vm.bag_prompt_text
        self.skip_bagging_text = vm.skip_bagging_text
        self.bag_skippable = vm.bag_skippable
        selected = vm.selected_line
        self.has_selection = selected is not None
        self.selected_adjustable = bool(selected is not None and selected.adjustable)
        texts = vm.line_texts
        self.line_minus_text, self.line_plus_text = texts["minus"], texts["plus"]
        self.line_remove_text, self.line_price_text, self.line_close_text = texts["remove"], texts["price"], texts["close"]
        if names & {"*", "lines", "labels", "selection"}:
            rows = vm.rows
            if rows != self._rows_shown:
                # only a real change touches the RecycleView: every data change re-lays the
                # basket out and redraws the window (a frame costs tens of ms on software GL)
                self._rows_shown = rows
                self.ids.basket.data = [row_data(row) for row in rows]
            if "last_line" in names or "*" in names:
                last = vm.last_line_id
                if rows and last == rows[-1].line_id:
                    Clock.schedule_once(self._scroll_to_end, -1)  # after the layout, in the same frame

    def _scroll_to_end(self, _dt: float) -> None:
        basket = self.ids.basket
        # a short list stays at the top; a long one scrolls so the newest line shows
        basket.scroll_y = 0 if basket.layout_manager.height > basket.height else 1

    # actions (bound in scan.kv)
    def look_up(self) -> None:
        if self.view_model is not None:
            self.view_model.look_up()

    def pay(self) -> None:
        if self.view_model is not None:
            self.view_model.pay()

    def request_help(self) -> None:
        if self.view_model is not None:
            self.view_model.request_help()

    def toggle_language(self) -> None:
        if self.view_model is not None:
            self.view_model.toggle_language()
