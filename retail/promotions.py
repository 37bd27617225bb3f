"""Promotion definitions: plain frozen data that the edge authors and ships to the kiosks.

Every promotion shares these fields (all keyword-only):

``promotion_id``, ``name_en``, ``name_zh``
    identity and the names printed on the receipt and shown on screen.
``priority`` (int, default 0)
    higher goes first where order matters, and wins ties of equal saving.
``stackable`` (default False)
    False: the promotion is *exclusive* and competes (see below); True: it applies on top of
    whatever the exclusive promotions left. Only percentage promotions and basket promotions
    may stack.
``exclusive_group`` (default ``"default"``)
    basket-level exclusive promotions compete within their group.
``window`` (:class:`TimeWindow` or None)
    dates, weekdays and hours when the promotion runs, evaluated against the ``at`` passed in.
``coupon_code`` (str or None)
    the promotion runs only when this code is presented (case-insensitive).
``member_only`` / ``member_levels``
    the promotion runs only for a member (of one of these levels, when given).

Item-level types (scoped by ``skus`` and/or ``categories``): :class:`PercentOff`,
:class:`FixedPrice`, :class:`MemberPrice`, :class:`MultiBuy` (N for a price, or N for the price
of M, e.g. 3 for 2), :class:`BuyXGetY` (cheapest Y free or Y % off). Basket-level types:
:class:`BasketPercentOff` and :class:`SpendAndSave` (满减, tiered).

How competing promotions resolve (best outcome for the shopper) is documented in
:mod:`retail.pricing`. :meth:`PromotionSet.compile` validates a set against the catalogue and
indexes it by SKU and category once, so each pricing looks at only the promotions that touch
the basket.

Serialisation: :func:`promotion_to_dict` / :func:`promotion_from_dict` (JSON-safe dicts with a
``"type"`` key; money as ``{"minor": 1250, "currency": "CNY"}``; dates and times ISO 8601),
:func:`promotions_to_json` / :func:`promotions_from_json` for a whole list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from typing import Any, ClassVar, Iterable, Mapping, Sequence

from retail.catalogue import CatalogueItem
from retail.errors import CurrencyMismatchError, PromotionError
from retail.money import Money

__all__ = [
    "BasketPercentOff",
    "BuyXGetY",
    "DuplicatePromotionError",
    "FixedPrice",
    "InvalidPromotionError",
    "MemberPrice",
    "MultiBuy",
    "PercentOff",
    "Promotion",
    "PromotionCurrencyError",
    "PromotionSet",
    "SpendAndSave",
    "SpendTier",
    "TimeWindow",
    "UnknownReferenceError",
    "promotion_from_dict",
    "promotion_to_dict",
    "promotions_from_json",
    "promotions_to_json",
]


class InvalidPromotionError(PromotionError):
    """A promotion definition breaks a rule (bad percentage, empty scope, ...)."""


class UnknownReferenceError(PromotionError, LookupError):
    """A promotion names a SKU or category that the catalogue does not have."""


class DuplicatePromotionError(PromotionError):
    """Two promotions in one set share a ``promotion_id``."""


class PromotionCurrencyError(PromotionError, CurrencyMismatchError):
    """A promotion's amounts are in another currency than the catalogue or basket."""


