"""Price a basket: promotions, savings per line, tax. The one function every tier calls.

:func:`price_basket` is pure and exact (integers only): the same basket, promotions, ``at``,
member and coupons give the same result to the cent on a kiosk, the edge and HQ, whatever the
order in which the items were scanned.

Resolution rule (best outcome for the shopper, deterministic)
-------------------------------------------------------------

0. **Eligibility.** A promotion takes part when its time window contains ``at``, its coupon
   code (if any) was presented, and its member condition (if any) holds. Only lines in the
   promotion's scope count (SKUs or categories); label-price lines are priced by their label
   and take no item-level promotion.
1. **Canonical order.** Lines are sorted by SKU, kind, weight, label price, quantity, so
   nothing below depends on scan order. Where pieces are grouped (multibuy, buy X get Y) the
   pieces are ordered dearest first, then by SKU; the cheapest of a group are the free ones.
2. **Exclusive item promotions compete per piece.** Each piece (each weighed line counts as
   one piece) takes at most one exclusive item-level promotion. Greedy, best saving first:
   every eligible promotion is evaluated on the pieces still free; the one saving most is
   applied (ties: fewer pieces used, higher priority, smaller ``promotion_id``) and takes its
   pieces; promotions that shared those pieces are evaluated again (lazily, on a heap). For
   promotions on one SKU this picks, per item, the best applicable promotion; when a multibuy
   leaves pieces over (4 pieces, 3 for 2) another promotion may take the rest.
3. **Stackable item promotions** (percentages) then apply on top, in priority order, to what
   each line still costs.
4. **Basket promotions** work on the basket total after item promotions. Exclusive ones
   compete within their ``exclusive_group``: the group's best saving applies (ties: priority,
   then id); groups go in order of their highest priority, then name, each seeing the total
   the previous left. Stackable basket promotions apply after that, in priority order. A
   basket saving is spread over the lines in proportion to what they still cost (largest
   remainder), so every line's savings stay within its price.
5. **Tax** per rate on the lines' amounts after savings (:mod:`retail.tax`).

Known property of threshold promotions: removing an item can make the basket dearer when it
drops the basket below a threshold — spend-and-save, a basket percentage with ``min_spend``, a
multibuy priced below the sum of its other pieces, or a deal that gives more than one piece
of a group free (buy 1 get 2: drop the cheap third piece and the group, with its other free
piece, is gone). That is how such promotions work on every till. Percentages, fixed and
member prices, and one-free-piece deals (3 for 2, buy 2 get 1, Y % off the cheapest) never
make a smaller basket dearer (a property test checks this).
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, NamedTuple

from retail.basket import Basket, BasketLine, LineKind
from retail.catalogue import CatalogueItem
from retail.errors import PromotionError
from retail.money import Money
from retail.promotions import (
    BasketPercentOff,
    BuyXGetY,
    FixedPrice,
    MultiBuy,
    PercentOff,
    Promotion,
    PromotionCurrencyError,
    PromotionSet,
    SpendAndSave,
)
from retail.tax import TaxMode, TaxRateSummary, compute_tax

__all__ = [
    "LineSaving",
    "MemberContext",
    "PricedBasket",
    "PricedLine",
    "PricingError",
    "price_basket",
]

log = logging.getLogger(__name__)


class PricingError(PromotionError):
    """A basket cannot be priced with these arguments (or an internal invariant broke)."""


@dataclass(frozen=True, slots=True)
class MemberContext:
    """The member at the till, for member-only promotions."""

    member_id: str
    level: str = "member"


@dataclass(frozen=True, slots=True)
class LineSaving:
    """One promotion's saving on one line, named for the receipt and the screen."""

    line_id: str
    promotion_id: str
    name_en: str
    name_zh: str
    amount: Money

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class PricedLine(NamedTuple):
    """A basket line after pricing.

    ``gross`` is the price before promotions, ``savings`` what promotions took off, ``net`` =
    gross − savings (the shelf-price convention of the tax mode), ``tax`` this line's share of
    its rate's tax, and ``payable`` what the line costs the shopper: ``net`` when prices
    include tax, ``net + tax`` when tax is added on top. (An immutable named tuple: pricing
    builds a hundred of these per basket and a tuple is the cheapest immutable record.)
    """

    line_id: str
    item: CatalogueItem
    kind: LineKind
    quantity: int
    weight_g: int | None
    rate_bp: int
    currency: str
    gross_minor: int
    savings_minor: int
    net_minor: int
    tax_minor: int
    payable_minor: int
    savings_detail: tuple[tuple[str, int], ...]
    """``(promotion_id, amount_minor)`` per promotion, in the order applied."""
    promotion_names: Mapping[str, tuple[str, str]]
    """``promotion_id`` → ``(name_en, name_zh)``, shared by the basket's lines."""

    @property
    def sku(self) -> str:
        return self.item.sku

    @property
    def line_savings(self) -> tuple[LineSaving, ...]:
        """Each promotion's saving on this line, named for the receipt."""
        return tuple(
            LineSaving(self.line_id, pid, *self.promotion_names[pid], Money(amount, self.currency))
            for pid, amount in self.savings_detail
        )

    @property
    def gross(self) -> Money:
        return Money(self.gross_minor, self.currency)

    @property
    def savings(self) -> Money:
        return Money(self.savings_minor, self.currency)

    @property
    def net(self) -> Money:
        return Money(self.net_minor, self.currency)

    @property
    def tax(self) -> Money:
        return Money(self.tax_minor, self.currency)

    @property
    def payable(self) -> Money:
        return Money(self.payable_minor, self.currency)


