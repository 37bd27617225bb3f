"""The catalogue item every tier prices with."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from retail.errors import CatalogueError
from retail.money import Money

__all__ = ["CatalogueItem", "SoldBy", "TaxClass"]


class SoldBy(str, Enum):
    UNIT = "unit"      # unit_price is per piece
    WEIGHT = "weight"  # unit_price is per kilogram; quantities are grams


@dataclass(frozen=True, slots=True)
class TaxClass:
    """A named tax rate in basis points (1300 = 13 %)."""

    code: str
    rate_bp: int

    def __post_init__(self) -> None:
        if not self.code:
            raise CatalogueError("a tax class needs a code")
        if isinstance(self.rate_bp, bool) or not isinstance(self.rate_bp, int) or not 0 <= self.rate_bp <= 10000:
            raise CatalogueError(f"tax rate must be 0..10000 basis points, not {self.rate_bp!r}")


STANDARD = TaxClass("standard", 1300)


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    """A product as the till sees it.

    ``gtins`` are GTIN-14 keys (see :func:`retail.barcodes.normalize_gtin`); ``unit_price`` is per
    piece, or per kilogram when ``sold_by`` is WEIGHT. ``unit_weight_g`` and
    ``weight_tolerance_g`` feed the bagging-area check. ``min_age`` is 0 when unrestricted.
    """

    sku: str
    name_en: str
    name_zh: str
    unit_price: Money
    category: str = "general"
    gtins: tuple[str, ...] = ()
    plu: str | None = None
    sold_by: SoldBy = SoldBy.UNIT
    tax_class: TaxClass = field(default=STANDARD)
    min_age: int = 0
    unit_weight_g: int | None = None
    weight_tolerance_g: int = 20
    cost_price: Money | None = None

    def __post_init__(self) -> None:
        if not self.sku or not self.sku.strip():
            raise CatalogueError("a catalogue item needs a SKU")
        if not self.name_en or not self.name_zh:
            raise CatalogueError(f"item {self.sku}: names in English and Chinese are both required")
        if not isinstance(self.unit_price, Money):
            raise CatalogueError(f"item {self.sku}: unit_price must be Money")
        if self.unit_price.minor < 0:
            raise CatalogueError(f"item {self.sku}: negative unit price")
        if self.cost_price is not None and self.cost_price.currency != self.unit_price.currency:
            raise CatalogueError(f"item {self.sku}: cost price in another currency")
        if self.min_age < 0 or self.min_age > 99:
            raise CatalogueError(f"item {self.sku}: min_age {self.min_age} out of range")
        if self.unit_weight_g is not None and self.unit_weight_g < 0:
            raise CatalogueError(f"item {self.sku}: negative unit weight")
        if self.weight_tolerance_g < 0:
            raise CatalogueError(f"item {self.sku}: negative weight tolerance")
        if self.plu is not None and not (self.plu.isdigit() and 1 <= len(self.plu) <= 5):
            raise CatalogueError(f"item {self.sku}: PLU must be 1-5 digits, not {self.plu!r}")
        if isinstance(self.gtins, list):
            object.__setattr__(self, "gtins", tuple(self.gtins))
        for g in self.gtins:
            if not (len(g) == 14 and g.isdigit()):
                raise CatalogueError(f"item {self.sku}: GTIN keys are 14 digits (normalise first), not {g!r}")

    @property
    def currency(self) -> str:
        return self.unit_price.currency

    @property
    def by_weight(self) -> bool:
        return self.sold_by is SoldBy.WEIGHT

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en
