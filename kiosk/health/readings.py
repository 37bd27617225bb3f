"""Pure parsers of what the machine says: ``vcgencmd get_throttled``, ``/proc`` files, the thermal
zone. No I/O here; :mod:`kiosk.health.collector` reads and hands the text over."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "ClockSync",
    "Memory",
    "Throttling",
    "parse_loadavg",
    "parse_meminfo",
    "parse_thermal",
    "parse_throttled",
    "parse_uptime",
]

# Bits of `vcgencmd get_throttled` (Raspberry Pi firmware documentation).
UNDER_VOLTAGE = 1 << 0
FREQ_CAPPED = 1 << 1
THROTTLED = 1 << 2
SOFT_TEMP_LIMIT = 1 << 3
SINCE_BOOT_SHIFT = 16

_FLAG_NAMES = (
    (UNDER_VOLTAGE, "under_voltage"),
    (FREQ_CAPPED, "freq_capped"),
    (THROTTLED, "throttled"),
    (SOFT_TEMP_LIMIT, "soft_temp_limit"),
)


@dataclass(frozen=True, slots=True)
class Throttling:
    """The decoded throttling word: what is happening now and what has happened since boot."""

    raw: int

    def _now(self, bit: int) -> bool:
        return bool(self.raw & bit)

    def _since(self, bit: int) -> bool:
        return bool(self.raw & (bit << SINCE_BOOT_SHIFT))

    @property
    def under_voltage(self) -> bool:
        return self._now(UNDER_VOLTAGE)

    @property
    def freq_capped(self) -> bool:
        return self._now(FREQ_CAPPED)

    @property
    def throttled(self) -> bool:
        return self._now(THROTTLED)

    @property
    def soft_temp_limit(self) -> bool:
        return self._now(SOFT_TEMP_LIMIT)

    def now(self) -> list[str]:
        """Names of the conditions active now."""
        return [name for bit, name in _FLAG_NAMES if self._now(bit)]

    def since_boot(self) -> list[str]:
        """Names of the conditions that have occurred since boot."""
        return [name for bit, name in _FLAG_NAMES if self._since(bit)]

    def to_dict(self) -> dict[str, object]:
        return {"raw": f"0x{self.raw:x}", "now": self.now(), "since_boot": self.since_boot()}


_THROTTLED_RE = re.compile(r"throttled=(0x[0-9a-fA-F]+|\d+)")


def parse_throttled(text: str) -> Throttling | None:
    """``throttled=0x50005`` -> :class:`Throttling`; ``None`` for anything else."""
    m = _THROTTLED_RE.search(text)
    return Throttling(int(m.group(1), 0)) if m else None


def parse_thermal(text: str) -> float | None:
    """``/sys/class/thermal/thermal_zone0/temp`` (millidegrees) -> degrees Celsius, 0.1 precision."""
    try:
        milli = int(text.strip())
    except ValueError:
        return None
    return round(milli / 1000, 1)


def parse_loadavg(text: str) -> tuple[float, float, float] | None:
    parts = text.split()
    try:
        return float(parts[0]), float(parts[1]), float(parts[2])
    except (IndexError, ValueError):
        return None


def parse_uptime(text: str) -> float | None:
    try:
        return float(text.split()[0])
    except (IndexError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Memory:
    total_bytes: int
    available_bytes: int

    @property
    def used_fraction(self) -> float:
        return 0.0 if self.total_bytes == 0 else 1 - self.available_bytes / self.total_bytes


def parse_meminfo(text: str) -> Memory | None:
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            values[key.strip()] = int(fields[0]) * (1024 if len(fields) > 1 and fields[1] == "kB" else 1)
    if "MemTotal" not in values:
        return None
    available = values.get("MemAvailable", values.get("MemFree", 0))
    return Memory(values["MemTotal"], available)


class ClockSync(str, Enum):
    SYNCED = "synced"
    UNSYNCED = "unsynced"
    UNKNOWN = "unknown"
