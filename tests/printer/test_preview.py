"""PNG previews of receipt layouts, for a person to look at (saved under screenshot_dir)."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from kiosk.devices.printer.raster import render_preview, render_text_line
from kiosk.receipt import TextLine, layout_receipt, layout_test_page
from tests.printer.samples import sample_receipt
from retail.clock import FakeClock


def ink_columns(img: Image.Image) -> tuple[int, int]:
    """Leftmost and rightmost x with ink."""
    box = ImageChops.invert(img.convert("L")).getbbox()
    assert box is not None, "nothing drawn"
    return box[0], box[2]


def test_wide_characters_fill_two_columns_on_the_grid():
    chinese = render_text_line(TextLine("合计"), 48)
    latin = render_text_line(TextLine("ab"), 48)
    assert chinese.size == latin.size == (576, 24)
    assert ink_columns(chinese)[1] > 36  # 2 wide characters reach into the 4th 12-dot column
    assert ink_columns(latin)[1] <= 24  # 2 narrow ones stay within 2 columns


def test_right_aligned_amounts_end_at_the_same_dot_in_both_languages():
    en = render_text_line(TextLine("Subtotal" + " " * 33 + "¥117.34"), 48)
    zh = render_text_line(TextLine("小计" + " " * 37 + "¥117.34"), 48)
    assert ink_columns(en)[1] == ink_columns(zh)[1]


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("width", [48, 32])
def test_receipt_preview_png(language, width, screenshot_dir):
    image = render_preview(layout_receipt(sample_receipt(language), width), width)
    path = screenshot_dir / f"receipt_{language}_{width}.png"
    image.save(path)
    assert image.width == width * 12 + 32
    assert image.height > 40 * 24  # header, lines, totals, codes
    assert Image.open(path).size == image.size


def test_test_page_preview_png(screenshot_dir):
    image = render_preview(layout_test_page("printer", FakeClock().now(), 48), 48)
    image.save(screenshot_dir / "test_page_48.png")
    assert image.width == 608
