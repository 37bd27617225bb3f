"""The shopper's basket: unit lines, weighed lines and variable-measure label lines.

A :class:`Basket` is a mutable builder (a kiosk adds and voids lines as the shopper scans);
:meth:`Basket.copy` gives an independent copy. Adding, changing, voiding and removing a line
are O(1); lines are immutable records, replaced when they change.

Lines
    * **unit** — a catalogue item sold per piece, integer quantity ≥ 1;
    * **weighed** — an item sold by weight, weighed at the till, in grams; its price is
      price/kg × grams / 1000, rounded half up once per line;
    * **label weight** — a variable-measure label that carries the weight; priced like a
      weighed line;
    * **label price** — a variable-measure label that carries the price; the label fixes the
      price, so item-level promotions leave it alone (basket-level ones still count it).

Scanning the same unit item again **increments its open line** (keyed by SKU and unit price;
a voided line is never reopened). Pricing never depends on this choice: every line is priced
from its quantity, and promotions pool units by SKU, so three scans of one item, one scan of
quantity three, or a quantity change to three all cost the same.

Each line keeps a stable ``line_id`` (``"L1"``, ``"L2"``, ...; never reused within a basket).
A voided line stays in :attr:`Basket.lines` with ``voided=True`` for the audit trail and is
left out of every total; :meth:`Basket.remove` deletes a line outright (before it counts,
e.g. a scan the shopper cancelled at once).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Iterator

from retail.catalogue import CatalogueItem, SoldBy
from retail.errors import BasketError, CurrencyMismatchError
from retail.money import Money

__all__ = [
    "MAX_QUANTITY",
    "MAX_WEIGHT_G",
    "Basket",
    "BasketCurrencyError",
    "BasketLine",
    "InvalidQuantityError",
    "InvalidWeightError",
    "LineKind",
    "UnknownLineError",
    "VoidedLineError",
    "WrongSaleUnitError",
]

MAX_QUANTITY = 9_999
"""Largest quantity on one line: a typo guard, not a business rule."""

MAX_WEIGHT_G = 1_000_000
"""Largest weight on one line (one tonne): a typo guard."""


class InvalidQuantityError(BasketError):
    """A quantity that is not a whole number from 1 to :data:`MAX_QUANTITY`."""


class InvalidWeightError(BasketError):
    """A weight that is not a whole number of grams from 1 to :data:`MAX_WEIGHT_G`."""


class UnknownLineError(BasketError, LookupError):
    """No line with that ``line_id`` in the basket."""


class VoidedLineError(BasketError):
    """The line was voided and can no longer be changed."""


class WrongSaleUnitError(BasketError):
    """A weighed item added as a unit line, a unit item weighed, or a quantity on a weighed line."""


class BasketCurrencyError(BasketError, CurrencyMismatchError):
    """An item or label priced in another currency than the basket's."""


class LineKind(str, Enum):
    UNIT = "unit"
    WEIGHED = "weighed"
    LABEL_WEIGHT = "label_weight"
    LABEL_PRICE = "label_price"


def _round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up; both non-negative, denominator > 0."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True, slots=True)
class BasketLine:
    """One line of a basket. ``gross_minor`` is its price before any promotion."""

    line_id: str
    item: CatalogueItem
    kind: LineKind
    quantity: int = 1
    weight_g: int | None = None
    label_price_minor: int | None = None
    voided: bool = False

    @property
    def sku(self) -> str:
        return self.item.sku

    @property
    def currency(self) -> str:
        return self.item.unit_price.currency

    @property
    def gross_minor(self) -> int:
        """Price before promotions, in minor units."""
        kind = self.kind
        if kind is LineKind.UNIT:
            return self.item.unit_price.minor * self.quantity
        if kind is LineKind.LABEL_PRICE:
            return self.label_price_minor or 0
        return _round_half_up(self.item.unit_price.minor * (self.weight_g or 0), 1000)

    @property
    def gross(self) -> Money:
        return Money(self.gross_minor, self.currency)

    @property
    def weighed(self) -> bool:
        return self.kind is LineKind.WEIGHED or self.kind is LineKind.LABEL_WEIGHT


