"""The edge's product and category records (pure data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.catalogue.errors import InvalidProductError
from retail.catalogue import STANDARD, CatalogueItem, SoldBy, TaxClass
from retail.errors import RetailError
from retail.money import Money

__all__ = ["Category", "Product"]


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name_en: str
    name_zh: str
    parent: str | None = None
    sort: int = 0

    def __post_init__(self) -> None:
        if not self.code or not self.code.strip() or len(self.code) > 64:
            raise InvalidProductError(f"a category code is 1-64 characters, not {self.code!r}")
        if not self.name_en or not self.name_zh:
            raise InvalidProductError(f"category {self.code}: names in English and Chinese are both required")
        if self.parent == self.code:
            raise InvalidProductError(f"category {self.code} cannot be its own parent")

    def row(self) -> list[object]:
        return [self.code, self.name_en, self.name_zh, self.parent, self.sort]


@dataclass(frozen=True, slots=True)
class Product:
    """A product as the shop owner manages it: what the till sees plus cost, picture and the
    active flag. ``gtins`` are GTIN-14 keys; ``price`` is per piece, or per kilogram when
    ``sold_by`` is WEIGHT."""

    sku: str
    name_en: str
    name_zh: str
    price: Money
    category: str
    gtins: tuple[str, ...] = ()
    plu: str | None = None
    cost_price: Money | None = None
    tax_class: TaxClass = field(default=STANDARD)
    sold_by: SoldBy = SoldBy.UNIT
    min_age: int = 0
    unit_weight_g: int | None = None
    weight_tolerance_g: int = 20
    picture: str | None = None
    active: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.gtins, list):
            object.__setattr__(self, "gtins", tuple(self.gtins))
        if len(self.sku) > 64:
            raise InvalidProductError(f"SKU {self.sku[:20]!r}... is longer than 64 characters")
        if len(set(self.gtins)) != len(self.gtins):
            raise InvalidProductError(f"product {self.sku}: a GTIN is listed twice")
        if self.cost_price is not None and self.cost_price.minor < 0:
            raise InvalidProductError(f"product {self.sku}: negative cost price")
        try:
            self.to_item()
        except RetailError as exc:
            raise InvalidProductError(str(exc)) from None

    @property
    def currency(self) -> str:
        return self.price.currency

    def to_item(self) -> CatalogueItem:
        return CatalogueItem(
            sku=self.sku,
            name_en=self.name_en,
            name_zh=self.name_zh,
            unit_price=self.price,
            category=self.category,
            gtins=self.gtins,
            plu=self.plu,
            sold_by=self.sold_by,
            tax_class=self.tax_class,
            min_age=self.min_age,
            unit_weight_g=self.unit_weight_g,
            weight_tolerance_g=self.weight_tolerance_g,
            cost_price=self.cost_price,
        )

    def replica_row(self) -> list[object]:
        """This product as a row of :data:`edge.catalogue.replica_format.COLUMNS`."""
        return [
            self.sku,
            sorted(self.gtins),
            self.plu,
            self.name_en,
            self.name_zh,
            self.category,
            self.price.minor,
            self.price.currency,
            self.tax_class.code,
            self.tax_class.rate_bp,
            self.sold_by.value,
            self.min_age,
            self.unit_weight_g,
            self.weight_tolerance_g,
            self.picture,
        ]

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form for the API (money as minor units with currency)."""
        return {
            "sku": self.sku,
            "name_en": self.name_en,
            "name_zh": self.name_zh,
            "category": self.category,
            "gtins": list(self.gtins),
            "plu": self.plu,
            "price": {"minor": self.price.minor, "currency": self.price.currency},
            "cost_price": None if self.cost_price is None else {"minor": self.cost_price.minor, "currency": self.cost_price.currency},
            "tax_class": self.tax_class.code,
            "tax_rate_bp": self.tax_class.rate_bp,
            "sold_by": self.sold_by.value,
            "min_age": self.min_age,
            "unit_weight_g": self.unit_weight_g,
            "weight_tolerance_g": self.weight_tolerance_g,
            "picture": self.picture,
            "active": self.active,
        }
