"""The kiosk's system health: a snapshot of the machine and every device, every N seconds.

``HealthCollector(sources, devices, clock, interval_s)``; ``snapshot()`` takes one now,
``run(sink)`` takes one every ``interval_s`` until stopped and hands each to ``sink`` (the bus
contract publishes ``snapshot.to_dict()``). Waiting goes through an injectable ``wait`` so tests
move a :class:`~retail.clock.FakeClock` instead of sleeping.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from kiosk.devices.health import DeviceHealth, DeviceStatus, HealthReporting
from kiosk.health.readings import (
    ClockSync,
    Memory,
    Throttling,
    parse_loadavg,
    parse_meminfo,
    parse_thermal,
    parse_throttled,
    parse_uptime,
)
from kiosk.health.sources import DiskUsage, HealthSources
from kiosk.errors import KioskError
from retail.clock import Clock

__all__ = ["HealthCollector", "HealthError", "HealthSnapshot", "HealthThresholds", "worst"]


class HealthError(KioskError, RuntimeError):
    """The health collector was misused (bad interval, started twice)."""

log = logging.getLogger(__name__)

THERMAL_ZONE = "/sys/class/thermal/thermal_zone0/temp"
TIMESYNC_FLAG = "/run/systemd/timesync/synchronized"
_ORDER = {DeviceStatus.OK: 0, DeviceStatus.DEGRADED: 1, DeviceStatus.ABSENT: 2, DeviceStatus.FAULT: 3}


def worst(statuses: Iterable[DeviceStatus]) -> DeviceStatus:
    """The worst of ``statuses`` (fault > absent > degraded > ok); ok when empty."""
    return max(statuses, key=_ORDER.__getitem__, default=DeviceStatus.OK)


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    """When a reading becomes a warning."""

    cpu_hot_c: float = 80.0
    disk_low_fraction: float = 0.05
    memory_low_fraction: float = 0.05


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """The machine and its devices at one moment. ``None`` means "not available here"
    (no thermal zone, no ``vcgencmd`` off a Pi)."""

    taken_at: datetime
    cpu_temp_c: float | None
    throttling: Throttling | None
    load_avg: tuple[float, float, float] | None
    memory: Memory | None
    disk_path: str
    disk: DiskUsage | None
    uptime_s: float | None
    clock_sync: ClockSync
    devices: tuple[DeviceHealth, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def status(self) -> DeviceStatus:
        """Worst device status, and at least ``degraded`` when the machine has warnings."""
        base = worst(d.status for d in self.devices)
        if self.warnings and _ORDER[base] < _ORDER[DeviceStatus.DEGRADED]:
            return DeviceStatus.DEGRADED
        return base

    def device(self, name: str) -> DeviceHealth | None:
        return next((d for d in self.devices if d.device == name), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form: str, int, float, bool, None, lists and dicts only."""
        return {
            "taken_at": self.taken_at.isoformat(),
            "status": self.status.value,
            "warnings": list(self.warnings),
            "cpu_temp_c": self.cpu_temp_c,
            "throttling": None if self.throttling is None else self.throttling.to_dict(),
            "load_avg": None if self.load_avg is None else list(self.load_avg),
            "memory": None
            if self.memory is None
            else {"total_bytes": self.memory.total_bytes, "available_bytes": self.memory.available_bytes},
            "disk": {
                "path": self.disk_path,
                "total_bytes": None if self.disk is None else self.disk.total_bytes,
                "free_bytes": None if self.disk is None else self.disk.free_bytes,
            },
            "uptime_s": self.uptime_s,
            "clock_sync": self.clock_sync.value,
            "devices": [d.to_dict() for d in self.devices],
        }


