"""Receipts byte-exact on python-escpos ``Dummy``, in English and Chinese.

Key parts are built here from the ESC/POS commands; whole receipts are compared with golden
files in tests/printer/golden/. After a deliberate layout change, regenerate them with

    TILLPI_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/printer/test_escpos_bytes.py -k golden -p no:cacheprovider

and review the PNG previews (tests/printer/test_preview.py) before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from escpos.printer import Dummy

from kiosk.devices.printer import EscposReceiptPrinter, render_to_bytes
from kiosk.receipt import Align, BarcodeBlock, FeedBlock, QrBlock, TextLine, layout_receipt
from tests.printer.samples import sample_receipt

GOLDEN = Path(__file__).parent / "golden"

ESC_INIT = b"\x1b\x40"
CENTER = b"\x1b\x61\x01"
LEFT = b"\x1b\x61\x00"
BOLD_ON, BOLD_OFF = b"\x1b\x45\x01", b"\x1b\x45\x00"
DOUBLE, NORMAL = b"\x1d\x21\x11", b"\x1d\x21\x00"
CP437 = b"\x1b\x74\x00"
FS_AND, FS_DOT = b"\x1c\x26", b"\x1c\x2e"  # enter / leave Chinese character mode
FEED_AND_CUT = b"\x1b\x64\x06" + b"\x1d\x56\x00"
YEN = b"\x9d"  # ¥ in code page 437


def gb(text: str) -> bytes:
    return FS_AND + text.encode("gb18030") + FS_DOT


def test_chinese_double_size_centred_line_is_exact_bytes():
    out = render_to_bytes([TextLine("合计 ¥12.80", Align.CENTER, bold=True, double=True)])
    assert out == (
        ESC_INIT
        + DOUBLE + BOLD_ON + CENTER
        + gb("合计")
        + CP437 + b" " + YEN + b"12.80"
        + b"\n"
        + NORMAL + BOLD_OFF + LEFT
        + FEED_AND_CUT
    )


def test_english_line_needs_no_chinese_mode():
    out = render_to_bytes([TextLine("Total ¥5.84")])
    assert out == ESC_INIT + CP437 + b"Total " + YEN + b"5.84\n" + FEED_AND_CUT
    assert FS_AND not in out


def test_style_is_sent_only_when_it_changes():
    out = render_to_bytes([TextLine("a", bold=True), TextLine("b", bold=True), TextLine("c")])
    assert out == ESC_INIT + BOLD_ON + CP437 + b"a\n" + b"b\n" + BOLD_OFF + b"c\n" + FEED_AND_CUT


def test_sale_id_barcode_is_code128_set_b_centred():
    out = render_to_bytes([BarcodeBlock("K01-000042")], cut=False)
    data = b"{BK01-000042"
    assert out == (
        ESC_INIT + CENTER
        + b"\x1d\x68\x40"  # GS h 64: height
        + b"\x1d\x77\x02"  # GS w 2: module width
        + b"\x1d\x66\x00"  # GS f 0: HRI font A
        + b"\x1d\x48\x02"  # GS H 2: HRI below
        + b"\x1d\x6b\x49" + bytes([len(data)]) + data  # GS k 73 n data
        + CP437 + b"\n"
        + LEFT
    )


def test_e_receipt_qr_is_native_gs_k_with_the_url():
    url = "https://r.example.cn/K01-000042"
    out = render_to_bytes([QrBlock(url, module_dots=6)], cut=False)
    store = b"\x1d(k" + (len(url) + 3).to_bytes(2, "little") + b"1P0" + url.encode()
    assert out.startswith(ESC_INIT + CENTER + b"\x1d(k\x04\x001A2\x00")  # model 2
    assert b"\x1d(k\x03\x001C\x06" in out  # module size 6 dots
    assert b"\x1d(k\x03\x001E1" in out  # error correction M
    assert store in out
    assert b"\x1d(k\x03\x001Q0" in out  # print the stored symbol


def test_feed_block_feeds_lines():
    assert render_to_bytes([FeedBlock(2)], cut=False) == ESC_INIT + CP437 + b"\n\n"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_receipt_key_parts_in_bytes(language):
    out = EscposReceiptPrinter(Dummy()).render_receipt(sample_receipt(language))
    assert out.startswith(ESC_INIT + DOUBLE + BOLD_ON + CENTER)
    thanks = gb("谢谢惠顾") if language == "zh" else b"Thank you"
    assert out.endswith(BOLD_ON + thanks + b"\n" + BOLD_OFF + LEFT + FEED_AND_CUT)
    assert gb("鲜果角") in out  # the Chinese shop name prints on both receipts
    if language == "zh":
        # 小计 is 4 columns, ¥117.34 is 7: 37 spaces put the amount at the right edge
        assert gb("小计") + b" " * 37 + YEN + b"117.34\n" in out
        assert gb("香蕉") + b" " * 39 + YEN + b"5.84\n" in out
        # weighed line: × is full width in Chinese mode
        assert b"  0.456 kg " + gb("×") + b" " + YEN + b"12.80/kg\n" in out
        assert gb("找零") in out and gb("现金") in out and gb("谢谢惠顾") in out
    else:
        assert b"Subtotal" + b" " * 33 + YEN + b"117.34\n" in out
        assert b"Change" + b" " * 36 + YEN + b"12.56\n" in out
        assert b"Member" + b" " * 31 + b"138****5678\n" in out
    assert b"\x1d\x6b\x49\x0c{BK01-000042" in out


def test_image_mode_prints_chinese_as_raster_and_never_enters_chinese_mode():
    printer = EscposReceiptPrinter(Dummy(), chinese_mode="image")
    out = printer.render_receipt(sample_receipt("zh"))
    assert FS_AND not in out
    assert "小计".encode("gb18030") not in out
    chinese_lines = sum(1 for b in layout_receipt(sample_receipt("zh")) if isinstance(b, TextLine)
                        and any(ord(c) > 0x2E80 for c in b.text))
    raster = b"\x1d\x76\x30"  # GS v 0
    assert out.count(raster) >= chinese_lines
    # a raster line is the paper width: 576 dots = 72 bytes per row
    assert raster + b"\x00" + (72).to_bytes(2, "little") in out
    assert CP437 + b"Fresh Corner\n" in out  # lines without Chinese stay text


def test_image_qr_option_sends_a_raster_not_gs_k():
    out = EscposReceiptPrinter(Dummy(), qr_native=False).render_receipt(sample_receipt("en"))
    assert b"\x1d(k" not in out
    assert b"\x1d\x76\x30" in out


@pytest.mark.parametrize("language, width", [("en", 48), ("zh", 48), ("zh", 32)])
def test_whole_receipt_matches_golden_bytes(language, width):
    out = EscposReceiptPrinter(Dummy(), width_chars=width).render_receipt(sample_receipt(language))
    path = GOLDEN / f"receipt_{language}_{width}.bin"
    if os.environ.get("TILLPI_REGEN_GOLDEN"):
        path.write_bytes(out)
    assert path.exists(), f"missing golden file {path}; see this module's docstring"
    assert out == path.read_bytes()


def test_rendering_is_independent_of_what_the_printer_printed_before():
    dummy = Dummy()
    dummy.text("Prix: 5 €\n")  # leaves python-escpos on another code page
    printer = EscposReceiptPrinter(dummy)
    assert printer.render_receipt(sample_receipt("en")) == EscposReceiptPrinter(Dummy()).render_receipt(
        sample_receipt("en"))


def decode_escpos_text(data: bytes) -> list[str]:
    """A small independent ESC/POS reader: the text lines a printer would print (CP437 outside
    Chinese mode, GB18030 inside ``FS & ... FS .``); barcodes and QR codes are skipped."""
    lines: list[str] = []
    current = ""
    chinese = False
    i = 0
    three = {b"\x1ba", b"\x1bE", b"\x1bt", b"\x1bd", b"\x1d!", b"\x1dh", b"\x1dw", b"\x1df", b"\x1dH", b"\x1dV"}
    while i < len(data):
        two = data[i:i + 2]
        if two == b"\x1b@":
            i += 2
        elif two in three:
            i += 3
        elif two == FS_AND:
            chinese, i = True, i + 2
        elif two == FS_DOT:
            chinese, i = False, i + 2
        elif two == b"\x1dk":
            i += 4 + data[i + 3]
        elif data[i:i + 3] == b"\x1d(k":
            i += 5 + int.from_bytes(data[i + 3:i + 5], "little")
        elif data[i:i + 1] == b"\n":
            lines.append(current)
            current, i = "", i + 1
        elif chinese:
            current += data[i:i + 2].decode("gb18030")
            i += 2
        else:
            current += data[i:i + 1].decode("cp437")
            i += 1
    return lines


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("width", [48, 32])
def test_printed_text_decodes_back_to_the_layout(language, width):
    data = sample_receipt(language)
    out = EscposReceiptPrinter(Dummy(), width_chars=width).render_receipt(data)
    printed = [line for line in decode_escpos_text(out) if line]
    laid_out = [b.text for b in layout_receipt(data, width) if isinstance(b, TextLine) and b.text]
    assert printed == laid_out
