"""Kivy's SDL2 text provider, made to let go of each label's pixels once they are handed over.

To draw a label, the provider renders its text into an SDL surface, copies the pixels into
the label's texture, and keeps the surface until the text is drawn again. That is a second
copy of every label's pixels (width × height × 4 bytes) that nothing reads: about 9 MB over
the screens of a sale, measured with heaptrack on the kiosk bench. Kivy offers no setting for
it, so :func:`release_text_surfaces` wraps the provider's ``_render_end`` (the step that
hands the pixels over) to drop the surface right after.

Call it after :func:`kiosk.ui.env.prepare_kivy`; it imports Kivy. Nothing runs at import.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["release_text_surfaces"]


def release_text_surfaces() -> bool:
    """Make the SDL2 text provider drop each label's surface once its pixels are copied.

    Idempotent. Returns False when Kivy draws text with another provider (nothing to do).
    """
    from kivy.core.text import Label as CoreLabel

    try:
        from kivy.core.text.text_sdl2 import LabelSDL2
    except ImportError:
        return False
    if not issubclass(CoreLabel, LabelSDL2):
        return False
    render_end = LabelSDL2._render_end
    if getattr(render_end, "releases_surface", False):
        return True

    @functools.wraps(render_end)
    def render_end_and_release(self: Any) -> Any:
        try:
            return render_end(self)
        finally:
            self._surface = None

    render_end_and_release.releases_surface = True  # type: ignore[attr-defined]
    LabelSDL2._render_end = render_end_and_release
    return True
