"""Health bookkeeping shared by the scanners: log a status once when it changes."""

from __future__ import annotations

import logging

from kiosk.devices.health import DeviceHealth, DeviceStatus
from retail.clock import Clock

logger = logging.getLogger(__name__)


class HealthState:
    def __init__(self, device: str, clock: Clock, status: DeviceStatus = DeviceStatus.OK, code: str = "") -> None:
        self._device = device
        self._clock = clock
        self._health = DeviceHealth(device, status, clock.now(), code, "")

    def set(self, status: DeviceStatus, code: str = "", detail: str = "") -> DeviceHealth:
        current = self._health
        if current.status != status or current.code != code:
            self._health = DeviceHealth(self._device, status, self._clock.now(), code, detail)
            if status == DeviceStatus.OK:
                logger.info("%s recovered (was %s %s)", self._device, current.status.value, current.code)
            else:
                logger.warning("%s is %s: %s %s", self._device, status.value, code, detail)
        elif detail != current.detail:
            self._health = DeviceHealth(self._device, status, current.since, code, detail)
        return self._health

    @property
    def current(self) -> DeviceHealth:
        return self._health
