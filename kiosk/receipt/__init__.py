"""The receipt as a pure document and its layout (no I/O).

Fill a :class:`ReceiptData`, then ``layout_receipt(data, width_chars=48)`` gives the blocks a
printer adapter renders (see :mod:`kiosk.devices.printer`).
"""

from kiosk.receipt.data import (
    LANGUAGES,
    Approval,
    MemberInfo,
    Payment,
    PaymentMethod,
    ReceiptData,
    ReceiptLine,
    Saving,
    ShopHeader,
    TaxLine,
    mask_member_id,
)
from kiosk.receipt.errors import ReceiptError
from kiosk.receipt.labels import LABELS, label, payment_label
from kiosk.receipt.layout import (
    WIDTHS,
    Align,
    BarcodeBlock,
    FeedBlock,
    QrBlock,
    ReceiptBlock,
    TextLine,
    format_rate,
    format_weight,
    layout_receipt,
    layout_test_page,
)
from kiosk.receipt.text import char_width, display_width, pad, truncate, wrap

__all__ = [
    "LABELS", "LANGUAGES", "WIDTHS", "Align", "Approval", "BarcodeBlock", "FeedBlock", "MemberInfo",
    "Payment", "PaymentMethod", "QrBlock", "ReceiptBlock", "ReceiptData", "ReceiptError",
    "ReceiptLine", "Saving", "ShopHeader", "TaxLine", "TextLine", "char_width", "display_width",
    "format_rate", "format_weight", "label", "layout_receipt", "layout_test_page",
    "mask_member_id", "pad", "payment_label", "truncate", "wrap",
]
