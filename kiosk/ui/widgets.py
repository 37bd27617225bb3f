"""Shared widgets of the kiosk screens: buttons, the language switch, the help banner.

The look lives in ``widgets.kv``; these classes only declare the properties it binds to.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.ui.theme import DEFAULT_THEME

__all__ = ["HelpBanner", "KioskButton", "KioskLabel", "PrimaryButton", "SecondaryButton", "StatusPill"]

_T = DEFAULT_THEME


class KioskLabel(Label):
    """A label that wraps or shortens inside its box; ``halign`` and ``valign`` apply."""


class KioskButton(ButtonBehavior, Label):
    """A flat, rounded touch button at least 80 px tall. ``role`` picks the colours."""

    role = StringProperty("secondary")  # primary | secondary | inverse | outline
    enabled = BooleanProperty(True)
    bg_color = ColorProperty(_T.secondary_button)
    fg_color = ColorProperty(_T.on_secondary)
    radius = NumericProperty(_T.radius)

    def on_touch_down(self, touch):  # type: ignore[no-untyped-def]
        if not self.enabled:
            return self.collide_point(*touch.pos)  # swallow the touch, do nothing
        return super().on_touch_down(touch)


class PrimaryButton(KioskButton):
    pass


class SecondaryButton(KioskButton):
    pass


class StatusPill(KioskLabel):
    """A small, quiet status text for staff (e.g. offline); invisible when its text is empty."""


class HelpBanner(BoxLayout):
    """The banner that tells the shopper help is coming, with a button to cancel the call."""

    message = StringProperty("")
    cancel_text = StringProperty("")
    shown = BooleanProperty(False)
    __events__ = ("on_cancel",)

    def on_cancel(self) -> None:
        """The shopper cancelled the help call (the root acts on it)."""

    def on_touch_down(self, touch):  # type: ignore[no-untyped-def]
        if not self.shown:
            return False  # hidden: the screen underneath gets the touch
        return super().on_touch_down(touch) or self.collide_point(*touch.pos)

    def on_touch_up(self, touch):  # type: ignore[no-untyped-def]
        return super().on_touch_up(touch) if self.shown else False
