"""Benchmark: price a 100-line basket against 500 active promotions, 1,000 times.

Run with ``make bench-pricing`` (or ``python tests/bench/bench_pricing.py``). Prints readable
figures, then as its last line one JSON object:
``{"median_ms": ..., "p99_ms": ..., "baseline_median_ms": ...}``.

The baseline is plain summation of the same lines' prices in the same run, so the figures can
be compared across machines. Everything is generated from a fixed seed.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from datetime import date, datetime, time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from retail.basket import Basket  # noqa: E402
from retail.catalogue import CatalogueItem, SoldBy, TaxClass  # noqa: E402
from retail.money import Money  # noqa: E402
from retail.pricing import MemberContext, price_basket  # noqa: E402
from retail.promotions import (  # noqa: E402
    BasketPercentOff,
    BuyXGetY,
    FixedPrice,
    MemberPrice,
    MultiBuy,
    PercentOff,
    Promotion,
    PromotionSet,
    SpendAndSave,
    SpendTier,
    TimeWindow,
)

CUR = "CNY"
AT = datetime(2026, 3, 14, 18, 30)  # a Saturday evening
TAX = (TaxClass("standard", 1300), TaxClass("food", 900), TaxClass("zero", 0))


def build_catalogue(rng: random.Random, size: int = 5000, categories: int = 40) -> dict[str, CatalogueItem]:
    items: dict[str, CatalogueItem] = {}
    for k in range(size):
        sku = f"SKU{k:05d}"
        by_weight = rng.random() < 0.1
        price = rng.randint(100, 8000) if by_weight else rng.randint(50, 20000)
        items[sku] = CatalogueItem(
            sku=sku,
            name_en=f"Product {k}",
            name_zh=f"商品{k}",
            unit_price=Money(price, CUR),
            category=f"cat{k % categories:02d}",
            sold_by=SoldBy.WEIGHT if by_weight else SoldBy.UNIT,
            tax_class=TAX[k % 3],
        )
    return items


def build_promotions(rng: random.Random, catalogue: dict[str, CatalogueItem], count: int = 500) -> list[Promotion]:
    """500 active promotions, a mix of every type, concentrated on a 'promo range' of SKUs."""
    promo_range = [s for s in list(catalogue)[:800]]
    unit_range = [s for s in promo_range if not catalogue[s].by_weight]
    window = TimeWindow(start_date=date(2026, 3, 1), end_date=date(2026, 3, 31), weekdays=(6, 7),
                        start_time=dtime(8, 0), end_time=dtime(22, 0))
    out: list[Promotion] = []
    for k in range(count):
        pid = f"P{k:04d}"
        common = dict(promotion_id=pid, name_en=f"Deal {k}", name_zh=f"优惠{k}", priority=rng.randint(0, 5),
                      window=window if k % 3 == 0 else None)
        kind = k % 20
        if kind in (0, 1, 2, 3):
            sku = rng.choice(promo_range)
            out.append(PercentOff(skus=(sku,), percent_bp=rng.choice((500, 1000, 2000, 3000)), **common))
        elif kind in (4, 5, 6):
            sku = rng.choice(promo_range)
            price = catalogue[sku].unit_price.minor * rng.choice((70, 80, 90)) // 100
            out.append(FixedPrice(skus=(sku,), price=Money(price, CUR), **common))
        elif kind in (7, 8):
            sku = rng.choice(promo_range)
            price = catalogue[sku].unit_price.minor * 85 // 100
            out.append(MemberPrice(skus=(sku,), price=Money(price, CUR), **common))
        elif kind in (9, 10):
            skus = tuple(rng.sample(unit_range, 3))
            price = sum(catalogue[s].unit_price.minor for s in skus) * 2 // 3
            out.append(MultiBuy(skus=skus, quantity=3, price=Money(price, CUR), **common))
        elif kind in (11, 12):
            out.append(MultiBuy(skus=tuple(rng.sample(unit_range, 2)), quantity=3, pay_for=2, **common))
        elif kind in (13, 14):
            out.append(BuyXGetY(skus=tuple(rng.sample(unit_range, 2)), buy=2, get=1,
                                percent_bp=rng.choice((5000, 10000)), **common))
        elif kind == 15:
            out.append(PercentOff(categories=(f"cat{rng.randrange(40):02d}",), percent_bp=500, **common))
        elif kind == 16:
            out.append(PercentOff(skus=(rng.choice(promo_range),), percent_bp=500, stackable=True,
                                  coupon_code=f"C{k}", **common))
        elif kind == 17:
            out.append(BasketPercentOff(percent_bp=rng.choice((200, 500)), min_spend=Money(rng.randint(5, 50) * 1000, CUR),
                                        exclusive_group=f"g{k % 4}", **common))
        elif kind == 18:
            base = rng.randint(5, 20) * 1000
            out.append(SpendAndSave(tiers=(SpendTier(Money(base, CUR), Money(base // 10, CUR)),
                                           SpendTier(Money(base * 2, CUR), Money(base // 4, CUR))),
                                    exclusive_group=f"g{k % 4}", **common))
        else:
            # member-only spend-and-save: most compete in one group, one in five stacks
            stack = k % 100 == 19
            out.append(SpendAndSave(tiers=(SpendTier(Money(30000, CUR), Money(1000, CUR)),), stackable=stack,
                                    exclusive_group="default" if stack else "member", member_only=True, **common))
    return out


def build_basket(rng: random.Random, catalogue: dict[str, CatalogueItem], lines: int = 100) -> Basket:
    basket = Basket(CUR)
    skus = list(catalogue)
    unit_promo = [s for s in skus[:800] if not catalogue[s].by_weight]
    unit_other = [s for s in skus[800:] if not catalogue[s].by_weight]
    weighed = [s for s in skus if catalogue[s].by_weight]
    chosen = rng.sample(unit_promo, 45) + rng.sample(unit_other, 35)
    for sku in chosen:
        basket.add_item(catalogue[sku], rng.randint(1, 5))
    for sku in rng.sample(weighed, 20):
        basket.add_weighed(catalogue[sku], rng.randint(100, 2500))
    if len(basket.active_lines) != lines:
        raise SystemExit(f"basket has {len(basket.active_lines)} lines, wanted {lines}")
    return basket


def _pct(sorted_values: list[float], q: float) -> float:
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20260314)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    catalogue = build_catalogue(rng)
    promos = build_promotions(rng, catalogue)
    t0 = time.perf_counter()
    pset = PromotionSet.compile(promos, catalogue)
    compile_ms = (time.perf_counter() - t0) * 1000
    basket = build_basket(rng, catalogue)
    coupons = frozenset(p.coupon_code for p in promos if p.coupon_code)
    member = MemberContext("M0001", "gold")

    def price() -> object:
        return price_basket(basket, pset, at=AT, member=member, coupons=coupons)

    def baseline() -> int:
        return sum(line.gross_minor for line in basket.lines if not line.voided)

    first = price_basket(basket, pset, at=AT, member=member, coupons=coupons)
    for _ in range(50):  # warm up
        price()
        baseline()

    times: list[float] = []
    base_times: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(args.runs):
        t = clock()
        price()
        times.append((clock() - t) / 1e6)
        t = clock()
        baseline()
        base_times.append((clock() - t) / 1e6)
    times.sort()
    base_times.sort()
    median = statistics.median(times)
    p99 = _pct(times, 0.99)
    base_median = statistics.median(base_times)

    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    print(f"catalogue {len(catalogue)} SKUs; {len(pset)} active promotions; compile {compile_ms:.1f} ms")
    print(f"basket {len(first.lines)} lines: subtotal {first.subtotal.format()}, "
          f"savings {first.total_savings.format()} from {len(first.savings_by_promotion)} promotions, "
          f"total {first.total.format()}")
    print(f"price_basket x{args.runs}: median {median:.3f} ms, p99 {p99:.3f} ms, "
          f"min {times[0]:.3f} ms, max {times[-1]:.3f} ms")
    print(f"baseline (plain sum of line prices) x{args.runs}: median {base_median:.4f} ms")
    print(f"target: median <= 2 ms -> {'met' if median <= 2.0 else 'NOT met'}")
    print(json.dumps({"median_ms": round(median, 4), "p99_ms": round(p99, 4), "baseline_median_ms": round(base_median, 4)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
