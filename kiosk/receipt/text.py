"""Display width of text on a receipt: CJK characters take two columns.

A thermal printer in Chinese mode, and the Noto Sans Mono CJK font used for raster receipts,
draw East Asian *wide* and *fullwidth* characters (``W``, ``F``) in two columns, and also the
*ambiguous* ones (``A``: ``×``, ``°``, ``±``, Greek, Cyrillic) because the printer's GB18030
font has them as double-byte, full-width glyphs. Everything else takes one column; combining
marks take none.
"""

from __future__ import annotations

import unicodedata

__all__ = ["char_width", "display_width", "pad", "truncate", "wrap"]


def char_width(ch: str) -> int:
    """Columns one character takes on the receipt (0, 1 or 2)."""
    if unicodedata.combining(ch):
        return 0
    if unicodedata.category(ch) in ("Cc", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes on the receipt."""
    return sum(char_width(c) for c in text)


def truncate(text: str, width: int, *, ellipsis: str = "..") -> str:
    """Cut ``text`` to at most ``width`` columns, marking the cut with ``ellipsis``.

    A wide character that would straddle the limit is dropped whole, never split.
    """
    if width <= 0:
        return ""
    if display_width(text) <= width:
        return text
    mark = ellipsis if display_width(ellipsis) < width else ""
    room = width - display_width(mark)
    out: list[str] = []
    used = 0
    for ch in text:
        w = char_width(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + mark


def wrap(text: str, width: int, *, max_lines: int | None = None) -> list[str]:
    """Break ``text`` into lines of at most ``width`` columns.

    Breaks at spaces when a word fits, and anywhere between CJK characters (Chinese has no
    spaces). With ``max_lines`` the last line is truncated with ``..``.
    """
    if width <= 0:
        return [""]
    lines: list[str] = []
    rest = text.strip()
    while rest:
        if display_width(rest) <= width:
            lines.append(rest)
            break
        cut = 0
        used = 0
        last_space = -1
        for i, ch in enumerate(rest):
            w = char_width(ch)
            if used + w > width:
                break
            if ch == " ":
                last_space = i
            used += w
            cut = i + 1
        if last_space > 0 and char_width(rest[cut]) == 1 and rest[cut] != " ":
            # do not split a Latin word when an earlier space allows a clean break
            cut = last_space
        cut = max(cut, 1)
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if not lines:
        lines = [""]
    if max_lines is not None and len(lines) > max_lines:
        kept = lines[: max_lines - 1]
        tail = " ".join(lines[max_lines - 1 :])
        kept.append(truncate(tail, width))
        lines = kept
    return lines


def pad(text: str, width: int, align: str = "left") -> str:
    """Pad ``text`` with spaces to exactly ``width`` columns (truncating when longer)."""
    text = truncate(text, width)
    gap = width - display_width(text)
    if align == "right":
        return " " * gap + text
    if align == "center":
        left = gap // 2
        return " " * left + text + " " * (gap - left)
    return text + " " * gap
