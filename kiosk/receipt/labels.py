"""Receipt labels in English and Simplified Chinese."""

from __future__ import annotations

from kiosk.receipt.data import PaymentMethod
from kiosk.receipt.errors import ReceiptError

__all__ = ["LABELS", "label", "payment_label"]

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "sale": "Sale",
        "seq": "No.",
        "kiosk": "Kiosk",
        "lane": "Lane",
        "tel": "Tel",
        "tax_id": "Tax ID",
        "subtotal": "Subtotal",
        "savings": "Savings",
        "total_savings": "You saved",
        "total": "Total",
        "tax": "Tax",
        "tax_rate": "Rate",
        "net": "Net",
        "payment": "Paid",
        "change": "Change",
        "member": "Member",
        "points": "Points",
        "points_earned": "Points earned",
        "points_balance": "Points balance",
        "approved": "Approved",
        "attendant": "Attendant",
        "items": "Items",
        "e_receipt": "Scan for your e-receipt",
        "returns": "Keep this receipt for returns",
        "thank_you": "Thank you",
        "test_page": "Printer test page",
        "reprint": "REPRINT",
    },
    "zh": {
        "sale": "单号",
        "seq": "流水号",
        "kiosk": "自助机",
        "lane": "通道",
        "tel": "电话",
        "tax_id": "税号",
        "subtotal": "小计",
        "savings": "优惠",
        "total_savings": "共优惠",
        "total": "合计",
        "tax": "税",
        "tax_rate": "税率",
        "net": "净额",
        "payment": "实付",
        "change": "找零",
        "member": "会员",
        "points": "积分",
        "points_earned": "本次积分",
        "points_balance": "积分余额",
        "approved": "已核准",
        "attendant": "店员",
        "items": "件数",
        "e_receipt": "扫码获取电子小票",
        "returns": "退换货请保留此小票",
        "thank_you": "谢谢惠顾",
        "test_page": "打印机测试页",
        "reprint": "补打",
    },
}

_PAYMENTS: dict[str, dict[PaymentMethod, str]] = {
    "en": {
        PaymentMethod.CASH: "Cash",
        PaymentMethod.CARD: "Card",
        PaymentMethod.MOBILE: "Mobile",
        PaymentMethod.STORED_VALUE: "Stored value",
        PaymentMethod.VOUCHER: "Voucher",
    },
    "zh": {
        PaymentMethod.CASH: "现金",
        PaymentMethod.CARD: "银行卡",
        PaymentMethod.MOBILE: "移动支付",
        PaymentMethod.STORED_VALUE: "储值",
        PaymentMethod.VOUCHER: "代金券",
    },
}


def label(language: str, key: str) -> str:
    try:
        return LABELS[language][key]
    except KeyError:
        raise ReceiptError(f"no receipt label {key!r} in {language!r}") from None


def payment_label(language: str, method: PaymentMethod) -> str:
    try:
        return _PAYMENTS[language][method]
    except KeyError:
        raise ReceiptError(f"no payment label for {method!r} in {language!r}") from None
