"""The kiosk's local catalogue: an in-memory index the checkout engine sells from.

A :class:`CatalogueReplica` is built once from an iterable of
:class:`~retail.catalogue.CatalogueItem` (the edge pushes a new version; the composition root
builds a new replica and hands it to the engine). Every lookup is a dict access:

* GTIN-14 key → item (:meth:`by_gtin`),
* PLU → item (:meth:`by_plu`), also used for the item reference of a variable-measure label
  (:meth:`by_variable_measure`, which also tries the label's 14-digit item key),
* SKU → item (:meth:`by_sku`),
* category → items (:meth:`categories`, :meth:`items_in`),
* search (:meth:`search`) over the English name, the Chinese name, the **pinyin initials** of
  the Chinese name (苹果 → ``pg``), the full pinyin (``pingguo``) and the PLU.

Pinyin initials are computed once per item when the replica is built (``pypinyin``); a search
scans the precomputed keys only. Pure: no I/O, nothing runs at import.

Memory: ``pypinyin``'s dictionaries take about 55 MB of a kiosk's memory (and slow every full
garbage collection, as they hold some 200,000 objects), yet they are needed only while a
replica is built. So this module imports ``pypinyin`` on first use and, once a replica is
built, lets it go again (:func:`release_pinyin`) — unless something else had imported it
first, in which case it stays. Names already converted are remembered, so a rebuild after a
price change does not load it again.
"""

from __future__ import annotations

import functools
import gc
import logging
import sys
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Mapping

from kiosk.errors import KioskError
from retail.barcodes import VariableMeasureCode
from retail.catalogue import CatalogueItem

__all__ = [
    "CatalogueReplica",
    "CatalogueReplicaError",
    "DuplicateKeyError",
    "SearchKeys",
    "pinyin_initials",
    "pinyin_full",
    "pinyin_loaded",
    "release_pinyin",
]

log = logging.getLogger(__name__)


class CatalogueReplicaError(KioskError):
    """Root of the replica's errors."""


class DuplicateKeyError(CatalogueReplicaError, ValueError):
    """Two items share a SKU, a GTIN or a PLU."""


def _fold(text: str) -> str:
    """Case- and width-folded text for matching (full-width letters become ASCII)."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


class _PinyinLoader:
    """Imports ``pypinyin`` when first needed; :meth:`release` drops it if it was imported here."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._convert: Callable[[str, bool], str] | None = None
        self._owned = False

    def convert(self, chinese: str, initials: bool) -> str:
        with self._lock:
            if self._convert is None:
                self._owned = "pypinyin" not in sys.modules
                from pypinyin import Style, lazy_pinyin

                first, normal = Style.FIRST_LETTER, Style.NORMAL

                def convert(text: str, want_initials: bool) -> str:
                    parts = lazy_pinyin(text, style=first if want_initials else normal, errors="default")
                    return "".join(_fold(p).replace(" ", "") for p in parts)

                self._convert = convert
                log.debug("pypinyin loaded")
            return self._convert(chinese, initials)

    @property
    def loaded(self) -> bool:
        return self._convert is not None

    def release(self) -> bool:
        with self._lock:
            if self._convert is None:
                return False
            self._convert = None
            if not self._owned:
                return True  # someone else imported it: the modules stay for them
            for name in [n for n in sys.modules if n == "pypinyin" or n.startswith("pypinyin.")]:
                del sys.modules[name]
            self._owned = False
        gc.collect()  # the modules' dictionaries sit in reference cycles (functions ↔ globals)
        log.debug("pypinyin released")
        return True


_PINYIN = _PinyinLoader()


def pinyin_loaded() -> bool:
    """Whether ``pypinyin`` is held by this module right now."""
    return _PINYIN.loaded


def release_pinyin() -> bool:
    """Let ``pypinyin`` and its dictionaries go (they load again when a new name needs them);
    the modules are unloaded only if this module imported them. Returns whether it was held
    (idempotent). A replica does this itself once built."""
    return _PINYIN.release()


# A catalogue replica is rebuilt on every price change; names rarely change, so their pinyin
# (the costly part: seconds for 50,000 items) is remembered across rebuilds.
@functools.lru_cache(maxsize=200_000)
def pinyin_initials(chinese: str) -> str:
    """The pinyin initials of ``chinese``, lower case, other characters kept folded.

    >>> pinyin_initials("苹果")
    'pg'
    """
    return _PINYIN.convert(chinese, True) if chinese else ""


@functools.lru_cache(maxsize=200_000)
def pinyin_full(chinese: str) -> str:
    """The full toneless pinyin of ``chinese`` without spaces: 苹果 → ``pingguo``."""
    return _PINYIN.convert(chinese, False) if chinese else ""


@dataclass(frozen=True, slots=True)
class SearchKeys:
    """What a search matches against for one item (all folded)."""

    name_en: str
    name_zh: str
    initials: str
    pinyin: str
    plu: str


