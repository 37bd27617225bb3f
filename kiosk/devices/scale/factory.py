"""Building the kiosk's scales from the device profile (used by the composition root)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.devices.scale.hx711 import Hx711
from kiosk.devices.scale.scale import Hx711Scale, SimulatedScale
from kiosk.errors import DeviceConfigError
from retail.clock import Clock

if TYPE_CHECKING:  # the profile imports this package; avoid the cycle at run time
    from kiosk.profile import DeviceProfile

__all__ = ["build_hx711_scale", "build_simulated_scale"]


def build_hx711_scale(
    profile: DeviceProfile,
    name: str,
    *,
    pin_factory: Any = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
    **scale_options: Any,
) -> Hx711Scale:
    """An :class:`Hx711Scale` for the profile's scale ``name`` (``"produce"``, ``"bag"``):
    its pins, gain, capacity, resolution and stored calibration."""
    settings = profile.scale_settings(name)
    if settings.data_pin is None or settings.clock_pin is None:
        raise DeviceConfigError(f"the pin map has no pins for scale {name!r}")
    hx = Hx711(
        settings.data_pin,
        settings.clock_pin,
        gain=settings.gain,
        pin_factory=pin_factory,
        clock=clock,
        sleep=sleep,
    )
    try:
        return Hx711Scale(
            hx,
            profile.scale_calibration(name),
            name=name,
            capacity_g=settings.capacity_g,
            resolution_g=settings.resolution_g,
            clock=clock,
            **scale_options,
        )
    except BaseException:
        hx.close()
        raise


def build_simulated_scale(profile: DeviceProfile, name: str, *, clock: Clock | None = None, **options: Any) -> SimulatedScale:
    """A :class:`SimulatedScale` with the profile's capacity and resolution for ``name``."""
    settings = profile.scale_settings(name)
    return SimulatedScale(
        name=name, capacity_g=settings.capacity_g, resolution_g=settings.resolution_g, clock=clock, **options
    )
