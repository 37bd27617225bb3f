"""Receipt blocks to ESC/POS, through the python-escpos API.

The one place where receipt blocks become printer bytes; the adapter and the simulator both
use it. A receipt is rendered into a fresh ``escpos.printer.Dummy`` (same profile as the
target) and sent to the device in one write, so a failure while rendering never leaves half a
receipt on the paper.

Chinese text, ``chinese_mode``:

- ``gb18030`` (default): each run of wide characters (see :func:`kiosk.receipt.text.char_width`)
  is sent as ``FS &`` (enter Chinese character mode), the GB18030 bytes written raw, ``FS .``
  (leave it). python-escpos's own text path (``MagicEncode``) only recognises
  ``U+4E00..U+9FA5`` and then writes the *whole* string as GB18030 without ``FS &``, which
  mangles the ``¥`` and punctuation on most printers; so narrow text goes through
  ``Escpos.text()`` (code-page switching) and wide runs through ``_raw()``.
- ``image``: a line with any wide character is drawn with the Noto Sans Mono CJK font
  (:mod:`kiosk.devices.printer.raster`) and printed as a raster image (``GS v 0``), for
  printers without a Chinese font. Lines without wide characters stay text.

Text style is tracked and only changes are sent: ``ESC a n`` alignment, ``ESC E n`` bold,
``GS ! n`` size (``GS !`` scales Chinese characters too; ``ESC !`` would not).
"""

from __future__ import annotations

import contextlib
import io
import logging
from enum import Enum
from typing import Iterable, Iterator

from escpos.constants import QR_ECLEVEL_M
from escpos.capabilities import get_profile
from escpos.escpos import Escpos
from escpos.magicencode import MagicEncode
from escpos.printer import Dummy

from kiosk.devices.printer.errors import PrinterConfigError
from kiosk.receipt.layout import Align, BarcodeBlock, FeedBlock, QrBlock, ReceiptBlock, TextLine
from kiosk.receipt.text import char_width

__all__ = ["CHINESE_ON", "CHINESE_OFF", "ChineseMode", "render_blocks", "render_to_bytes", "split_runs"]

log = logging.getLogger(__name__)

CHINESE_ON = b"\x1c\x26"  # FS &
CHINESE_OFF = b"\x1c\x2e"  # FS .


class ChineseMode(str, Enum):
    GB18030 = "gb18030"
    IMAGE = "image"


def split_runs(text: str) -> list[tuple[bool, str]]:
    """Split ``text`` into ``(wide, run)`` pieces: runs of double-width characters and others."""
    runs: list[tuple[bool, str]] = []
    for ch in text:
        wide = char_width(ch) == 2
        if runs and runs[-1][0] == wide:
            runs[-1] = (wide, runs[-1][1] + ch)
        else:
            runs.append((wide, ch))
    return runs


@contextlib.contextmanager
def _quiet(what: str) -> Iterator[None]:
    """python-escpos print()s notes (which barcode renderer it picked, a profile without a
    media width); library code here must not print, so they go to the debug log instead."""
    with contextlib.redirect_stdout(io.StringIO()) as said:
        yield
    if said.getvalue().strip():
        log.debug("python-escpos (%s): %s", what, said.getvalue().strip())


