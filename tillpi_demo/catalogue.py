"""The demo shop's data: a few hundred bilingual products, promotions and members.

Deterministic (seeded), pure, and built from retail/'s own types, so the demo exercises the
same code a real shop does. GTINs carry the 69 (China) prefix with valid check digits; produce
has PLUs and is sold by weight; the deli sells variable-measure labels (prefix 21, price).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time

from retail.barcodes import gtin_check_digit, make_variable_measure, normalize_gtin
from retail.catalogue import CatalogueItem, SoldBy, TaxClass
from retail.money import Money
from retail.promotions import (
    BuyXGetY,
    FixedPrice,
    MemberPrice,
    MultiBuy,
    PercentOff,
    Promotion,
    SpendAndSave,
    SpendTier,
    TimeWindow,
)

__all__ = ["DemoMember", "DemoShop", "build_demo_shop"]

CURRENCY = "CNY"
FOOD = TaxClass("food", 900)
STANDARD = TaxClass("standard", 1300)

# category, English, Chinese, base price (fen), unit weight g (None: weighed), tax, min age
_BASES: tuple[tuple[str, str, str, int, int | None, TaxClass, int], ...] = (
    ("dairy", "Milk", "牛奶", 1190, 1040, FOOD, 0),
    ("dairy", "Yoghurt", "酸奶", 650, 420, FOOD, 0),
    ("dairy", "Cheese", "奶酪", 2890, 210, FOOD, 0),
    ("dairy", "Butter", "黄油", 2290, 260, FOOD, 0),
    ("bakery", "Bread", "面包", 890, 420, FOOD, 0),
    ("bakery", "Croissant", "牛角包", 650, 90, FOOD, 0),
    ("bakery", "Steamed buns", "馒头", 590, 500, FOOD, 0),
    ("drinks", "Green tea", "绿茶", 350, 560, STANDARD, 0),
    ("drinks", "Mineral water", "矿泉水", 200, 570, STANDARD, 0),
    ("drinks", "Orange juice", "橙汁", 1290, 1080, STANDARD, 0),
    ("drinks", "Cola", "可乐", 300, 350, STANDARD, 0),
    ("drinks", "Coffee", "咖啡", 1590, 280, STANDARD, 0),
    ("snacks", "Potato chips", "薯片", 790, 110, STANDARD, 0),
    ("snacks", "Chocolate", "巧克力", 1290, 110, STANDARD, 0),
    ("snacks", "Biscuits", "饼干", 990, 320, STANDARD, 0),
    ("snacks", "Sunflower seeds", "瓜子", 890, 260, STANDARD, 0),
    ("staples", "Rice", "大米", 4990, 5050, FOOD, 0),
    ("staples", "Instant noodles", "方便面", 450, 120, FOOD, 0),
    ("staples", "Soy sauce", "酱油", 1590, 560, FOOD, 0),
    ("staples", "Cooking oil", "食用油", 6990, 1900, FOOD, 0),
    ("staples", "Flour", "面粉", 2490, 2520, FOOD, 0),
    ("household", "Tissues", "纸巾", 1990, 800, STANDARD, 0),
    ("household", "Dish soap", "洗洁精", 1290, 1100, STANDARD, 0),
    ("household", "Laundry liquid", "洗衣液", 3990, 2100, STANDARD, 0),
    ("alcohol", "Beer", "啤酒", 690, 560, STANDARD, 18),
    ("alcohol", "Rice wine", "黄酒", 2590, 1000, STANDARD, 18),
    ("alcohol", "Baijiu", "白酒", 12800, 1100, STANDARD, 18),
)
_VARIANTS: tuple[tuple[str, str, int], ...] = (
    ("", "", 100), ("Large", "大包装", 180), ("Family pack", "家庭装", 260), ("Light", "清淡", 105),
    ("Organic", "有机", 150), ("Classic", "经典", 95), ("Premium", "精选", 170), ("Mini", "迷你", 60),
    ("Original", "原味", 100), ("Value", "实惠装", 80),
)
_BRANDS: tuple[tuple[str, str], ...] = (
    ("Greenleaf", "绿叶"), ("Sunrise", "朝阳"), ("Golden Field", "金田"), ("River", "江河"),
)
_PRODUCE: tuple[tuple[str, str, str, int], ...] = (
    ("4011", "Bananas", "香蕉", 698), ("4131", "Apples", "苹果", 1280), ("4012", "Oranges", "橙子", 990),
    ("4062", "Cucumbers", "黄瓜", 590), ("4087", "Tomatoes", "西红柿", 790), ("4072", "Potatoes", "土豆", 390),
    ("4665", "Bok choy", "小白菜", 690), ("4068", "Spring onions", "大葱", 890), ("4608", "Garlic", "大蒜", 1490),
    ("4562", "Carrots", "胡萝卜", 450), ("4430", "Pineapple", "菠萝", 890), ("3283", "Pears", "梨", 1090),
    ("4022", "Grapes", "葡萄", 1990), ("4040", "Plums", "李子", 1590), ("4799", "Ginger", "生姜", 1290),
    ("4615", "Chinese cabbage", "大白菜", 290), ("4783", "Lotus root", "莲藕", 1190), ("4593", "Mushrooms", "蘑菇", 1890),
)
_DELI: tuple[tuple[str, str, str, int], ...] = (
    ("10001", "Roast duck", "烤鸭", 6800), ("10002", "Char siu", "叉烧", 7800), ("10003", "Salted chicken", "盐焗鸡", 5600),
    ("10004", "Braised beef", "卤牛肉", 12800), ("10005", "Sushi box", "寿司盒", 3900), ("10006", "Dumplings", "饺子", 2800),
)


@dataclass(frozen=True, slots=True)
class DemoMember:
    member_id: str
    name: str
    phone: str
    birthday: date
    level: str


@dataclass(frozen=True, slots=True)
class DemoShop:
    """Everything a demo shop sells and knows."""

    store_id: str
    name_en: str
    name_zh: str
    items: tuple[CatalogueItem, ...]
    promotions: tuple[Promotion, ...]
    members: tuple[DemoMember, ...]
    deli_labels: tuple[str, ...]  # sample variable-measure label barcodes (price-embedded)

    def scannable_gtins(self) -> list[str]:
        return [i.gtins[0] for i in self.items if i.gtins]


def _gtin13(n: int) -> str:
    body = f"69{n:010d}"
    return body + str(gtin_check_digit(body))


def build_demo_shop(store_id: str = "demo", *, seed: int = 7) -> DemoShop:
    rng = random.Random(seed)
    items: list[CatalogueItem] = []
    n = 1000
    for b, (cat, en, zh, price, weight, tax, age) in enumerate(_BASES):
        for v, (ven, vzh, pct) in enumerate(_VARIANTS):
            brand_en, brand_zh = _BRANDS[(b + v) % len(_BRANDS)]
            n += 1
            unit = max(100, (price * pct // 100) // 10 * 10 - 10 * (v % 2))
            items.append(
                CatalogueItem(
                    sku=f"{cat[:3]}-{b:02d}{v:02d}",
                    name_en=" ".join(p for p in (brand_en, ven, en) if p),
                    name_zh=f"{brand_zh}{vzh}{zh}",
                    unit_price=Money(unit, CURRENCY),
                    category=cat,
                    gtins=(normalize_gtin(_gtin13(n)),),
                    tax_class=tax,
                    min_age=age,
                    unit_weight_g=None if weight is None else max(20, weight * pct // 100),
                    weight_tolerance_g=25,
                    cost_price=Money(unit * rng.randint(55, 80) // 100, CURRENCY),
                )
            )
    for plu, en, zh, per_kg in _PRODUCE:
        items.append(
            CatalogueItem(
                sku=f"veg-{plu}", name_en=en, name_zh=zh, unit_price=Money(per_kg, CURRENCY),
                category="produce", plu=plu, sold_by=SoldBy.WEIGHT, tax_class=FOOD,
                cost_price=Money(per_kg * 60 // 100, CURRENCY),
            )
        )
    labels: list[str] = []
    for ref, en, zh, per_kg in _DELI:
        items.append(
            CatalogueItem(
                sku=f"deli-{ref}", name_en=en, name_zh=zh, unit_price=Money(per_kg, CURRENCY),
                category="deli", plu=ref[-4:], sold_by=SoldBy.WEIGHT, tax_class=FOOD,
                cost_price=Money(per_kg * 55 // 100, CURRENCY),
            )
        )
        labels.append(make_variable_measure("21", ref, price_minor=per_kg * rng.randint(2, 6) // 10))
    skus = [i.sku for i in items]
    promotions: tuple[Promotion, ...] = (
        MultiBuy(promotion_id="p-drinks-3for2", name_en="Drinks 3 for 2", name_zh="饮料买三付二",
                 categories=("drinks",), quantity=3, pay_for=2),
        PercentOff(promotion_id="p-snacks-20", name_en="Snacks 20% off", name_zh="零食八折",
                   categories=("snacks",), percent_bp=2000),
        BuyXGetY(promotion_id="p-bakery-b2g1", name_en="Bakery buy 2 get 1", name_zh="烘焙买二送一",
                 categories=("bakery",), buy=2, get=1),
        MemberPrice(promotion_id="p-member-rice", name_en="Member price rice", name_zh="会员价大米",
                    skus=tuple(s for s in skus if s.startswith("sta-16"))[:3], price=Money(3990, CURRENCY)),
        FixedPrice(promotion_id="p-milk-deal", name_en="Milk deal", name_zh="牛奶特价",
                   skus=(skus[0],), price=Money(990, CURRENCY)),
        PercentOff(promotion_id="p-produce-evening", name_en="Evening produce 30% off", name_zh="晚市蔬果七折",
                   categories=("produce",), percent_bp=3000,
                   window=TimeWindow(start_time=time(19, 0), end_time=time(22, 0))),
        SpendAndSave(promotion_id="p-spend", name_en="Spend ¥100 save ¥10", name_zh="满100减10",
                     tiers=(SpendTier(Money(10000, CURRENCY), Money(1000, CURRENCY)),
                            SpendTier(Money(20000, CURRENCY), Money(2500, CURRENCY)))),
        PercentOff(promotion_id="p-coupon-household", name_en="Coupon: household 15% off", name_zh="家居券八五折",
                   categories=("household",), percent_bp=1500, coupon_code="CLEAN15"),
    )
    members = tuple(
        DemoMember(
            member_id=f"M{1000 + i}", name=f"Member {i}", phone=f"138{rng.randint(0, 99_999_999):08d}",
            birthday=date(1960 + rng.randint(0, 45), rng.randint(1, 12), rng.randint(1, 28)),
            level=("standard", "silver", "gold")[i % 3],
        )
        for i in range(40)
    )
    return DemoShop(store_id=store_id, name_en="Greenleaf Market", name_zh="绿叶超市", items=tuple(items),
                    promotions=promotions, members=members, deli_labels=tuple(labels))
