"""The lookup screen's view-model: items without a barcode, by category or by search.

Categories come from the catalogue replica; each item is a tile with a picture when the shop
has one (``<pictures_dir>/<sku>.png``), else a coloured tile with the item's initial. The
search box takes English, Chinese, pinyin initials (苹果 → ``pg``) or a PLU, typed on the
on-screen keyboard. Choosing a tile sends ``SelectItem``; a weighed item then opens the
weighing screen (the engine decides).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.viewmodels.base import KeyEntry, ScreenViewModel, Send
from kiosk.viewmodels.i18n import I18n

if TYPE_CHECKING:
    from kiosk.catalogue_replica import CatalogueReplica
    from retail.catalogue import CatalogueItem

__all__ = ["KEYBOARD_KEYS", "LookupViewModel", "Tile", "TILE_COLOURS", "tile_colour", "tile_initial"]

# dark enough for white text (contrast ≥ 4.5:1, checked by a test)
TILE_COLOURS: tuple[str, ...] = ("#0b5d5a", "#7a3b00", "#5b2a86", "#1f4e8c", "#8a1c3c", "#2f5d1a", "#6b4e16", "#3d3d3d")

KEYBOARD_KEYS: tuple[str, ...] = (
    *"1234567890",
    *"qwertyuiop",
    *"asdfghjkl", "-",
    *"zxcvbnm", " ", "C", "<",
)


def tile_colour(sku: str) -> str:
    """A stable colour for an item's tile, chosen from :data:`TILE_COLOURS` by its SKU."""
    digest = hashlib.sha256(sku.encode("utf-8")).digest()
    return TILE_COLOURS[digest[0] % len(TILE_COLOURS)]


def tile_initial(name: str) -> str:
    """The first letter or character of a name, upper-cased: ``Apple`` → ``A``, 苹果 → 苹."""
    for ch in name.strip():
        if ch.isalnum():
            return ch.upper()
    return "?"


@dataclass(frozen=True, slots=True)
class Tile:
    sku: str
    name: str
    price_text: str
    initial: str
    colour: str
    picture: str  # a file path, or "" for a coloured tile
    weighed: bool


class LookupViewModel(ScreenViewModel):
    """State of the lookup screen (see the module docstring)."""

    def __init__(
        self,
        i18n: I18n,
        catalogue: CatalogueReplica | None = None,
        *,
        send: Send | None = None,
        currency: str = "CNY",
        pictures_dir: Path | None = None,
    ) -> None:
        super().__init__(i18n, send=send, currency=currency)
        self.catalogue = catalogue
        self.pictures_dir = pictures_dir
        self._category: str | None = None
        self._searching = False
        self._query = KeyEntry(allowed="abcdefghijklmnopqrstuvwxyz0123456789 -", max_len=24)

    # -- state ------------------------------------------------------------------------------
    @property
    def categories(self) -> tuple[tuple[str, str, bool], ...]:
        """``(code, label, selected)`` for each category."""
        if self.catalogue is None:
            return ()
        current = self.category
        return tuple((c, self._category_label(c), c == current) for c in self.catalogue.categories())

    def _category_label(self, code: str) -> str:
        key = f"category.{code}"
        return self.t(key) if self._i18n.has(key) else code.replace("_", " ").title()

    @property
    def category(self) -> str | None:
        if self._category is not None:
            return self._category
        if self.catalogue is None:
            return None
        cats = self.catalogue.categories()
        # the produce counter is what people look up most: open there
        return "produce" if "produce" in cats else (cats[0] if cats else None)

    @property
    def searching(self) -> bool:
        return self._searching

    @property
    def query(self) -> str:
        return self._query.text

    @property
    def tiles(self) -> tuple[Tile, ...]:
        if self.catalogue is None:
            return ()
        if self._searching:
            items = self.catalogue.search(self._query.text, limit=10) if self._query.text.strip() else ()
        else:
            category = self.category
            items = self.catalogue.items_in(category) if category else ()
        return tuple(self._tile(item) for item in items)

    def _tile(self, item: CatalogueItem) -> Tile:
        name = self.item_name(item.name_en, item.name_zh)
        price = self.money(item.unit_price)
        price_text = self.t("lookup.per_kg", price=price) if item.by_weight else price
        picture = ""
        if self.pictures_dir is not None:
            candidate = Path(self.pictures_dir) / f"{item.sku}.png"
            if candidate.is_file():
                picture = str(candidate)
        return Tile(item.sku, name, price_text, tile_initial(name), tile_colour(item.sku), picture, item.by_weight)

    @property
    def title_text(self) -> str:
        return self.t("lookup.title")

    @property
    def search_text(self) -> str:
        return self.t("lookup.search")

    @property
    def browse_text(self) -> str:
        return self.t("lookup.browse")

    @property
    def query_text(self) -> str:
        return self._query.text or self.t("lookup.search_hint")

    @property
    def query_is_hint(self) -> bool:
        return not self._query.text

    @property
    def no_results_text(self) -> str:
        if self._searching and self._query.text.strip() and not self.tiles:
            return self.t("lookup.no_results")
        return ""

    @property
    def back_text(self) -> str:
        return self.t("common.back")

    # -- actions ----------------------------------------------------------------------------
    def choose_category(self, code: str) -> None:
        self._category = code
        self._searching = False
        self._changed({"tiles"})

    def open_search(self) -> None:
        self._searching = True
        self._changed({"tiles", "search"})

    def close_search(self) -> None:
        self._searching = False
        self._query.clear()
        self._changed({"tiles", "search"})

    def key(self, key: str) -> None:
        """A key of the on-screen keyboard (``<`` deletes, ``C`` clears)."""
        if self._query.press(key):
            self._searching = True
            self._changed({"tiles", "search"})

    def choose(self, sku: str) -> None:
        from kiosk.checkout.model import SelectItem

        self._send(SelectItem(sku))

    def back(self) -> None:
        from kiosk.checkout.model import CloseLookup

        self._send(CloseLookup())

    def reset(self) -> None:
        """A new visit starts on the categories with an empty search box."""
        self._category = None
        self._searching = False
        self._query.clear()
        self._changed({"tiles", "search"})
