"""Demo data for the kiosk UI: a simulated basket, as the checkout engine would push it.

This is a simulator of the engine's output for demos and UI tests, not pricing logic: the
amounts below are written out by hand and add up.
"""

from __future__ import annotations

from retail.money import Money

from kiosk.viewmodels.formatting import quantity_text, weight_text
from kiosk.viewmodels.kiosk import KioskViewModel
from kiosk.viewmodels.scan import LineView

__all__ = ["DEMO_SHOP_NAME", "demo_basket", "demo_kiosk_view_model", "push_demo_basket"]

DEMO_SHOP_NAME = "Greenleaf Market 绿叶超市"


def _cny(text: str) -> Money:
    return Money.of(text, "CNY")


def demo_basket() -> tuple[list[LineView], Money, int, Money]:
    """Five simulated lines (one weighed, one with a saving), the total, item count, savings."""
    lines = [
        LineView.priced("L1", "Whole milk 1 L", quantity_text(2, _cny("6.50")), _cny("13.00"), name_zh="全脂牛奶 1升"),
        LineView.priced(
            "L2", "Bananas (loose)", weight_text(456, _cny("12.80")), _cny("5.84"), name_zh="香蕉（散装）"
        ),
        LineView.priced(
            "L3",
            "Jasmine rice 5 kg",
            quantity_text(1, _cny("49.90")),
            _cny("39.90"),
            _cny("10.00"),
            name_zh="茉莉香米 5公斤",
        ),
        LineView.priced("L4", "Green tea 500 ml", quantity_text(3, _cny("3.50")), _cny("10.50"), name_zh="绿茶 500毫升"),
        LineView.priced("L5", "Free-range eggs ×10", quantity_text(1, _cny("15.80")), _cny("15.80"), name_zh="散养鸡蛋 10枚"),
    ]
    total = _cny("85.04")  # 13.00 + 5.84 + 39.90 + 10.50 + 15.80
    item_count = 8  # 2 + 1 (weighed) + 1 + 3 + 1
    return lines, total, item_count, _cny("10.00")


def push_demo_basket(view_model: KioskViewModel) -> None:
    lines, total, count, savings = demo_basket()
    view_model.scan.show_basket(lines, total, count, savings)


def demo_kiosk_view_model() -> KioskViewModel:
    return KioskViewModel(shop_name=DEMO_SHOP_NAME, currency="CNY")
