"""The scan screen: basket lines on the left, total and actions on the right."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview.views import RecycleDataViewBehavior

from kiosk.ui.screens.base import BoundScreen
from kiosk.ui.theme import DEFAULT_THEME
from kiosk.viewmodels.scan import LineRow, ScanViewModel

__all__ = ["BasketLineRow", "ScanScreen", "row_data"]


class BasketLineRow(RecycleDataViewBehavior, BoxLayout):
    """One basket line: name, quantity or weight under it, a saving under that, the amount."""

    line_id = StringProperty("")
    name = StringProperty("")
    qty_text = StringProperty("")
    amount_text = StringProperty("")
    saving_text = StringProperty("")
    has_saving = BooleanProperty(False)
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
        if names & {"*", "lines", "labels"}:
            rows = vm.rows
            self.ids.basket.data = [row_data(row) for row in rows]
            if "last_line" in names or "*" in names:
                last = vm.last_line_id
                if rows and last == rows[-1].line_id:
                    Clock.schedule_once(self._scroll_to_end, 0)

    def _scroll_to_end(self, _dt: float) -> None:
        self.ids.basket.scroll_y = 0

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
