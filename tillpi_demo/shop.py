"""Runs the demo shop (placeholder until the tiers are wired; see README)."""

from __future__ import annotations


def main(argv: list[str]) -> int:
    print("tillpi demo: not wired yet")
    return 0