class CatalogueReplica:
    """An immutable in-memory index of the kiosk's catalogue (see the module docstring).

    ``keep_pinyin``: keep ``pypinyin`` loaded after the build (a process that builds many
    replicas in a row, e.g. a benchmark); by default it is released (see the module docstring).
    """

    def __init__(self, items: Iterable[CatalogueItem], *, version: str = "0", keep_pinyin: bool = False) -> None:
        try:
            self._build(items, version)
        finally:
            if not keep_pinyin:
                release_pinyin()

    def _build(self, items: Iterable[CatalogueItem], version: str) -> None:
        by_sku: dict[str, CatalogueItem] = {}
        by_gtin: dict[str, CatalogueItem] = {}
        by_plu: dict[str, CatalogueItem] = {}
        categories: dict[str, list[CatalogueItem]] = {}
        keys: dict[str, SearchKeys] = {}
        currencies: set[str] = set()
        for item in items:
            if not isinstance(item, CatalogueItem):
                raise CatalogueReplicaError(f"a replica holds CatalogueItem, not {type(item).__name__}")
            if item.sku in by_sku:
                raise DuplicateKeyError(f"SKU {item.sku!r} appears twice")
            by_sku[item.sku] = item
            for gtin in item.gtins:
                other = by_gtin.get(gtin)
                if other is not None:
                    raise DuplicateKeyError(f"GTIN {gtin} belongs to both {other.sku} and {item.sku}")
                by_gtin[gtin] = item
            if item.plu is not None:
                plu = item.plu.lstrip("0") or "0"
                other = by_plu.get(plu)
                if other is not None:
                    raise DuplicateKeyError(f"PLU {item.plu} belongs to both {other.sku} and {item.sku}")
                by_plu[plu] = item
            categories.setdefault(item.category, []).append(item)
            keys[item.sku] = SearchKeys(
                _fold(item.name_en),
                _fold(item.name_zh),
                pinyin_initials(item.name_zh),
                pinyin_full(item.name_zh),
                item.plu or "",
            )
            currencies.add(item.currency)
        if len(currencies) > 1:
            raise CatalogueReplicaError(f"a replica holds one currency, not {sorted(currencies)}")
        self._version = str(version)
        self._currency = next(iter(currencies)) if currencies else None
        self._by_sku = MappingProxyType(by_sku)
        self._by_gtin = by_gtin
        self._by_plu = by_plu
        self._categories = {
            name: tuple(sorted(group, key=lambda i: (i.name_en.casefold(), i.sku)))
            for name, group in sorted(categories.items())
        }
        self._keys = keys
        log.debug("catalogue replica %s built: %d items", self._version, len(by_sku))

    # -- identity ------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self._version

    @property
    def currency(self) -> str | None:
        return self._currency

    @property
    def items(self) -> Mapping[str, CatalogueItem]:
        """SKU → item (read-only); also what :meth:`retail.promotions.PromotionSet.compile` takes."""
        return self._by_sku

    def __len__(self) -> int:
        return len(self._by_sku)

    def __contains__(self, sku: object) -> bool:
        return sku in self._by_sku

    # -- lookups -------------------------------------------------------------------------------
    def by_sku(self, sku: str) -> CatalogueItem | None:
        return self._by_sku.get(sku)

    def by_gtin(self, key14: str) -> CatalogueItem | None:
        """The item with GTIN-14 key ``key14`` (see :func:`retail.barcodes.normalize_gtin`)."""
        return self._by_gtin.get(key14)

    def by_plu(self, plu: str) -> CatalogueItem | None:
        """The item with this PLU; leading zeros do not matter (``"04011"`` finds ``"4011"``)."""
        return self._by_plu.get(plu.lstrip("0") or "0")

    def by_variable_measure(self, code: VariableMeasureCode) -> CatalogueItem | None:
        """The item of a price- or weight-embedded label: its item key among the GTINs, else its
        item reference as a PLU."""
        return self._by_gtin.get(code.item_key) or self.by_plu(code.item_reference)

    # -- browsing ------------------------------------------------------------------------------
    def categories(self) -> tuple[str, ...]:
        """Category names, sorted."""
        return tuple(self._categories)

    def items_in(self, category: str) -> tuple[CatalogueItem, ...]:
        """The items of ``category`` sorted by English name (empty for an unknown category)."""
        return self._categories.get(category, ())

    def grid(self, *, sold_by_weight_only: bool = False) -> tuple[tuple[str, tuple[CatalogueItem, ...]], ...]:
        """Categories with their items, for the lookup screen's grid."""
        out = []
        for name, group in self._categories.items():
            chosen = tuple(i for i in group if i.by_weight) if sold_by_weight_only else group
            if chosen:
                out.append((name, chosen))
        return tuple(out)

    def search(self, text: str, *, limit: int = 50) -> tuple[CatalogueItem, ...]:
        """Items matching ``text``, best first.

        Matches the PLU (exact, then prefix), the pinyin initials and full pinyin (prefix,
        then anywhere), the Chinese name and the English name (anywhere, word starts first).
        Empty text finds nothing.
        """
        query = _fold(text).replace(" ", "") if text else ""
        raw = _fold(text) if text else ""
        if not query:
            return ()
        scored: list[tuple[int, str, str, CatalogueItem]] = []
        for sku, keys in self._keys.items():
            score = self._score(keys, query, raw)
            if score is not None:
                item = self._by_sku[sku]
                scored.append((score, item.name_en.casefold(), sku, item))
        scored.sort(key=lambda t: (t[0], t[1], t[2]))
        return tuple(t[3] for t in scored[: max(0, limit)])

    @staticmethod
    def _score(keys: SearchKeys, query: str, raw: str) -> int | None:
        if keys.plu and query.isdigit():
            if keys.plu == query or keys.plu.lstrip("0") == query.lstrip("0"):
                return 0
            if keys.plu.startswith(query):
                return 1
        if keys.name_zh.startswith(raw) or keys.name_en.startswith(raw):
            return 2
        if keys.initials.startswith(query):
            return 3
        if keys.pinyin.startswith(query):
            return 4
        en = keys.name_en
        if any(word.startswith(raw) for word in en.split()):
            return 5
        if raw in keys.name_zh or raw in en:
            return 6
        if len(query) >= 2 and (query in keys.initials or query in keys.pinyin):
            return 7
        return None
