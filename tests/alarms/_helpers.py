"""Small builders shared by the alarm tests."""

from __future__ import annotations

from edge.alarms import Observation


def on(kiosk: str | None, device: str, condition: str, value: float | None = None, detail: str = "") -> Observation:
    return Observation(kiosk, device, condition, True, value, detail=detail)


def off(kiosk: str | None, device: str, condition: str, value: float | None = None) -> Observation:
    return Observation(kiosk, device, condition, False, value)


def reading(kiosk: str, device: str, condition: str, value: float) -> Observation:
    """A numeric reading; the rule's thresholds decide whether it is on."""
    return Observation(kiosk, device, condition, False, value)
