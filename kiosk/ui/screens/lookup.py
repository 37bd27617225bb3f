"""The lookup screen: category tabs and item tiles, or a search box with an on-screen keyboard."""

from __future__ import annotations

from kiosk.ui.screens.base import BoundScreen, bound_screen
from kiosk.ui.theme import hex_colour
from kiosk.ui.widgets import CategoryButton, ItemTile

__all__ = ["LookupScreen"]


class _LookupBase(BoundScreen):
    def refresh_more(self, vm, names: frozenset[str]) -> None:  # noqa: ANN001
        self._last_tiles = getattr(self, "_last_tiles", None)
        categories = vm.categories
        if getattr(self, "_last_categories", None) != categories:
            self._last_categories = categories
            box = self.ids.categories
            box.clear_widgets()
            for code, label, selected in categories:
                button = CategoryButton(text=label, code=code, selected=selected and not vm.searching)
                button.bind(on_release=lambda b: vm.choose_category(b.code))
                box.add_widget(button)
        else:
            for button in self.ids.categories.children:
                button.selected = button.code == vm.category and not vm.searching
        tiles = vm.tiles
        if tiles != self._last_tiles:
            self._last_tiles = tiles
            grid = self.ids.tiles
            grid.clear_widgets()
            for tile in tiles:
                widget = ItemTile(
                    sku=tile.sku, name=tile.name, price_text=tile.price_text, initial=tile.initial,
                    picture=tile.picture, tile_colour=hex_colour(tile.colour),
                )
                widget.bind(on_release=lambda w: vm.choose(w.sku))
                grid.add_widget(widget)
            self.ids.tile_scroll.scroll_y = 1

    def tile(self, sku: str) -> ItemTile:
        for child in self.ids.tiles.children:
            if child.sku == sku:
                return child
        raise KeyError(sku)


LookupScreen = bound_screen(
    "LookupScreen",
    screen_name="lookup",
    strings=("title_text", "search_text", "browse_text", "query_text", "no_results_text", "back_text", "help_text"),
    flags=("searching", "query_is_hint"),
    base=_LookupBase,
    doc="Items without a barcode: categories with tiles, or search by name, pinyin initials or PLU.",
)
