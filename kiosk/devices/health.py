"""What every device reports about itself: a status, a code, and since when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol, runtime_checkable

__all__ = ["DeviceHealth", "DeviceStatus", "HealthReporting"]


class DeviceStatus(str, Enum):
    OK = "ok"
    DEGRADED = "degraded"
    FAULT = "fault"
    ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """One device's health. ``code`` is a short machine-readable reason (``paper_low``,
    ``not_ready``, ``no_frames``), ``detail`` a sentence for staff, ``since`` when the status
    last changed."""

    device: str
    status: DeviceStatus
    since: datetime
    code: str = ""
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "device": self.device,
            "status": self.status.value,
            "code": self.code,
            "detail": self.detail,
            "since": self.since.isoformat(),
        }


@runtime_checkable
class HealthReporting(Protocol):
    """A device that can say how it is and test itself (for diagnostics)."""

    name: str

    def health(self) -> DeviceHealth: ...

    def self_test(self) -> DeviceHealth: ...
