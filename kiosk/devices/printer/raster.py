"""Receipt text drawn as pixels on the printer's grid, with the Noto Sans Mono CJK font.

Used two ways: to print Chinese on printers without a Chinese font (``chinese_mode="image"``),
and to preview a whole receipt layout as a PNG a person can look at. One column is 12 dots and
a line 24 dots, like the printer's font A; wide characters take two columns
(:func:`kiosk.receipt.text.char_width`), so the picture lines up exactly like the paper.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kiosk.devices.printer.errors import PrinterConfigError
from kiosk.receipt.layout import DOTS_PER_COLUMN, Align, BarcodeBlock, FeedBlock, QrBlock, ReceiptBlock, TextLine
from kiosk.receipt.text import char_width, display_width

__all__ = ["CJK_FONT", "CJK_FONT_BOLD", "LINE_DOTS", "render_preview", "render_text_line"]

log = logging.getLogger(__name__)

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FONT_BOLD = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
_MONO_SC_INDEX = 7  # "Noto Sans Mono CJK SC" inside the collection: Latin 1/2 em, CJK 1 em
LINE_DOTS = 24


@lru_cache(maxsize=8)
def _font(bold: bool, size: int, regular: Path = CJK_FONT, bold_path: Path = CJK_FONT_BOLD) -> ImageFont.FreeTypeFont:
    path = bold_path if bold and bold_path.exists() else regular
    try:
        return ImageFont.truetype(str(path), size, index=_MONO_SC_INDEX)
    except OSError as exc:
        raise PrinterConfigError(
            f"cannot load the CJK font {path} (install fonts-noto-cjk): {exc}"
        ) from exc


def _draw_text(draw: ImageDraw.ImageDraw, text: str, x0: int, y0: int, *, bold: bool, scale: int) -> None:
    font = _font(bold, 22 * scale)
    cell = DOTS_PER_COLUMN * scale
    x = x0
    for ch in text:
        w = char_width(ch)
        if w == 0:
            continue
        if ch != " ":
            draw.text((x + cell * w / 2, y0 + LINE_DOTS * scale / 2), ch, font=font, fill=0, anchor="mm")
        x += cell * w


def _aligned_x(line: TextLine, width_chars: int) -> int:
    scale = 2 if line.double else 1
    cols = width_chars // scale
    gap = max(0, cols - display_width(line.text))
    if line.align is Align.CENTER:
        return (gap // 2) * DOTS_PER_COLUMN * scale
    if line.align is Align.RIGHT:
        return gap * DOTS_PER_COLUMN * scale
    return 0


def render_text_line(line: TextLine, width_chars: int) -> Image.Image:
    """One text line as a 1-bit image the full paper width (alignment applied)."""
    scale = 2 if line.double else 1
    img = Image.new("L", (width_chars * DOTS_PER_COLUMN, LINE_DOTS * scale), 255)
    _draw_text(ImageDraw.Draw(img), line.text, _aligned_x(line, width_chars), 0, bold=line.bold, scale=scale)
    return img.point(lambda v: 0 if v < 140 else 255, mode="1")


def _qr_image(data: str, module_dots: int) -> Image.Image:
    import qrcode

    qr = qrcode.QRCode(box_size=module_dots, border=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.make_image().get_image().convert("L")


def _barcode_image(data: str, module_dots: int, height_dots: int) -> Image.Image:
    """CODE128 bars drawn from the python-barcode module pattern (no text, which we draw)."""
    import barcode

    code = barcode.get("code128", data)
    pattern = code.build()[0]
    img = Image.new("L", (len(pattern) * module_dots, height_dots), 255)
    draw = ImageDraw.Draw(img)
    for i, bit in enumerate(pattern):
        if bit == "1":
            draw.rectangle([i * module_dots, 0, (i + 1) * module_dots - 1, height_dots - 1], fill=0)
    return img


def render_preview(blocks: list[ReceiptBlock], width_chars: int, *, margin: int = 16) -> Image.Image:
    """The whole receipt as a greyscale picture, the paper width plus a margin."""
    paper = width_chars * DOTS_PER_COLUMN
    pieces: list[Image.Image] = []
    for block in blocks:
        if isinstance(block, TextLine):
            pieces.append(render_text_line(block, width_chars).convert("L"))
        elif isinstance(block, FeedBlock):
            pieces.append(Image.new("L", (paper, LINE_DOTS * block.lines), 255))
        elif isinstance(block, QrBlock):
            pieces.append(_centered(_qr_image(block.data, block.module_dots), paper))
        elif isinstance(block, BarcodeBlock):
            bars = _barcode_image(block.data, block.module_dots, block.height_dots)
            pieces.append(_centered(bars, paper))
            pieces.append(render_text_line(TextLine(block.data, align=Align.CENTER), width_chars).convert("L"))
    height = sum(p.height for p in pieces) + 2 * margin
    out = Image.new("L", (paper + 2 * margin, height), 255)
    y = margin
    for piece in pieces:
        out.paste(piece, (margin, y))
        y += piece.height
    ImageDraw.Draw(out).rectangle([0, 0, out.width - 1, out.height - 1], outline=180)
    return out


def _centered(img: Image.Image, paper: int) -> Image.Image:
    canvas = Image.new("L", (paper, img.height), 255)
    canvas.paste(img, (max(0, (paper - img.width) // 2), 0))
    return canvas
