"""The theme's rules, checked without a window."""

import pytest

from kiosk.ui.env import DisplaySettings
from kiosk.ui.errors import UiSettingsError
from kiosk.ui.theme import DEFAULT_THEME, contrast_ratio, hex_colour


@pytest.mark.parametrize("pair", sorted(DEFAULT_THEME.text_pairs()))
def test_text_colours_meet_wcag_aaa_contrast(pair):
    foreground, background = DEFAULT_THEME.text_pairs()[pair]
    assert contrast_ratio(foreground, background) >= 7.0


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio(hex_colour("#000000"), hex_colour("#ffffff")) == pytest.approx(21.0)
    assert contrast_ratio(hex_colour("#777777"), hex_colour("#ffffff")) == pytest.approx(4.48, abs=0.01)


def test_sizes_follow_the_kiosk_rules():
    t = DEFAULT_THEME
    assert t.font_body >= 28 and t.font_secondary >= 28 and t.font_button >= 28
    assert t.font_total >= 48
    assert min(t.touch_min, t.button_height, t.primary_height, t.start_height) >= 80


def test_bad_colour_and_window_size_are_refused():
    with pytest.raises(ValueError):
        hex_colour("#abc")
    with pytest.raises(UiSettingsError):
        DisplaySettings(width=10, height=10)
