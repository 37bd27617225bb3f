"""The kiosk's screens: one ``.py`` (thin, binds a view-model) and one ``.kv`` (layout) each."""

from __future__ import annotations

from pathlib import Path

__all__ = ["KV_FILES", "SCREEN_DIR"]

SCREEN_DIR = Path(__file__).resolve().parent
KV_FILES: tuple[Path, ...] = tuple(
    SCREEN_DIR / f"{name}.kv"
    for name in (
        "welcome", "scan", "lookup", "weighing", "attendant", "age_check", "member", "coupon", "pay", "qr",
        "cash", "receipt", "thank_you", "suspended", "price",
    )
)