@dataclass(frozen=True, slots=True)
class PricedBasket:
    """The priced basket. Invariants: the lines' ``payable`` add up to ``total`` (in inclusive
    mode so do their ``net``); the tax summary's gross adds up to ``total``; ``total`` ≥ 0;
    no line saves more than its price. ``lines`` are in scan order, voided lines left out."""

    currency: str
    tax_mode: TaxMode
    lines: tuple[PricedLine, ...]
    subtotal: Money
    total_savings: Money
    total: Money
    tax_summary: tuple[TaxRateSummary, ...]
    savings_by_promotion: Mapping[str, Money]

    @property
    def line_savings(self) -> tuple[LineSaving, ...]:
        """Every line's savings, lines in scan order."""
        return tuple(s for line in self.lines for s in line.line_savings)

    @property
    def total_tax(self) -> Money:
        return Money(sum(r.tax.minor for r in self.tax_summary), self.currency)

    def line(self, line_id: str) -> PricedLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise PricingError(f"no priced line {line_id!r}")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

_KIND_ORDER = {LineKind.UNIT: 0, LineKind.WEIGHED: 1, LineKind.LABEL_WEIGHT: 2, LineKind.LABEL_PRICE: 3}


def _canonical_key(line: BasketLine) -> tuple[object, ...]:
    return (
        line.item.sku,
        _KIND_ORDER[line.kind],
        line.weight_g or 0,
        line.label_price_minor or 0,
        line.item.unit_price.minor,
        line.quantity,
        line.line_id,
    )


def _allocate(amount: int, weights: list[int]) -> list[int]:
    """Split ``amount`` (≤ sum(weights)) in proportion to ``weights``; largest remainder, ties
    to the earlier weight. No share exceeds its weight."""
    total = sum(weights)
    if total <= 0:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    left = amount - sum(shares)
    if left:
        remainders = [amount * w % total for w in weights]
        # sorted() is stable with reverse=True too: equal remainders keep the earlier first
        for k in sorted(range(len(weights)), key=remainders.__getitem__, reverse=True)[:left]:
            shares[k] += 1
    return shares


def _runs(promo: Promotion, at: datetime, member: MemberContext | None, coupons: frozenset[str]) -> bool:
    if promo.coupon_code is not None and promo.coupon_code not in coupons:
        return False
    if promo.member_only:
        if member is None:
            return False
        if promo.member_levels and member.level not in promo.member_levels:
            return False
    window = promo.window
    if window is not None and not window.contains(at):
        return False
    return True


