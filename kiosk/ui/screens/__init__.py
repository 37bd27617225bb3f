"""The kiosk's screens: one ``.py`` (thin, binds a view-model) and one ``.kv`` (layout) each."""

from __future__ import annotations

from pathlib import Path

__all__ = ["KV_FILES", "SCREEN_DIR"]

SCREEN_DIR = Path(__file__).resolve().parent
KV_FILES: tuple[Path, ...] = (SCREEN_DIR / "welcome.kv", SCREEN_DIR / "scan.kv")
