"""Sample receipts for the printer tests, in English and Chinese."""

from __future__ import annotations

from datetime import datetime

from kiosk.receipt import (
    Approval,
    MemberInfo,
    Payment,
    PaymentMethod,
    ReceiptData,
    ReceiptLine,
    Saving,
    ShopHeader,
    TaxLine,
)
from retail.money import Money


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


SHOP = ShopHeader(
    name_en="Fresh Corner",
    name_zh="鲜果角",
    address="88 Nanjing Rd, Shanghai",
    phone="021-5555 0100",
    tax_id="91310000MA1K4XYZ2B",
)

_NAMES = {
    "en": ("Milk 1L", "Bananas", "Extra virgin olive oil gift box, two bottles of 500 ml", "Buy 2 save 10%"),
    "zh": ("纯牛奶 1L", "香蕉", "进口特级初榨橄榄油礼盒装五百毫升两瓶", "第二件九折"),
}


def sample_receipt(language: str = "en", *, sale_id: str = "K01-000042", **overrides: object) -> ReceiptData:
    milk, bananas, oil, promo = _NAMES[language]
    fields: dict[str, object] = dict(
        shop=SHOP,
        kiosk_id="K01",
        lane="3",
        sale_id=sale_id,
        seq=42,
        timestamp=datetime(2026, 1, 5, 9, 30, 12),
        language=language,
        lines=(
            ReceiptLine(milk, cny("12.50"), 1, cny("12.50")),
            ReceiptLine(bananas, cny("5.84"), weight_g=456, price_per_kg=cny("12.80")),
            ReceiptLine(oil, cny("99.00"), 2, cny("49.50")),
        ),
        subtotal=cny("117.34"),
        savings=(Saving(promo, cny("9.90")),),
        total_savings=cny("9.90"),
        total=cny("107.44"),
        taxes=(TaxLine(1300, cny("95.08"), cny("12.36")),),
        payments=(Payment(PaymentMethod.CASH, cny("120.00")),),
        change=cny("12.56"),
        member=MemberInfo.from_raw("13812345678", 107, 1234),
        approvals=(Approval("age check" if language == "en" else "年龄核验", "Li Na"),),
        footer="Returns within 7 days" if language == "en" else "七天内凭小票退换",
        e_receipt_url=f"https://r.example.cn/{sale_id}",
    )
    fields.update(overrides)
    return ReceiptData(**fields)  # type: ignore[arg-type]