class HealthCollector:
    """Collects :class:`HealthSnapshot` s. A resource: ``close()`` stops a running loop."""

    def __init__(
        self,
        sources: HealthSources,
        devices: Sequence[HealthReporting],
        clock: Clock,
        interval_s: float = 30.0,
        *,
        data_dir: str = "/",
        thresholds: HealthThresholds | None = None,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise HealthError(f"health interval must be positive, not {interval_s}")
        self._sources = sources
        self._devices = list(devices)
        self._clock = clock
        self.interval_s = interval_s
        self.data_dir = data_dir
        self.thresholds = thresholds or HealthThresholds()
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self._thread: threading.Thread | None = None

    # -- readings -----------------------------------------------------------------------------
    def _read(self, path: str) -> str | None:
        return self._sources.files.read_text(path)

    def _cpu_temp(self) -> float | None:
        text = self._read(THERMAL_ZONE)
        return None if text is None else parse_thermal(text)

    def _throttling(self) -> Throttling | None:
        result = self._sources.commands.run(["vcgencmd", "get_throttled"])
        if result is None or result.returncode != 0:
            return None
        parsed = parse_throttled(result.stdout)
        if parsed is None:
            log.warning("unexpected vcgencmd get_throttled output: %r", result.stdout[:80])
        return parsed

    def _clock_sync(self) -> ClockSync:
        if self._sources.files.exists(TIMESYNC_FLAG):
            return ClockSync.SYNCED
        result = self._sources.commands.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
        if result is None or result.returncode != 0:
            return ClockSync.UNKNOWN
        answer = result.stdout.strip().lower()
        if answer == "yes":
            return ClockSync.SYNCED
        if answer == "no":
            return ClockSync.UNSYNCED
        return ClockSync.UNKNOWN

    def _device_health(self, device: HealthReporting) -> DeviceHealth:
        try:
            return device.health()
        except Exception as exc:  # noqa: BLE001 - one broken device must not hide the others
            log.warning("health of %s failed: %r", getattr(device, "name", device), exc)
            return DeviceHealth(getattr(device, "name", "unknown"), DeviceStatus.FAULT, self._clock.now(),
                                "health_error", f"{type(exc).__name__}: {exc}")

    def snapshot(self) -> HealthSnapshot:
        loadavg = self._read("/proc/loadavg")
        meminfo = self._read("/proc/meminfo")
        uptime = self._read("/proc/uptime")
        snap = HealthSnapshot(
            taken_at=self._clock.now(),
            cpu_temp_c=self._cpu_temp(),
            throttling=self._throttling(),
            load_avg=None if loadavg is None else parse_loadavg(loadavg),
            memory=None if meminfo is None else parse_meminfo(meminfo),
            disk_path=self.data_dir,
            disk=self._sources.disk_usage(self.data_dir),
            uptime_s=None if uptime is None else parse_uptime(uptime),
            clock_sync=self._clock_sync(),
            devices=tuple(self._device_health(d) for d in self._devices),
        )
        return _with_warnings(snap, self.thresholds)

    # -- loop ---------------------------------------------------------------------------------
    def run(self, sink: Callable[[HealthSnapshot], None], *, max_snapshots: int | None = None) -> int:
        """Take a snapshot every ``interval_s`` and hand it to ``sink`` until :meth:`stop` (or
        ``max_snapshots``). Due times are fixed on the monotonic clock, so a slow sink does not
        make the period drift. Returns the number of snapshots taken."""
        taken = 0
        due = self._clock.monotonic()
        while not self._stop.is_set():
            try:
                sink(self.snapshot())
            except Exception:  # noqa: BLE001 - the loop outlives a failing sink
                log.exception("health sink failed")
            taken += 1
            if max_snapshots is not None and taken >= max_snapshots:
                break
            due += self.interval_s
            now = self._clock.monotonic()
            if due < now:  # fell behind: skip the missed slots rather than burst
                due = now
            if self._wait(due - now):
                break
        return taken

    def start(self, sink: Callable[[HealthSnapshot], None]) -> threading.Thread:
        """Run the loop on a daemon thread."""
        if self._thread is not None and self._thread.is_alive():
            raise HealthError("health collector already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, args=(sink,), name="health-collector", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.interval_s + 5)

    def __enter__(self) -> HealthCollector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _with_warnings(snap: HealthSnapshot, t: HealthThresholds) -> HealthSnapshot:
    warnings: list[str] = []
    if snap.cpu_temp_c is not None and snap.cpu_temp_c >= t.cpu_hot_c:
        warnings.append("cpu_hot")
    if snap.throttling is not None:
        warnings.extend(snap.throttling.now())
    if snap.disk is not None and snap.disk.total_bytes and snap.disk.free_bytes / snap.disk.total_bytes < t.disk_low_fraction:
        warnings.append("disk_low")
    if snap.memory is not None and snap.memory.total_bytes and (
        snap.memory.available_bytes / snap.memory.total_bytes < t.memory_low_fraction
    ):
        warnings.append("memory_low")
    if snap.clock_sync is ClockSync.UNSYNCED:
        warnings.append("clock_unsynced")
    return dataclasses.replace(snap, warnings=tuple(warnings))