class _Writer:
    """Writes blocks to one python-escpos printer, tracking the text style it has set."""

    def __init__(self, printer: Escpos, width_chars: int, chinese_mode: ChineseMode, qr_native: bool) -> None:
        self.p = printer
        self.width = width_chars
        self.mode = chinese_mode
        self.qr_native = qr_native
        self.align = Align.LEFT
        self.bold = False
        self.double = False

    # -- style (only changes are sent; ESC @ leaves left, not bold, normal size) ------------
    def style(self, *, align: Align | None = None, bold: bool | None = None, double: bool | None = None) -> None:
        if double is not None and double != self.double:
            size = 2 if double else 1
            self.p.set(custom_size=True, width=size, height=size)
            self.double = double
        if bold is not None and bold != self.bold:
            self.p.set(bold=bold)
            self.bold = bold
        if align is not None and align != self.align:
            self.p.set(align=align.value)
            self.align = align

    # -- blocks -------------------------------------------------------------------------------
    def text_line(self, line: TextLine) -> None:
        runs = split_runs(line.text)
        if self.mode is ChineseMode.IMAGE and any(wide for wide, _ in runs):
            from kiosk.devices.printer.raster import render_text_line

            self.style(align=Align.LEFT)
            with _quiet("image"):
                self.p.image(render_text_line(line, self.width), impl="bitImageRaster", center=False)
            return
        self.style(align=line.align, bold=line.bold, double=line.double)
        for wide, run in runs:
            if wide:
                self.p._raw(CHINESE_ON + run.encode("gb18030") + CHINESE_OFF)
            else:
                self.p.text(run)
        self.p.text("\n")

    def barcode(self, block: BarcodeBlock) -> None:
        if block.symbology.upper() != "CODE128":
            raise PrinterConfigError(f"unsupported receipt barcode {block.symbology!r}")
        self.style(align=Align.CENTER, bold=False, double=False)
        with _quiet("barcode"):
            self.p.barcode(
                "{B" + block.data,
                "CODE128",
                height=block.height_dots,
                width=block.module_dots,
                pos="BELOW",
                font="A",
                align_ct=False,
                function_type="B",
            )
        self.p.text("\n")

    def qr(self, block: QrBlock) -> None:
        self.style(align=Align.CENTER, bold=False, double=False)
        if self.qr_native:
            self.p.qr(block.data, ec=QR_ECLEVEL_M, size=block.module_dots, native=True)
            self.p.text("\n")
        else:
            with _quiet("qr"):
                self.p.qr(block.data, ec=QR_ECLEVEL_M, size=block.module_dots, native=False,
                          image_arguments={"impl": "bitImageRaster", "center": False})

    def feed(self, block: FeedBlock) -> None:
        self.p.ln(block.lines)


def render_blocks(
    printer: Escpos,
    blocks: Iterable[ReceiptBlock],
    *,
    width_chars: int = 48,
    chinese_mode: ChineseMode | str = ChineseMode.GB18030,
    qr_native: bool = True,
    cut: bool = True,
) -> None:
    """Write ``ESC @``, the blocks, and a feed-and-cut to ``printer``."""
    try:
        mode = ChineseMode(chinese_mode)
    except ValueError:
        raise PrinterConfigError(f"chinese_mode must be gb18030 or image, not {chinese_mode!r}") from None
    printer.hw("INIT")
    # ESC @ resets the printer's code page; make python-escpos re-send its choice.
    printer.magic.encoding = None
    w = _Writer(printer, width_chars, mode, qr_native)
    for block in blocks:
        if isinstance(block, TextLine):
            w.text_line(block)
        elif isinstance(block, BarcodeBlock):
            w.barcode(block)
        elif isinstance(block, QrBlock):
            w.qr(block)
        elif isinstance(block, FeedBlock):
            w.feed(block)
        else:
            raise PrinterConfigError(f"unknown receipt block {block!r}")
    w.style(align=Align.LEFT, bold=False, double=False)
    if cut:
        printer.cut()


def render_to_bytes(
    blocks: Iterable[ReceiptBlock],
    *,
    profile: object = None,
    width_chars: int = 48,
    chinese_mode: ChineseMode | str = ChineseMode.GB18030,
    qr_native: bool = True,
    cut: bool = True,
) -> bytes:
    """The exact ESC/POS bytes of ``blocks``, rendered on a fresh ``Dummy``."""
    buffer = Dummy()
    if profile is not None:
        # python-escpos's get_profile() takes a profile *name*; hand over the target's profile
        # object and rebuild the code-page encoder for it.
        buffer.profile = profile if not isinstance(profile, str) else get_profile(profile)
        buffer.magic = MagicEncode(buffer)
    render_blocks(buffer, blocks, width_chars=width_chars, chinese_mode=chinese_mode, qr_native=qr_native, cut=cut)
    return buffer.output