# --------------------------------------------------------------------------------------------
# Time windows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """When a promotion runs. Every part is optional; all given parts must hold.

    ``start_date``..``end_date`` inclusive; ``weekdays`` ISO numbers (1 = Monday .. 7 = Sunday);
    ``start_time`` inclusive to ``end_time`` exclusive, wrapping past midnight when
    ``start_time > end_time`` (22:00–02:00). The ``at`` given is read as the shop's local time
    (its own date and clock fields; no conversion happens here).
    """

    start_date: date | None = None
    end_date: date | None = None
    weekdays: tuple[int, ...] = ()
    start_time: time | None = None
    end_time: time | None = None

    def __post_init__(self) -> None:
        if isinstance(self.weekdays, list):
            object.__setattr__(self, "weekdays", tuple(self.weekdays))
        for d in self.weekdays:
            if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7:
                raise InvalidPromotionError(f"weekdays are 1 (Monday) .. 7 (Sunday), not {d!r}")
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise InvalidPromotionError(f"window ends ({self.end_date}) before it starts ({self.start_date})")
        if (self.start_time is None) != (self.end_time is None):
            raise InvalidPromotionError("a window's hours need both start_time and end_time")
        if self.start_time is not None and self.start_time == self.end_time:
            raise InvalidPromotionError("a window's start_time and end_time are equal (an empty window)")

    def contains(self, at: datetime) -> bool:
        day = at.date()
        if self.start_date is not None and day < self.start_date:
            return False
        if self.end_date is not None and day > self.end_date:
            return False
        if self.weekdays and at.isoweekday() not in self.weekdays:
            return False
        if self.start_time is not None and self.end_time is not None:
            now = at.time().replace(tzinfo=None)
            if self.start_time < self.end_time:
                return self.start_time <= now < self.end_time
            return now >= self.start_time or now < self.end_time
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "weekdays": list(self.weekdays),
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "end_time": self.end_time.isoformat() if self.end_time else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TimeWindow:
        try:
            return cls(
                start_date=date.fromisoformat(data["start_date"]) if data.get("start_date") else None,
                end_date=date.fromisoformat(data["end_date"]) if data.get("end_date") else None,
                weekdays=tuple(data.get("weekdays") or ()),
                start_time=time.fromisoformat(data["start_time"]) if data.get("start_time") else None,
                end_time=time.fromisoformat(data["end_time"]) if data.get("end_time") else None,
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, PromotionError):
                raise
            raise InvalidPromotionError(f"bad time window {dict(data)!r}: {exc}") from None


# --------------------------------------------------------------------------------------------
# Definitions
# --------------------------------------------------------------------------------------------


def _check_bp(pid: str, name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10000:
        raise InvalidPromotionError(f"promotion {pid}: {name} must be 1..10000 basis points, not {value!r}")


def _check_count(pid: str, name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidPromotionError(f"promotion {pid}: {name} must be a whole number ≥ {minimum}, not {value!r}")


def _check_money(pid: str, name: str, value: object) -> None:
    if not isinstance(value, Money):
        raise InvalidPromotionError(f"promotion {pid}: {name} must be Money, not {type(value).__name__}")
    if value.minor < 0:
        raise InvalidPromotionError(f"promotion {pid}: {name} cannot be negative ({value})")


@dataclass(frozen=True, slots=True, kw_only=True)
class Promotion:
    """Fields shared by every promotion; use one of the subclasses."""

    TYPE: ClassVar[str] = ""
    ITEM_LEVEL: ClassVar[bool] = True
    MAY_STACK: ClassVar[bool] = False

    promotion_id: str
    name_en: str
    name_zh: str
    priority: int = 0
    stackable: bool = False
    exclusive_group: str = "default"
    window: TimeWindow | None = None
    coupon_code: str | None = None
    member_only: bool = False
    member_levels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        pid = self.promotion_id
        if type(self) is Promotion:
            raise InvalidPromotionError("Promotion is abstract; use PercentOff, MultiBuy, ...")
        if not isinstance(pid, str) or not pid.strip():
            raise InvalidPromotionError("a promotion needs a promotion_id")
        if not self.name_en or not self.name_zh:
            raise InvalidPromotionError(f"promotion {pid}: names in English and Chinese are both required")
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise InvalidPromotionError(f"promotion {pid}: priority must be an int, not {self.priority!r}")
        if self.stackable and not self.MAY_STACK:
            raise InvalidPromotionError(
                f"promotion {pid}: a {self.TYPE} promotion cannot stack; only percentage and basket promotions can"
            )
        if not self.exclusive_group:
            raise InvalidPromotionError(f"promotion {pid}: exclusive_group cannot be empty")
        if self.window is not None and not isinstance(self.window, TimeWindow):
            raise InvalidPromotionError(f"promotion {pid}: window must be a TimeWindow")
        if self.coupon_code is not None:
            code = str(self.coupon_code).strip().upper()
            if not code:
                raise InvalidPromotionError(f"promotion {pid}: an empty coupon code")
            object.__setattr__(self, "coupon_code", code)
        if isinstance(self.member_levels, (list, str)):
            levels = (self.member_levels,) if isinstance(self.member_levels, str) else tuple(self.member_levels)
            object.__setattr__(self, "member_levels", levels)
        if self.member_levels and not self.member_only:
            object.__setattr__(self, "member_only", True)

    # -- money amounts, for currency checks -------------------------------------------------
    def amounts(self) -> tuple[Money, ...]:
        return ()

    # -- scope, for item-level promotions ----------------------------------------------------
    @property
    def scope_skus(self) -> tuple[str, ...]:
        return ()

    @property
    def scope_categories(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Scoped(Promotion):
    """An item-level promotion that applies to some SKUs and/or whole categories."""

    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("skus", "categories"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(dict.fromkeys(value)))
        Promotion.__post_init__(self)
        if not self.skus and not self.categories:
            raise InvalidPromotionError(f"promotion {self.promotion_id}: name at least one SKU or category")

    @property
    def scope_skus(self) -> tuple[str, ...]:
        return self.skus

    @property
    def scope_categories(self) -> tuple[str, ...]:
        return self.categories


@dataclass(frozen=True, slots=True, kw_only=True)
class PercentOff(_Scoped):
    """``percent_bp`` off the items in scope (2000 = 20 % off). May stack."""

    TYPE: ClassVar[str] = "percent_off"
    MAY_STACK: ClassVar[bool] = True
    percent_bp: int

    def __post_init__(self) -> None:
        _Scoped.__post_init__(self)
        _check_bp(self.promotion_id, "percent_bp", self.percent_bp)


@dataclass(frozen=True, slots=True, kw_only=True)
class FixedPrice(_Scoped):
    """Items in scope sell at ``price`` each (per kilogram for items sold by weight)."""

    TYPE: ClassVar[str] = "fixed_price"
    price: Money

    def __post_init__(self) -> None:
        _Scoped.__post_init__(self)
        _check_money(self.promotion_id, "price", self.price)

    def amounts(self) -> tuple[Money, ...]:
        return (self.price,)


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberPrice(FixedPrice):
    """A member-only fixed price (``member_only`` is always true)."""

    TYPE: ClassVar[str] = "member_price"

    def __post_init__(self) -> None:
        object.__setattr__(self, "member_only", True)
        FixedPrice.__post_init__(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiBuy(_Scoped):
    """``quantity`` pieces for ``price`` (3 for ¥10), or for the price of ``pay_for`` (3 for 2).

    Pieces are mixed and matched across the SKUs in scope; groups are formed from the dearest
    pieces down, so the shopper saves the most. Items sold by weight do not count.
    """

    TYPE: ClassVar[str] = "multibuy"
    quantity: int
    price: Money | None = None
    pay_for: int | None = None

    def __post_init__(self) -> None:
        _Scoped.__post_init__(self)
        pid = self.promotion_id
        _check_count(pid, "quantity", self.quantity, 2)
        if (self.price is None) == (self.pay_for is None):
            raise InvalidPromotionError(f"promotion {pid}: give either price (N for X) or pay_for (N for M)")
        if self.price is not None:
            _check_money(pid, "price", self.price)
        if self.pay_for is not None:
            _check_count(pid, "pay_for", self.pay_for, 1)
            if self.pay_for >= self.quantity:
                raise InvalidPromotionError(f"promotion {pid}: pay_for must be less than quantity")

    def amounts(self) -> tuple[Money, ...]:
        return (self.price,) if self.price is not None else ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BuyXGetY(_Scoped):
    """Buy ``buy`` get ``get``: in each group of buy+get pieces the ``get`` cheapest are
    ``percent_bp`` off (10000 = free). Groups are formed from the dearest pieces down."""

    TYPE: ClassVar[str] = "buy_x_get_y"
    buy: int
    get: int = 1
    percent_bp: int = 10000

    def __post_init__(self) -> None:
        _Scoped.__post_init__(self)
        _check_count(self.promotion_id, "buy", self.buy, 1)
        _check_count(self.promotion_id, "get", self.get, 1)
        _check_bp(self.promotion_id, "percent_bp", self.percent_bp)


@dataclass(frozen=True, slots=True, kw_only=True)
class BasketPercentOff(Promotion):
    """``percent_bp`` off the whole basket (after item promotions), from ``min_spend`` if given."""

    TYPE: ClassVar[str] = "basket_percent_off"
    ITEM_LEVEL: ClassVar[bool] = False
    MAY_STACK: ClassVar[bool] = True
    percent_bp: int
    min_spend: Money | None = None

    def __post_init__(self) -> None:
        Promotion.__post_init__(self)
        _check_bp(self.promotion_id, "percent_bp", self.percent_bp)
        if self.min_spend is not None:
            _check_money(self.promotion_id, "min_spend", self.min_spend)

    def amounts(self) -> tuple[Money, ...]:
        return (self.min_spend,) if self.min_spend is not None else ()


@dataclass(frozen=True, slots=True)
class SpendTier:
    """Spend at least ``threshold``, save ``saving``."""

    threshold: Money
    saving: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class SpendAndSave(Promotion):
    """满减: spend X save Y, tiered (spend 100 save 10, spend 200 save 25). The highest tier
    reached applies once, on the basket after item promotions."""

    TYPE: ClassVar[str] = "spend_and_save"
    ITEM_LEVEL: ClassVar[bool] = False
    MAY_STACK: ClassVar[bool] = True
    tiers: tuple[SpendTier, ...]

    def __post_init__(self) -> None:
        Promotion.__post_init__(self)
        pid = self.promotion_id
        tiers = tuple(self.tiers)
        object.__setattr__(self, "tiers", tiers)
        if not tiers:
            raise InvalidPromotionError(f"promotion {pid}: a spend-and-save needs at least one tier")
        for tier in tiers:
            if not isinstance(tier, SpendTier):
                raise InvalidPromotionError(f"promotion {pid}: tiers are SpendTier")
            _check_money(pid, "threshold", tier.threshold)
            _check_money(pid, "saving", tier.saving)
            if tier.saving.currency != tier.threshold.currency:
                raise PromotionCurrencyError(f"promotion {pid}: a tier mixes currencies")
            if tier.saving.minor == 0 or tier.saving > tier.threshold:
                raise InvalidPromotionError(
                    f"promotion {pid}: a tier saves more than 0 and at most its threshold ({tier.saving} on {tier.threshold})"
                )
        for lower, upper in zip(tiers, tiers[1:]):
            if upper.threshold.currency != lower.threshold.currency:
                raise PromotionCurrencyError(f"promotion {pid}: tiers mix currencies")
            if not (upper.threshold > lower.threshold and upper.saving >= lower.saving):
                raise InvalidPromotionError(
                    f"promotion {pid}: tiers go up: higher threshold, saving not smaller"
                )

    def amounts(self) -> tuple[Money, ...]:
        return tuple(m for t in self.tiers for m in (t.threshold, t.saving))


_TYPES: dict[str, type[Promotion]] = {
    cls.TYPE: cls
    for cls in (PercentOff, FixedPrice, MemberPrice, MultiBuy, BuyXGetY, BasketPercentOff, SpendAndSave)
}


# --------------------------------------------------------------------------------------------
# Serialisation
# --------------------------------------------------------------------------------------------


def _money_to(m: Money) -> dict[str, Any]:
    return {"minor": m.minor, "currency": m.currency}


def _money_from(pid: str, data: object) -> Money:
    if not isinstance(data, Mapping) or set(data) != {"minor", "currency"}:
        raise InvalidPromotionError(f"promotion {pid}: money is {{'minor': int, 'currency': str}}, not {data!r}")
    try:
        return Money(data["minor"], data["currency"])
    except PromotionError:
        raise
    except Exception as exc:  # MoneyError and friends
        raise InvalidPromotionError(f"promotion {pid}: bad money {data!r}: {exc}") from None


def promotion_to_dict(promotion: Promotion) -> dict[str, Any]:
    """A JSON-safe dict with a ``"type"`` key; :func:`promotion_from_dict` reverses it."""
    out: dict[str, Any] = {"type": promotion.TYPE}
    for f in fields(promotion):
        value = getattr(promotion, f.name)
        if isinstance(value, Money):
            value = _money_to(value)
        elif isinstance(value, TimeWindow):
            value = value.to_dict()
        elif f.name == "tiers":
            value = [{"threshold": _money_to(t.threshold), "saving": _money_to(t.saving)} for t in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def promotion_from_dict(data: Mapping[str, Any]) -> Promotion:
    """Build a promotion from :func:`promotion_to_dict` output (validated like any other)."""
    if not isinstance(data, Mapping):
        raise InvalidPromotionError(f"a promotion is a dict, not {type(data).__name__}")
    pid = str(data.get("promotion_id", "?"))
    kind = data.get("type")
    cls = _TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidPromotionError(f"promotion {pid}: unknown type {kind!r}; known: {', '.join(sorted(_TYPES))}")
    names = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(names) - {"type"}
    if unknown:
        raise InvalidPromotionError(f"promotion {pid}: unknown fields {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "type":
            continue
        if key in ("price", "min_spend") and value is not None:
            value = _money_from(pid, value)
        elif key == "window" and value is not None:
            if not isinstance(value, Mapping):
                raise InvalidPromotionError(f"promotion {pid}: window is a dict")
            value = TimeWindow.from_dict(value)
        elif key == "tiers":
            if not isinstance(value, list):
                raise InvalidPromotionError(f"promotion {pid}: tiers is a list")
            value = tuple(
                SpendTier(_money_from(pid, t.get("threshold")), _money_from(pid, t.get("saving")))
                if isinstance(t, Mapping)
                else _money_from(pid, t)
                for t in value
            )
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise InvalidPromotionError(f"promotion {pid}: {exc}") from None


def promotions_to_json(promotions: Iterable[Promotion]) -> str:
    return json.dumps([promotion_to_dict(p) for p in promotions], ensure_ascii=False, sort_keys=True)


def promotions_from_json(text: str) -> list[Promotion]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidPromotionError(f"promotions are not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise InvalidPromotionError("promotions JSON is a list of promotions")
    return [promotion_from_dict(d) for d in data]


# --------------------------------------------------------------------------------------------
# Compiled set
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromotionSet:
    """A validated promotion set, indexed by SKU and category for fast pricing.

    Build it with :meth:`compile`; it is immutable and can be shared between threads.
    ``currency`` is None only for an empty set (it then prices any basket).
    """

    currency: str | None
    promotions: tuple[Promotion, ...]
    by_sku: Mapping[str, tuple[Promotion, ...]] = field(repr=False)
    by_category: Mapping[str, tuple[Promotion, ...]] = field(repr=False)
    basket_level: tuple[Promotion, ...] = field(repr=False)

    @classmethod
    def empty(cls, currency: str | None = None) -> PromotionSet:
        return cls(currency, (), {}, {}, ())

    @classmethod
    def compile(
        cls,
        promotions: Sequence[Promotion],
        catalogue_index: Mapping[str, CatalogueItem],
        *,
        currency: str | None = None,
    ) -> PromotionSet:
        """Validate ``promotions`` against the catalogue (SKU → item) and index them.

        Raises :class:`UnknownReferenceError` naming the promotion and the SKU or category it
        cannot find, :class:`DuplicatePromotionError` for a repeated id and
        :class:`PromotionCurrencyError` when amounts are not in the catalogue's currency.
        """
        categories: set[str] = set()
        currencies: set[str] = set()
        for item in catalogue_index.values():
            categories.add(item.category)
            currencies.add(item.unit_price.currency)
        if currency is None:
            if len(currencies) > 1:
                raise PromotionCurrencyError(f"catalogue mixes currencies {sorted(currencies)}; pass currency=")
            currency = next(iter(currencies)) if currencies else None
        seen: set[str] = set()
        by_sku: dict[str, list[Promotion]] = {}
        by_category: dict[str, list[Promotion]] = {}
        basket_level: list[Promotion] = []
        for promo in promotions:
            if not isinstance(promo, Promotion):
                raise InvalidPromotionError(f"not a promotion: {promo!r}")
            pid = promo.promotion_id
            if pid in seen:
                raise DuplicatePromotionError(f"promotion id {pid!r} appears twice")
            seen.add(pid)
            for amount in promo.amounts():
                if currency is None:
                    currency = amount.currency
                elif amount.currency != currency:
                    raise PromotionCurrencyError(
                        f"promotion {pid}: amount {amount} is not in the catalogue's currency {currency}"
                    )
            if not promo.ITEM_LEVEL:
                basket_level.append(promo)
                continue
            for sku in promo.scope_skus:
                if sku not in catalogue_index:
                    raise UnknownReferenceError(f"promotion {pid} refers to unknown SKU {sku!r}")
                by_sku.setdefault(sku, []).append(promo)
            for cat in promo.scope_categories:
                if cat not in categories:
                    raise UnknownReferenceError(f"promotion {pid} refers to unknown category {cat!r}")
                by_category.setdefault(cat, []).append(promo)
        return cls(
            currency,
            tuple(promotions),
            {k: tuple(v) for k, v in by_sku.items()},
            {k: tuple(v) for k, v in by_category.items()},
            tuple(basket_level),
        )

    def __len__(self) -> int:
        return len(self.promotions)

    def get(self, promotion_id: str) -> Promotion | None:
        for promo in self.promotions:
            if promo.promotion_id == promotion_id:
                return promo
        return None
