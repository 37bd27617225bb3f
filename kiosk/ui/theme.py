"""The kiosk's look: colours, type sizes and touch sizes, in one place, free of Kivy.

Sizes are in pixels of the 1280×800 10" touchscreen. The rules the screens follow, and the
tests check:

* body text ≥ 28 px, totals ≥ 48 px, touch targets ≥ 80 px tall;
* every text of the sale screens uses one of the type sizes below, never a size in between:
  each size and weight in use opens its own Noto Sans CJK face, and each face holds about
  2.4 MB (its subroutines, glyph index and character map) for as long as the app runs;
* text/background pairs meet WCAG AAA contrast (≥ 7:1) for body text, ≥ 4.5:1 for large;
* the primary action sits bottom-right (one hand, right or left, reaches it from the side).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RGBA", "Theme", "DEFAULT_THEME", "contrast_ratio", "hex_colour"]

RGBA = tuple[float, float, float, float]


def hex_colour(text: str, alpha: float = 1.0) -> RGBA:
    """``"#0b6e69"`` → ``(r, g, b, a)`` in 0..1, as Kivy's ``Color`` takes it."""
    value = text.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"not a #rrggbb colour: {text!r}")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


def _luminance(colour: RGBA) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: RGBA, background: RGBA) -> float:
    """WCAG 2 contrast ratio of two opaque colours (1..21)."""
    a, b = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@dataclass(frozen=True, slots=True)
class Theme:
    # colours: a calm deep teal brand, warm off-white ground, near-black ink
    brand: RGBA = hex_colour("#0b5d5a")
    brand_dark: RGBA = hex_colour("#08423f")
    on_brand: RGBA = hex_colour("#ffffff")
    background: RGBA = hex_colour("#f6f5f1")
    surface: RGBA = hex_colour("#ffffff")
    divider: RGBA = hex_colour("#d9d6cf")
    ink: RGBA = hex_colour("#151515")
    ink_muted: RGBA = hex_colour("#4a4a4a")
    saving: RGBA = hex_colour("#9c1c14")  # a saving stands out in a deep red
    secondary_button: RGBA = hex_colour("#e6efee")
    on_secondary: RGBA = hex_colour("#08423f")
    disabled_button: RGBA = hex_colour("#c9ccca")
    on_disabled: RGBA = hex_colour("#4a4a4a")
    help_banner: RGBA = hex_colour("#fff4ce")
    on_help_banner: RGBA = hex_colour("#3b2f00")
    offline: RGBA = hex_colour("#8a5a00")
    # type sizes (px)
    font_small: int = 20  # staff-only status; never shopper text
    font_body: int = 30
    font_secondary: int = 28
    font_button: int = 34
    font_title: int = 44
    font_total: int = 64
    font_hero: int = 72
    font_start: int = 56  # also the amount being entered or weighed
    font_display: int = 110  # the live weight on the produce scale
    # touch and spacing (px)
    touch_min: int = 80
    button_height: int = 96
    primary_height: int = 120
    start_height: int = 180
    top_bar_height: int = 96
    padding: int = 24
    spacing: int = 16
    radius: int = 14
    line_height: int = 104  # a basket line: name over quantity
    line_saving_extra: int = 40  # a line with a saving under it

    def type_sizes(self) -> frozenset[int]:
        """The type sizes the screens may use (see the module docstring)."""
        return frozenset(getattr(self, name) for name in self.__slots__ if name.startswith("font_"))

    def text_pairs(self) -> dict[str, tuple[RGBA, RGBA]]:
        """The text/background pairs the screens use, for contrast checks."""
        return {
            "ink on background": (self.ink, self.background),
            "ink on surface": (self.ink, self.surface),
            "muted on surface": (self.ink_muted, self.surface),
            "saving on surface": (self.saving, self.surface),
            "on brand": (self.on_brand, self.brand),
            "on secondary": (self.on_secondary, self.secondary_button),
            "on help banner": (self.on_help_banner, self.help_banner),
        }


DEFAULT_THEME = Theme()
