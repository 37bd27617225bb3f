"""Checks on screenshots: size, not blank, pixel colours."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops


def load(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def distinct_colours(image: Image.Image) -> int:
    return len(image.getcolors(maxcolors=1 << 20) or [])


def pixel_at_window(image: Image.Image, x: float, y: float) -> tuple[int, int, int]:
    """The pixel at Kivy window coordinates (origin bottom-left)."""
    return image.getpixel((int(x), image.height - 1 - int(y)))


def close_to(rgb: tuple[int, int, int], rgba: tuple[float, ...], tolerance: int = 6) -> bool:
    return all(abs(c - round(f * 255)) <= tolerance for c, f in zip(rgb, rgba[:3]))


def differing_fraction(a: Image.Image, b: Image.Image) -> float:
    if a.size != b.size:
        return 1.0
    changed = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0)
    return changed.histogram()[255] / (a.width * a.height)