def _check_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantityError(f"quantity must be a whole number, not {quantity!r}")
    if quantity < 1:
        raise InvalidQuantityError(f"quantity must be at least 1, not {quantity}")
    if quantity > MAX_QUANTITY:
        raise InvalidQuantityError(f"quantity {quantity} is more than {MAX_QUANTITY} on one line")
    return quantity


def _check_weight(weight_g: object) -> int:
    if isinstance(weight_g, bool) or not isinstance(weight_g, int):
        raise InvalidWeightError(f"weight must be whole grams, not {weight_g!r}")
    if weight_g <= 0:
        raise InvalidWeightError(f"weight must be more than 0 g, not {weight_g} g")
    if weight_g > MAX_WEIGHT_G:
        raise InvalidWeightError(f"weight {weight_g} g is more than {MAX_WEIGHT_G} g on one line")
    return weight_g


class Basket:
    """A shopper's basket in one currency (mutable builder; see the module docstring)."""

    __slots__ = ("_currency", "_lines", "_open_unit", "_next")

    def __init__(self, currency: str) -> None:
        Money.zero(currency)  # raises UnknownCurrencyError for a code the domain does not know
        self._currency = currency
        self._lines: dict[str, BasketLine] = {}
        self._open_unit: dict[tuple[str, int], str] = {}
        self._next = 1

    # -- reading ---------------------------------------------------------------------------
    @property
    def currency(self) -> str:
        return self._currency

    @property
    def lines(self) -> tuple[BasketLine, ...]:
        """Every line in scan order, voided ones included."""
        return tuple(self._lines.values())

    @property
    def active_lines(self) -> tuple[BasketLine, ...]:
        """Lines that count: scan order, voided ones left out."""
        return tuple(line for line in self._lines.values() if not line.voided)

    def line(self, line_id: str) -> BasketLine:
        try:
            return self._lines[line_id]
        except KeyError:
            raise UnknownLineError(f"no line {line_id!r} in this basket") from None

    def __iter__(self) -> Iterator[BasketLine]:
        return iter(tuple(self._lines.values()))

    def __len__(self) -> int:
        return len(self._lines)

    def __contains__(self, line_id: object) -> bool:
        return line_id in self._lines

    @property
    def subtotal(self) -> Money:
        """Sum of the active lines' prices before promotions."""
        return Money(sum(line.gross_minor for line in self._lines.values() if not line.voided), self._currency)

    @property
    def item_count(self) -> int:
        """Pieces on unit lines plus one per weighed or label line (what a receipt calls items)."""
        return sum(line.quantity for line in self._lines.values() if not line.voided)

    def copy(self) -> Basket:
        other = Basket(self._currency)
        other._lines = dict(self._lines)
        other._open_unit = dict(self._open_unit)
        other._next = self._next
        return other

    # -- adding ----------------------------------------------------------------------------
    def _check_item(self, item: CatalogueItem) -> None:
        if not isinstance(item, CatalogueItem):
            raise BasketError(f"a basket holds catalogue items, not {type(item).__name__}")
        if item.unit_price.currency != self._currency:
            raise BasketCurrencyError(
                f"item {item.sku} is priced in {item.unit_price.currency}, the basket in {self._currency}"
            )

    def _new_id(self) -> str:
        line_id = f"L{self._next}"
        self._next += 1
        return line_id

    def add_item(self, item: CatalogueItem, quantity: int = 1) -> str:
        """Add ``quantity`` pieces of a unit item; returns the id of the line it went to.

        A second scan of the same item (same SKU and unit price) increments its open line.
        """
        self._check_item(item)
        quantity = _check_quantity(quantity)
        if item.sold_by is SoldBy.WEIGHT:
            raise WrongSaleUnitError(f"item {item.sku} is sold by weight; weigh it (add_weighed)")
        key = (item.sku, item.unit_price.minor)
        open_id = self._open_unit.get(key)
        if open_id is not None:
            line = self._lines[open_id]
            new_qty = _check_quantity(line.quantity + quantity)
            self._lines[open_id] = replace(line, quantity=new_qty)
            return open_id
        line_id = self._new_id()
        self._lines[line_id] = BasketLine(line_id, item, LineKind.UNIT, quantity=quantity)
        self._open_unit[key] = line_id
        return line_id

    def add_weighed(self, item: CatalogueItem, weight_g: int) -> str:
        """Add an item sold by weight, weighed at the till (grams). Always a new line."""
        self._check_item(item)
        weight_g = _check_weight(weight_g)
        if item.sold_by is not SoldBy.WEIGHT:
            raise WrongSaleUnitError(f"item {item.sku} is sold per piece, not by weight")
        line_id = self._new_id()
        self._lines[line_id] = BasketLine(line_id, item, LineKind.WEIGHED, weight_g=weight_g)
        return line_id

    def add_label_weight(self, item: CatalogueItem, weight_g: int) -> str:
        """Add a variable-measure label that carries a weight; priced at the item's price/kg."""
        self._check_item(item)
        weight_g = _check_weight(weight_g)
        if item.sold_by is not SoldBy.WEIGHT:
            raise WrongSaleUnitError(f"item {item.sku} is sold per piece; a weight label cannot price it")
        line_id = self._new_id()
        self._lines[line_id] = BasketLine(line_id, item, LineKind.LABEL_WEIGHT, weight_g=weight_g)
        return line_id

    def add_label_price(self, item: CatalogueItem, price: Money, *, weight_g: int | None = None) -> str:
        """Add a variable-measure label that carries its price (fixed by the label)."""
        self._check_item(item)
        if not isinstance(price, Money):
            raise BasketError(f"a label price is Money, not {type(price).__name__}")
        if price.currency != self._currency:
            raise BasketCurrencyError(f"label price in {price.currency}, the basket in {self._currency}")
        if price.minor < 0:
            raise BasketError(f"a label price cannot be negative ({price})")
        if weight_g is not None:
            weight_g = _check_weight(weight_g)
        line_id = self._new_id()
        self._lines[line_id] = BasketLine(
            line_id, item, LineKind.LABEL_PRICE, weight_g=weight_g, label_price_minor=price.minor
        )
        return line_id

    # -- changing --------------------------------------------------------------------------
    def _active(self, line_id: str) -> BasketLine:
        line = self.line(line_id)
        if line.voided:
            raise VoidedLineError(f"line {line_id} ({line.sku}) was voided and cannot be changed")
        return line

    def set_quantity(self, line_id: str, quantity: int) -> None:
        """Set a unit line's quantity (≥ 1; void or remove the line to drop it)."""
        line = self._active(line_id)
        quantity = _check_quantity(quantity)
        if line.kind is not LineKind.UNIT:
            raise WrongSaleUnitError(f"line {line_id} ({line.sku}) is {line.kind.value}; only unit lines have a quantity")
        self._lines[line_id] = replace(line, quantity=quantity)

    def void(self, line_id: str) -> None:
        """Void a line: it stays for the audit and counts no more. Voiding twice is a no-op."""
        line = self.line(line_id)
        if line.voided:
            return
        self._lines[line_id] = replace(line, voided=True)
        self._forget_open(line)

    def remove(self, line_id: str) -> None:
        """Delete a line outright (no audit trace)."""
        line = self.line(line_id)
        del self._lines[line_id]
        self._forget_open(line)

    def _forget_open(self, line: BasketLine) -> None:
        if line.kind is LineKind.UNIT:
            key = (line.item.sku, line.item.unit_price.minor)
            if self._open_unit.get(key) == line.line_id:
                del self._open_unit[key]

    def __repr__(self) -> str:
        return f"Basket({self._currency}, {len(self.active_lines)} active lines, subtotal {self.subtotal})"
