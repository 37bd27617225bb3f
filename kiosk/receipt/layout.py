"""Receipt layout in pure code: a :class:`ReceiptData` becomes a list of blocks.

Columns are counted in display width (CJK characters take two columns, see
:mod:`kiosk.receipt.text`), so amounts line up under each other in English and Chinese alike.
A double-size line has half the columns. Widths: 48 columns on 80 mm paper, 32 on 58 mm
(12-dot font A on 576 and 384 dots).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from kiosk.receipt.data import ReceiptData, ReceiptLine
from kiosk.receipt.errors import ReceiptError
from kiosk.receipt.labels import label, payment_label
from kiosk.receipt.text import display_width, pad, truncate, wrap
from retail.money import Money

__all__ = [
    "Align",
    "BarcodeBlock",
    "DOTS_PER_COLUMN",
    "FeedBlock",
    "QrBlock",
    "ReceiptBlock",
    "TextLine",
    "WIDTHS",
    "format_rate",
    "format_weight",
    "layout_receipt",
    "layout_test_page",
]

WIDTHS = (48, 32)
DOTS_PER_COLUMN = 12
BARCODE_MODULE_DOTS = 2


class Align(str, Enum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True, slots=True)
class TextLine:
    """One printed line. ``double`` is double width and height (half the columns)."""

    text: str
    align: Align = Align.LEFT
    bold: bool = False
    double: bool = False


@dataclass(frozen=True, slots=True)
class BarcodeBlock:
    """A CODE128 barcode with its human-readable text below, centred."""

    data: str
    symbology: str = "CODE128"
    height_dots: int = 64
    module_dots: int = BARCODE_MODULE_DOTS


@dataclass(frozen=True, slots=True)
class QrBlock:
    """A QR code, centred. ``module_dots`` is the size of one QR module in printer dots."""

    data: str
    module_dots: int = 6


@dataclass(frozen=True, slots=True)
class FeedBlock:
    lines: int = 1


ReceiptBlock = TextLine | BarcodeBlock | QrBlock | FeedBlock


def format_weight(grams: int) -> str:
    """``456`` -> ``0.456 kg``."""
    sign = "-" if grams < 0 else ""
    g = abs(grams)
    return f"{sign}{g // 1000}.{g % 1000:03d} kg"


def format_rate(rate_bp: int) -> str:
    """Basis points as a percentage: ``1300`` -> ``13%``, ``650`` -> ``6.5%``."""
    whole, frac = divmod(rate_bp, 100)
    if frac == 0:
        return f"{whole}%"
    return f"{whole}.{frac:02d}".rstrip("0") + "%"


def code128_fits(data: str, width_chars: int, module_dots: int = BARCODE_MODULE_DOTS) -> bool:
    """Whether a CODE128 (set B) barcode of ``data`` fits across the paper."""
    modules = 11 * (len(data) + 3) + 2 + 20  # start, check, stop (13) and quiet zones
    return data.isascii() and data.isprintable() and modules * module_dots <= width_chars * DOTS_PER_COLUMN


class _Builder:
    def __init__(self, width: int, language: str, locale: str) -> None:
        self.width = width
        self.lang = language
        self.locale = locale
        self.blocks: list[ReceiptBlock] = []

    def money(self, m: Money) -> str:
        return m.format(self.locale)

    def line(self, text: str = "", *, align: Align = Align.LEFT, bold: bool = False, double: bool = False) -> None:
        limit = self.width // 2 if double else self.width
        self.blocks.append(TextLine(truncate(text, limit).rstrip(), align, bold, double))

    def centered(self, text: str, *, bold: bool = False, double: bool = False) -> None:
        limit = self.width // 2 if double else self.width
        for part in wrap(text, limit):
            self.line(part, align=Align.CENTER, bold=bold, double=double)

    def rule(self, ch: str = "-") -> None:
        self.line(ch * self.width)

    def two_col(self, left: str, right: str, *, bold: bool = False, double: bool = False) -> None:
        """``left`` flush left and ``right`` flush right on one line, or on two when too long."""
        width = self.width // 2 if double else self.width
        lw, rw = display_width(left), display_width(right)
        if lw + 1 + rw <= width:
            self.line(left + " " * (width - lw - rw) + right, bold=bold, double=double)
            return
        for part in wrap(left, width):
            self.line(part, bold=bold, double=double)
        self.line(pad(right, width, "right"), bold=bold, double=double)

    def item(self, name: str, amount: str, detail: str | None) -> None:
        """A sold line: name (wrapped to two lines at most) with the amount on the first line."""
        aw = display_width(amount)
        name_width = self.width - aw - 1
        names = wrap(name, name_width, max_lines=2)
        self.line(pad(names[0], name_width) + " " + amount)
        for extra in names[1:]:
            self.line(extra)
        if detail:
            self.line("  " + detail)


def _line_detail(b: _Builder, line: ReceiptLine) -> str | None:
    if line.weighed:
        ppk = line.price_per_kg
        if ppk is None:  # guarded in ReceiptLine; kept for type narrowing
            raise ReceiptError(f"line {line.name!r}: weighed line without price per kg")
        return f"{format_weight(line.weight_g or 0)} × {b.money(ppk)}/kg"
    if line.qty != 1 and line.unit_price is not None:
        return f"{line.qty} × {b.money(line.unit_price)}"
    return None


def _check_width(width_chars: int) -> None:
    if width_chars not in WIDTHS:
        raise ReceiptError(f"receipt width must be one of {WIDTHS} columns, not {width_chars}")


def _timestamp(ts: datetime, *, short: bool = False) -> str:
    return ts.strftime("%Y-%m-%d %H:%M" if short else "%Y-%m-%d %H:%M:%S")


def layout_receipt(data: ReceiptData, width_chars: int = 48) -> list[ReceiptBlock]:
    """Lay a receipt out for paper ``width_chars`` columns wide (48 on 80 mm, 32 on 58 mm)."""
    _check_width(width_chars)
    lang = data.language
    b = _Builder(width_chars, lang, data.locale)

    def L(key: str) -> str:  # noqa: N802 - reads like a label lookup
        return label(lang, key)

    # -- header ---------------------------------------------------------------------------
    own_name, other_name = (data.shop.name_zh, data.shop.name_en) if lang == "zh" else (
        data.shop.name_en, data.shop.name_zh)
    b.centered(own_name, bold=True, double=True)
    if other_name and other_name != own_name:
        b.centered(other_name)
    if data.shop.address:
        b.centered(data.shop.address)
    if data.shop.phone:
        b.centered(f"{L('tel')} {data.shop.phone}")
    if data.shop.tax_id:
        b.centered(f"{L('tax_id')} {data.shop.tax_id}")
    b.rule()
    b.two_col(f"{L('sale')} {data.sale_id}", _timestamp(data.timestamp, short=width_chars < 48))
    b.two_col(f"{L('kiosk')} {data.kiosk_id}  {L('lane')} {data.lane}", f"{L('seq')} {data.seq}")
    b.rule()

    # -- lines ----------------------------------------------------------------------------
    for line in data.lines:
        b.item(line.name, b.money(line.amount), _line_detail(b, line))
    b.rule()

    # -- totals ---------------------------------------------------------------------------
    b.two_col(L("subtotal"), b.money(data.subtotal))
    for saving in data.savings:
        b.two_col(f"{L('savings')}: {saving.name}", b.money(-saving.amount))
    if data.total_savings is not None and not data.total_savings.is_zero():
        b.two_col(L("total_savings"), b.money(-data.total_savings))
    b.two_col(L("total"), b.money(data.total), bold=True, double=True)
    b.rule()

    # -- payments -------------------------------------------------------------------------
    for payment in data.payments:
        name = payment_label(lang, payment.method)
        if payment.reference:
            name = f"{name} ({payment.reference})"
        b.two_col(name, b.money(payment.amount))
    if data.change is not None:
        b.two_col(L("change"), b.money(data.change), bold=True)

    # -- tax summary ----------------------------------------------------------------------
    if data.taxes:
        b.rule()
        col = 12 if width_chars >= 48 else 10
        first = width_chars - 2 * col
        b.line(pad(L("tax_rate"), first) + pad(L("net"), col, "right") + pad(L("tax"), col, "right"))
        for tax in data.taxes:
            b.line(
                pad(f"{L('tax')} {format_rate(tax.rate_bp)}", first)
                + pad(b.money(tax.net), col, "right")
                + pad(b.money(tax.tax), col, "right")
            )

    # -- member ---------------------------------------------------------------------------
    if data.member is not None:
        b.rule()
        b.two_col(L("member"), data.member.masked_id)
        if data.member.points_earned:
            b.two_col(L("points_earned"), f"{data.member.points_earned:+,d}")
        if data.member.points_balance is not None:
            b.two_col(L("points_balance"), f"{data.member.points_balance:,d}")

    # -- approvals ------------------------------------------------------------------------
    if data.approvals:
        b.rule()
        for approval in data.approvals:
            for part in wrap(f"{L('approved')}: {approval.reason} - {L('attendant')} {approval.attendant}",
                             width_chars):
                b.line(part)
    b.rule()

    # -- codes and footer -----------------------------------------------------------------
    if code128_fits(data.sale_id, width_chars):
        b.blocks.append(BarcodeBlock(data.sale_id))
    else:
        b.blocks.append(QrBlock(data.sale_id, module_dots=4))
    b.centered(L("returns"))
    if data.e_receipt_url:
        b.blocks.append(FeedBlock(1))
        b.blocks.append(QrBlock(data.e_receipt_url, module_dots=6 if width_chars >= 48 else 4))
        b.centered(L("e_receipt"))
    b.blocks.append(FeedBlock(1))
    if data.footer:
        for paragraph in data.footer.splitlines():
            b.centered(paragraph)
    b.centered(L("thank_you"), bold=True)
    return b.blocks


def layout_test_page(printer_name: str, when: datetime, width_chars: int = 48) -> list[ReceiptBlock]:
    """A self-test page: both languages, a column ruler, a full CJK line, a barcode and a QR."""
    _check_width(width_chars)
    b = _Builder(width_chars, "en", "en")
    b.centered(f"{label('en', 'test_page')} / {label('zh', 'test_page')}", bold=True)
    b.centered(printer_name)
    b.centered(_timestamp(when))
    b.rule("=")
    b.line("".join(str(i % 10) for i in range(1, width_chars + 1)))
    b.line(("中文打印测试" * 8)[: width_chars // 2])
    b.two_col(label("zh", "total"), "¥12.80")
    b.two_col(label("en", "total"), "¥12.80")
    b.two_col(format_weight(456) + " × ¥12.80/kg", "¥5.84")
    b.line("Double", bold=True, double=True)
    b.line("双倍", bold=True, double=True)
    b.rule("=")
    b.blocks.append(BarcodeBlock("TEST-0001"))
    b.blocks.append(QrBlock("https://example.invalid/tillpi/test", module_dots=4))
    b.centered(f"{label('en', 'thank_you')} {label('zh', 'thank_you')}")
    return b.blocks
