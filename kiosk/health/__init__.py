"""The kiosk's system health collector: CPU temperature, throttling, load, memory, disk, uptime,
clock sync and every device's health, as a JSON-able snapshot every N seconds."""

from kiosk.health.collector import HealthCollector, HealthError, HealthSnapshot, HealthThresholds, worst
from kiosk.health.readings import ClockSync, Memory, Throttling, parse_throttled
from kiosk.health.sources import (
    CommandResult,
    CommandRunner,
    DiskUsage,
    FakeCommands,
    FakeFiles,
    FileReader,
    HealthSources,
    LocalFiles,
    SubprocessRunner,
)

__all__ = [
    "ClockSync", "CommandResult", "CommandRunner", "DiskUsage", "FakeCommands", "FakeFiles",
    "FileReader", "HealthCollector", "HealthError", "HealthSnapshot", "HealthSources",
    "HealthThresholds", "LocalFiles", "Memory", "SubprocessRunner", "Throttling",
    "parse_throttled", "worst",
]
