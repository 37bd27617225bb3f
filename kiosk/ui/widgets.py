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


# -- checkout widgets ---------------------------------------------------------------------------
from collections.abc import Sequence  # noqa: E402

from kivy.graphics.texture import Texture  # noqa: E402
from kivy.properties import ListProperty, ObjectProperty  # noqa: E402
from kivy.uix.gridlayout import GridLayout  # noqa: E402
from kivy.uix.image import Image  # noqa: E402
from kivy.uix.recycleview.views import RecycleDataViewBehavior  # noqa: E402

__all__ += ["ItemTile", "KeyPad", "QrImage", "Toast", "qr_pixels", "qr_texture"]

KEY_LABELS = {"<": "\u2190", "C": "C", " ": "\u2423"}


class KeyPad(GridLayout):
    """An on-screen keypad or keyboard: one button per entry of ``keys`` (``<`` deletes, ``C``
    clears, ``" "`` is a space). Dispatches ``on_key(key)``; each button carries its ``key``
    so a test driver can find it."""

    keys = ListProperty([])
    key_height = NumericProperty(_T.button_height)
    key_font_size = NumericProperty(_T.font_button)
    space_text = StringProperty("Space")
    rows_needed = NumericProperty(0)
    __events__ = ("on_key",)

    def on_keys(self, _instance: object, keys: Sequence[str]) -> None:
        self.rows_needed = -(-len(keys) // max(int(self.cols or 1), 1))
        self.clear_widgets()
        for key in keys:
            label = self.space_text if key == " " else KEY_LABELS.get(key, key)
            # the space key's word is long: it takes the smaller theme size, never one in between
            size = min(self.key_font_size, _T.font_secondary) if key == " " else self.key_font_size
            button = KioskButton(text=label, height=self.key_height, font_size=size)
            button.key = key
            button.bind(on_release=lambda b: self.dispatch("on_key", b.key))
            self.add_widget(button)

    def on_cols(self, _instance: object, cols: int | None) -> None:
        self.rows_needed = -(-len(self.keys) // max(int(cols or 1), 1))

    def on_space_text(self, _instance: object, text: str) -> None:
        for child in self.children:
            if getattr(child, "key", None) == " ":
                child.text = text

    def on_key(self, key: str) -> None:
        """A key was touched."""

    def button(self, key: str) -> KioskButton:
        for child in self.children:
            if getattr(child, "key", None) == key:
                return child
        raise KeyError(key)


def qr_pixels(matrix: Sequence[Sequence[bool]], module_px: int) -> bytes:
    """RGB bytes of a QR matrix (``True`` = dark), ``module_px`` pixels a module, bottom row
    first as Kivy's textures take them. Plain bytes: the UI never loads NumPy for a QR."""
    dark, light = b"\x00\x00\x00" * module_px, b"\xff\xff\xff" * module_px
    rows = [b"".join(dark if module else light for module in row) * module_px for row in reversed(matrix)]
    return b"".join(rows)


def qr_texture(payload: str, *, module_px: int = 8) -> Texture:
    """A crisp black-on-white texture of ``payload`` as a QR code (UI thread only)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(border=2, error_correction=ERROR_CORRECT_M)
    code.add_data(payload)
    code.make(fit=True)
    matrix = code.get_matrix()
    side = len(matrix) * module_px
    texture = Texture.create(size=(side, side), colorfmt="rgb")
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    texture.blit_buffer(qr_pixels(matrix, module_px), colorfmt="rgb", bufferfmt="ubyte")
    return texture


class QrImage(Image):
    """Shows ``payload`` as a QR code (nothing while it is empty)."""

    payload = StringProperty("")

    def on_payload(self, _instance: object, payload: str) -> None:
        self.texture = qr_texture(payload) if payload else None
        self.opacity = 1 if payload else 0


class ItemTile(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):
    """An item of the lookup grid: its picture, or a coloured tile with its initial; name, price.

    A view of the grid's RecycleView: the grid makes only the tiles in sight and fills them
    from its data, so a category of a hundred items costs a screenful of tiles, not a hundred
    (each tile's widgets, textures and vertices are about 0.7 MB under a software renderer).
    A touch calls ``choose(sku)``.
    """

    sku = StringProperty("")
    name = StringProperty("")
    price_text = StringProperty("")
    initial = StringProperty("")
    picture = StringProperty("")
    tile_colour = ColorProperty(_T.brand)
    choose = ObjectProperty(None, allownone=True)

    def on_release(self) -> None:
        if self.choose is not None:
            self.choose(self.sku)


class Toast(KioskLabel):
    """A short message for the shopper over the bottom of the screen; hidden when empty."""


__all__ += ["CategoryButton"]


class CategoryButton(KioskButton):
    code = StringProperty("")
    selected = BooleanProperty(False)


__all__ += ["TopBar"]


class TopBar(BoxLayout):
    """A screen's top bar: its title on the left, the help button on the right."""

    title = StringProperty("")
    help_text = StringProperty("")
    __events__ = ("on_help",)

    def on_help(self) -> None:
        """The help button was touched."""
