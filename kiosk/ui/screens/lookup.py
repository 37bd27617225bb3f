"""The lookup screen: category tabs and item tiles, or a search box with an on-screen keyboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.ui.screens.base import BoundScreen, bound_screen
from kiosk.ui.theme import hex_colour
from kiosk.ui.widgets import CategoryButton, ItemTile
from kiosk.viewmodels.lookup import Tile

__all__ = ["LookupScreen", "tile_data"]


def tile_data(tile: Tile, choose: Callable[[str], None]) -> dict[str, Any]:
    """The RecycleView data of one tile (an :class:`ItemTile`)."""
    return {
        "sku": tile.sku, "name": tile.name, "price_text": tile.price_text, "initial": tile.initial,
        "picture": tile.picture, "tile_colour": hex_colour(tile.colour), "choose": choose,
    }


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
            self.ids.tile_scroll.data = [tile_data(tile, vm.choose) for tile in tiles]
            self.ids.tile_scroll.scroll_y = 1

    def tile(self, sku: str) -> ItemTile:
        """The tile of ``sku`` among those in sight."""
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