class _Engine:
    """Mutable working state of one pricing; lines in canonical order, amounts in minor units."""

    __slots__ = ("lines", "gross", "unit", "avail", "countable", "weight", "saved", "detail", "version")

    def __init__(self, lines: list[BasketLine]) -> None:
        self.lines = lines
        n = len(lines)
        self.gross = [line.gross_minor for line in lines]
        self.unit: list[int] = []
        self.avail: list[int] = []
        self.countable: list[bool] = []
        self.weight: list[int] = []
        for line, g in zip(lines, self.gross):
            kind = line.kind
            if kind is LineKind.UNIT:
                self.unit.append(line.item.unit_price.minor)
                self.avail.append(line.quantity)
                self.countable.append(True)
                self.weight.append(0)
            else:
                self.unit.append(g)
                self.avail.append(0 if kind is LineKind.LABEL_PRICE else 1)
                self.countable.append(False)
                self.weight.append(line.weight_g or 0)
        self.saved = [0] * n
        self.detail: list[dict[str, int] | None] = [None] * n
        self.version = [0] * n

    def credit(self, i: int, pid: str, amount: int) -> None:
        if amount <= 0:
            return
        self.saved[i] += amount
        d = self.detail[i]
        if d is None:
            self.detail[i] = {pid: amount}
        else:
            d[pid] = d.get(pid, 0) + amount

    # -- exclusive item-level evaluation: (saving, pieces used, [(i, used)], [(i, saving)]) --
    def evaluate(self, promo: Promotion, scope: list[int]) -> tuple[int, int, list[tuple[int, int]], list[tuple[int, int]]]:
        if isinstance(promo, PercentOff):
            return self._percent(promo.percent_bp, scope)
        if isinstance(promo, FixedPrice):  # MemberPrice too
            return self._fixed(promo.price.minor, scope)
        if isinstance(promo, MultiBuy):
            if promo.pay_for is not None:
                return self._groups_cheapest(scope, promo.quantity, promo.quantity - promo.pay_for, 10000)
            return self._groups_priced(scope, promo.quantity, promo.price.minor if promo.price else 0)
        if isinstance(promo, BuyXGetY):
            return self._groups_cheapest(scope, promo.buy + promo.get, promo.get, promo.percent_bp)
        raise PricingError(f"promotion {promo.promotion_id}: {type(promo).__name__} is not item-level")

    def _percent(self, bp: int, scope: list[int]) -> tuple[int, int, list[tuple[int, int]], list[tuple[int, int]]]:
        avail, unit = self.avail, self.unit
        total = pieces = 0
        used: list[tuple[int, int]] = []
        per: list[tuple[int, int]] = []
        for i in scope:
            a = avail[i]
            if a:
                amt = (a * unit[i] * bp * 2 + 10000) // 20000
                if amt > 0:
                    total += amt
                    pieces += a
                    used.append((i, a))
                    per.append((i, amt))
        return total, pieces, used, per

    def _fixed(self, price: int, scope: list[int]) -> tuple[int, int, list[tuple[int, int]], list[tuple[int, int]]]:
        avail, unit, countable = self.avail, self.unit, self.countable
        total = pieces = 0
        used: list[tuple[int, int]] = []
        per: list[tuple[int, int]] = []
        for i in scope:
            a = avail[i]
            if not a:
                continue
            if countable[i]:
                amt = a * (unit[i] - price)
            else:
                amt = self.gross[i] - (price * self.weight[i] * 2 + 1000) // 2000
            if amt > 0:
                total += amt
                pieces += a
                used.append((i, a))
                per.append((i, amt))
        return total, pieces, used, per

    def _pieces(self, scope: list[int]) -> list[int]:
        avail, unit, countable = self.avail, self.unit, self.countable
        order = sorted((-unit[i], i) for i in scope if countable[i] and avail[i])
        pieces: list[int] = []
        for _, i in order:
            pieces.extend([i] * avail[i])
        return pieces

    def _groups_cheapest(
        self, scope: list[int], size: int, cheap: int, bp: int
    ) -> tuple[int, int, list[tuple[int, int]], list[tuple[int, int]]]:
        pieces = self._pieces(scope)
        groups = len(pieces) // size
        if not groups:
            return 0, 0, [], []
        used: dict[int, int] = {}
        off: dict[int, int] = {}
        for k in range(groups):
            start = k * size
            for j in range(start, start + size):
                i = pieces[j]
                used[i] = used.get(i, 0) + 1
            for j in range(start + size - cheap, start + size):
                i = pieces[j]
                off[i] = off.get(i, 0) + 1
        unit = self.unit
        per = [(i, (n * unit[i] * bp * 2 + 10000) // 20000) for i, n in off.items()]
        total = sum(a for _, a in per)
        return total, groups * size, list(used.items()), per

    def _groups_priced(
        self, scope: list[int], size: int, price: int
    ) -> tuple[int, int, list[tuple[int, int]], list[tuple[int, int]]]:
        pieces = self._pieces(scope)
        groups = len(pieces) // size
        unit = self.unit
        used: dict[int, int] = {}
        per: dict[int, int] = {}
        total = pieces_used = 0
        for k in range(groups):
            group = pieces[k * size : (k + 1) * size]
            counts: dict[int, int] = {}
            for i in group:
                counts[i] = counts.get(i, 0) + 1
            value = sum(n * unit[i] for i, n in counts.items())
            saving = value - price
            if saving <= 0:
                break  # pieces are dearest first: later groups save no more
            idx = list(counts)
            shares = _allocate(saving, [counts[i] * unit[i] for i in idx])
            for i, share in zip(idx, shares):
                used[i] = used.get(i, 0) + counts[i]
                per[i] = per.get(i, 0) + share
            total += saving
            pieces_used += size
        return total, pieces_used, list(used.items()), list(per.items())


# --------------------------------------------------------------------------------------------
# the one entry point
# --------------------------------------------------------------------------------------------


def price_basket(
    basket: Basket,
    promotions: PromotionSet | None = None,
    *,
    at: datetime,
    member: MemberContext | None = None,
    coupons: frozenset[str] = frozenset(),
    tax_mode: TaxMode = TaxMode.INCLUSIVE,
) -> PricedBasket:
    """Price ``basket`` with ``promotions`` at local time ``at`` (see the module docstring)."""
    if not isinstance(basket, Basket):
        raise PricingError(f"price_basket needs a Basket, not {type(basket).__name__}")
    if not isinstance(at, datetime):
        raise PricingError(f"at must be a datetime, not {type(at).__name__}")
    if not isinstance(tax_mode, TaxMode):
        raise PricingError(f"tax_mode must be a TaxMode, not {tax_mode!r}")
    currency = basket.currency
    pset = promotions if promotions is not None else PromotionSet.empty()
    if pset.currency is not None and pset.currency != currency:
        raise PromotionCurrencyError(f"promotions are in {pset.currency}, the basket in {currency}")
    coupon_codes = frozenset(str(c).strip().upper() for c in coupons)

    active = [line for line in basket.lines if not line.voided]
    lines = sorted(active, key=_canonical_key)
    eng = _Engine(lines)
    n = len(lines)

    # -- which item-level promotions touch the basket, and on which lines -------------------
    scopes: dict[str, list[int]] = {}
    chosen: dict[str, Promotion] = {}
    skipped: set[str] = set()
    by_sku, by_category = pset.by_sku, pset.by_category
    if by_sku or by_category:
        for i, line in enumerate(lines):
            if line.kind is LineKind.LABEL_PRICE:
                continue
            item = line.item
            for bucket in (by_sku.get(item.sku, ()), by_category.get(item.category, ())):
                for promo in bucket:
                    pid = promo.promotion_id
                    scope = scopes.get(pid)
                    if scope is None:
                        if pid in skipped:
                            continue
                        if not _runs(promo, at, member, coupon_codes):
                            skipped.add(pid)
                            continue
                        scopes[pid] = [i]
                        chosen[pid] = promo
                    elif scope[-1] != i:
                        scope.append(i)

    # -- exclusive item promotions: lazy greedy, best saving first ---------------------------
    heap: list[tuple[int, int, int, str, int, list[tuple[int, int]], list[tuple[int, int]]]] = []
    stack_items: list[Promotion] = []
    version = eng.version
    for pid, promo in chosen.items():
        if promo.stackable:
            stack_items.append(promo)
            continue
        scope = scopes[pid]
        saving, pieces, used, per = eng.evaluate(promo, scope)
        if saving > 0:
            heap.append((-saving, pieces, -promo.priority, pid, 0, used, per))
    heapq.heapify(heap)
    while heap:
        neg, pieces, npri, pid, stamp, used, per = heapq.heappop(heap)
        scope = scopes[pid]
        current = sum(version[i] for i in scope)
        if current != stamp:
            saving, pieces, used, per = eng.evaluate(chosen[pid], scope)
            if saving > 0:
                heapq.heappush(heap, (-saving, pieces, npri, pid, current, used, per))
            continue
        for i, k in used:
            eng.avail[i] -= k
            version[i] += 1
        for i, amt in per:
            eng.credit(i, pid, amt)

    # -- stackable item promotions on what is left -------------------------------------------
    gross, saved = eng.gross, eng.saved
    for promo in sorted(stack_items, key=lambda p: (-p.priority, p.promotion_id)):
        bp = promo.percent_bp  # type: ignore[attr-defined]  # only percentages may stack
        pid = promo.promotion_id
        for i in scopes[pid]:
            left = gross[i] - saved[i]
            eng.credit(i, pid, (left * bp * 2 + 10000) // 20000)

    # -- basket promotions --------------------------------------------------------------------
    basket_promos = [p for p in pset.basket_level if _runs(p, at, member, coupon_codes)]
    basket_shares: list[tuple[str, list[int]]] = []
    if basket_promos and n:
        groups: dict[str, list[Promotion]] = {}
        stack_basket: list[Promotion] = []
        for promo in basket_promos:
            if promo.stackable:
                stack_basket.append(promo)
            else:
                groups.setdefault(promo.exclusive_group, []).append(promo)
        sequence: list[list[Promotion]] = [
            groups[g] for g in sorted(groups, key=lambda g: (-max(p.priority for p in groups[g]), g))
        ]
        sequence.extend([p] for p in sorted(stack_basket, key=lambda p: (-p.priority, p.promotion_id)))
        for members in sequence:
            remaining = sum(gross) - sum(saved)
            if remaining <= 0:
                break
            best: tuple[int, int, str] | None = None
            best_promo: Promotion | None = None
            for promo in members:
                saving = _basket_saving(promo, remaining)
                key = (-saving, -promo.priority, promo.promotion_id)
                if saving > 0 and (best is None or key < best):
                    best, best_promo = key, promo
            if best_promo is None or best is None:
                continue
            weights = [g - v for g, v in zip(gross, saved)]
            shares = _allocate(-best[0], weights)
            saved = [v + a for v, a in zip(saved, shares)]
            basket_shares.append((best_promo.promotion_id, shares))

    # -- tax and results ------------------------------------------------------------------------
    nets = [gross[i] - saved[i] for i in range(n)]
    rates = [line.item.tax_class.rate_bp for line in lines]
    tax = compute_tax(list(zip(rates, nets)), currency, tax_mode)
    inclusive = tax_mode is TaxMode.INCLUSIVE
    label: dict[str, tuple[str, str]] = {pid: (p.name_en, p.name_zh) for pid, p in chosen.items()}
    for promo in basket_promos:
        label[promo.promotion_id] = (promo.name_en, promo.name_zh)

    priced_by_id: dict[str, PricedLine] = {}
    by_promo: dict[str, int] = {}
    for i, line in enumerate(lines):
        if saved[i] > gross[i] or nets[i] < 0:
            raise PricingError(f"line {line.line_id}: savings {saved[i]} exceed its price {gross[i]}")
        d = eng.detail[i]
        details = tuple(d.items()) if d else ()
        if basket_shares:
            details += tuple([(pid, shares[i]) for pid, shares in basket_shares if shares[i]])
        t = tax.line_tax_minor[i]
        priced_by_id[line.line_id] = PricedLine(
            line.line_id,
            line.item,
            line.kind,
            line.quantity,
            line.weight_g,
            rates[i],
            currency,
            gross[i],
            saved[i],
            nets[i],
            t,
            nets[i] if inclusive else nets[i] + t,
            details,
            label,
        )
    priced = tuple(priced_by_id[line.line_id] for line in active)
    subtotal = sum(gross)
    total_savings = sum(saved)
    total = sum(p.payable_minor for p in priced)
    summary_gross = sum(r.gross.minor for r in tax.rates)
    if total != summary_gross or total < 0 or (inclusive and total != subtotal - total_savings):
        raise PricingError(f"totals do not reconcile: lines {total}, tax summary {summary_gross}")
    for d in eng.detail:
        if d:
            for pid, amt in d.items():
                by_promo[pid] = by_promo.get(pid, 0) + amt
    for pid, shares in basket_shares:
        by_promo[pid] = by_promo.get(pid, 0) + sum(shares)
    ordered_promos = sorted(by_promo)
    return PricedBasket(
        currency=currency,
        tax_mode=tax_mode,
        lines=priced,
        subtotal=Money(subtotal, currency),
        total_savings=Money(total_savings, currency),
        total=Money(total, currency),
        tax_summary=tax.rates,
        savings_by_promotion={pid: Money(by_promo[pid], currency) for pid in ordered_promos},
    )


def _basket_saving(promo: Promotion, remaining: int) -> int:
    if isinstance(promo, BasketPercentOff):
        if promo.min_spend is not None and remaining < promo.min_spend.minor:
            return 0
        return (remaining * promo.percent_bp * 2 + 10000) // 20000
    if isinstance(promo, SpendAndSave):
        saving = 0
        for tier in promo.tiers:
            if remaining >= tier.threshold.minor:
                saving = tier.saving.minor
            else:
                break
        return min(saving, remaining)
    raise PricingError(f"promotion {promo.promotion_id}: {type(promo).__name__} is not basket-level")
