"""Display width: CJK characters take two columns; wrapping and truncation respect it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.receipt.text import char_width, display_width, pad, truncate, wrap

MIXED = st.text(alphabet=st.sampled_from(list("abc XYZ 12.¥") + list("中文小票合计找零") + ["×"]), max_size=80)


def test_cjk_characters_take_two_columns_and_latin_one():
    assert display_width("合计") == 4
    assert display_width("Total") == 5
    assert display_width("纯牛奶 1L") == 9
    assert char_width("¥") == 1  # the yen sign is narrow (printed from the code page)
    assert char_width("×") == 2  # ambiguous width: full width in the printer's Chinese font
    assert char_width("\u0301") == 0  # combining accent


def test_pad_aligns_by_display_width_not_by_len():
    assert pad("合计", 8, "right") == "    合计"
    assert pad("合计", 8) == "合计    "
    assert display_width(pad("鲜果角", 11, "center")) == 11


def test_truncate_never_splits_a_wide_character():
    cut = truncate("进口特级初榨橄榄油", 7)
    assert cut == "进口.."
    assert display_width(cut) <= 7


def test_wrap_breaks_chinese_anywhere_and_english_at_spaces():
    assert wrap("进口特级初榨橄榄油礼盒", 8) == ["进口特级", "初榨橄榄", "油礼盒"]
    assert wrap("Extra virgin olive oil", 12) == ["Extra virgin", "olive oil"]


def test_wrap_with_max_lines_marks_the_cut():
    lines = wrap("Extra virgin olive oil gift box two bottles", 12, max_lines=2)
    assert len(lines) == 2
    assert lines[-1].endswith("..")


@settings(max_examples=200, deadline=None)
@given(text=MIXED, width=st.integers(min_value=2, max_value=48))
def test_wrapped_and_truncated_text_always_fits_the_width(text, width):
    assert all(display_width(line) <= width for line in wrap(text, width))
    assert display_width(truncate(text, width)) <= width
    assert display_width(pad(text, width)) == width
