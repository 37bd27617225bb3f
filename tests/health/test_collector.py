"""The health collector on Pi-like files and vcgencmd outputs, and on this machine."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from kiosk.devices.health import DeviceHealth, DeviceStatus
from kiosk.devices.printer import SimulatedReceiptPrinter
from kiosk.health import (
    ClockSync,
    CommandResult,
    DiskUsage,
    FakeCommands,
    FakeFiles,
    HealthCollector,
    HealthError,
    HealthSources,
    parse_throttled,
)
from retail.clock import FakeClock

PI_FILES = {
    "/sys/class/thermal/thermal_zone0/temp": "48312\n",
    "/proc/loadavg": "0.52 0.40 0.31 1/245 1234\n",
    "/proc/meminfo": "MemTotal:        3884332 kB\nMemFree:          120000 kB\nMemAvailable:    2942100 kB\n",
    "/proc/uptime": "86461.27 340000.10\n",
    "/run/systemd/timesync/synchronized": "",
}


def pi_sources(throttled: str = "throttled=0x0\n", files: dict[str, str] | None = None,
               disk: DiskUsage | None = DiskUsage(32_000_000_000, 20_000_000_000)) -> HealthSources:
    return HealthSources(
        FakeFiles(dict(PI_FILES if files is None else files)),
        FakeCommands({"vcgencmd get_throttled": throttled}),
        lambda path: disk,
    )


class Device:
    def __init__(self, name: str, status: DeviceStatus, clock: FakeClock, fail: bool = False) -> None:
        self.name, self.status, self.clock, self.fail = name, status, clock, fail

    def health(self) -> DeviceHealth:
        if self.fail:
            raise OSError("I2C bus error")
        return DeviceHealth(self.name, self.status, self.clock.now(), "x" if self.status != DeviceStatus.OK else "")

    def self_test(self) -> DeviceHealth:
        return self.health()


def test_pi_readings_are_parsed():
    clock = FakeClock()
    snap = HealthCollector(pi_sources(), [], clock, 10, data_dir="/var/lib/tillpi").snapshot()
    assert snap.taken_at == clock.now()
    assert snap.cpu_temp_c == 48.3
    assert snap.load_avg == (0.52, 0.40, 0.31)
    assert snap.memory.total_bytes == 3884332 * 1024 and snap.memory.available_bytes == 2942100 * 1024
    assert snap.uptime_s == 86461.27
    assert snap.disk == DiskUsage(32_000_000_000, 20_000_000_000) and snap.disk_path == "/var/lib/tillpi"
    assert snap.clock_sync is ClockSync.SYNCED
    assert snap.throttling.raw == 0 and snap.throttling.now() == [] and snap.throttling.since_boot() == []
    assert snap.warnings == () and snap.status is DeviceStatus.OK


@pytest.mark.parametrize(
    "output, now, since_boot",
    [
        ("throttled=0x0", [], []),
        ("throttled=0x50005", ["under_voltage", "throttled"], ["under_voltage", "throttled"]),
        ("throttled=0x50000", [], ["under_voltage", "throttled"]),
        ("throttled=0x80008", ["soft_temp_limit"], ["soft_temp_limit"]),
        ("throttled=0xe0002", ["freq_capped"], ["freq_capped", "throttled", "soft_temp_limit"]),
    ],
)
def test_throttling_flags_now_and_since_boot(output, now, since_boot):
    t = parse_throttled(output)
    assert (t.now(), t.since_boot()) == (now, since_boot)


def test_throttling_now_becomes_warnings_and_degrades_the_kiosk():
    snap = HealthCollector(pi_sources("throttled=0x50005\n"), [], FakeClock(), 10).snapshot()
    assert snap.throttling.under_voltage and snap.throttling.throttled
    assert not snap.throttling.freq_capped
    assert snap.warnings == ("under_voltage", "throttled")
    assert snap.status is DeviceStatus.DEGRADED
    assert snap.to_dict()["throttling"] == {
        "raw": "0x50005", "now": ["under_voltage", "throttled"], "since_boot": ["under_voltage", "throttled"]}


def test_hot_cpu_low_disk_and_unsynced_clock_are_warnings():
    files = dict(PI_FILES, **{"/sys/class/thermal/thermal_zone0/temp": "82100\n"})
    del files["/run/systemd/timesync/synchronized"]
    sources = HealthSources(
        FakeFiles(files),
        FakeCommands({"vcgencmd get_throttled": "throttled=0x0",
                      "timedatectl show -p NTPSynchronized --value": "no\n"}),
        lambda path: DiskUsage(100, 3),
    )
    snap = HealthCollector(sources, [], FakeClock(), 10).snapshot()
    assert snap.clock_sync is ClockSync.UNSYNCED
    assert set(snap.warnings) == {"cpu_hot", "disk_low", "clock_unsynced"}


def test_without_pi_files_and_commands_readings_are_absent_not_errors():
    sources = HealthSources(FakeFiles({}), FakeCommands({}), lambda path: None)
    snap = HealthCollector(sources, [], FakeClock(), 10).snapshot()
    assert (snap.cpu_temp_c, snap.throttling, snap.load_avg, snap.memory, snap.uptime_s, snap.disk) == (
        None, None, None, None, None, None)
    assert snap.clock_sync is ClockSync.UNKNOWN
    assert snap.status is DeviceStatus.OK


def test_failing_vcgencmd_is_treated_as_absent():
    sources = pi_sources()
    sources = HealthSources(sources.files, FakeCommands({"vcgencmd get_throttled": CommandResult(1, "")}),
                            sources.disk_usage)
    assert HealthCollector(sources, [], FakeClock(), 10).snapshot().throttling is None


def test_each_device_health_is_included_and_a_broken_device_is_a_fault():
    clock = FakeClock()
    devices = [Device("scale", DeviceStatus.OK, clock), Device("camera", DeviceStatus.DEGRADED, clock),
               Device("bag_scale", DeviceStatus.OK, clock, fail=True)]
    snap = HealthCollector(pi_sources(), devices, clock, 10).snapshot()
    assert [d.device for d in snap.devices] == ["scale", "camera", "bag_scale"]
    broken = snap.device("bag_scale")
    assert (broken.status, broken.code) == (DeviceStatus.FAULT, "health_error")
    assert "I2C bus error" in broken.detail
    assert snap.status is DeviceStatus.FAULT


def test_snapshot_to_dict_is_plain_json():
    clock = FakeClock()
    printer = SimulatedReceiptPrinter(clock=clock)
    printer.paper_low()
    d = HealthCollector(pi_sources("throttled=0x50005"), [printer], clock, 10).snapshot().to_dict()
    again = json.loads(json.dumps(d))
    assert again == d
    assert d["devices"] == [{"device": "printer", "status": "degraded", "code": "paper_low",
                             "detail": "paper roll nearly empty", "since": clock.now().isoformat()}]
    assert d["status"] == "degraded" and d["clock_sync"] == "synced" and d["cpu_temp_c"] == 48.3
    assert d["disk"] == {"path": "/", "total_bytes": 32_000_000_000, "free_bytes": 20_000_000_000}


def test_real_sources_work_on_this_machine(tmp_path):
    snap = HealthCollector(HealthSources.system(), [], FakeClock(), 10, data_dir=str(tmp_path)).snapshot()
    assert snap.load_avg is not None and snap.memory is not None and snap.uptime_s is not None
    assert snap.disk is not None and snap.disk.total_bytes > 0
    assert snap.cpu_temp_c is None or isinstance(snap.cpu_temp_c, float)
    assert snap.clock_sync in set(ClockSync)
    json.dumps(snap.to_dict())


def test_run_takes_a_snapshot_every_interval_on_the_injected_clock():
    clock = FakeClock()
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        clock.advance(seconds)
        return False

    seen = []
    collector = HealthCollector(pi_sources(), [], clock, 15, wait=wait)
    assert collector.run(seen.append, max_snapshots=4) == 4
    start = seen[0].taken_at
    assert [s.taken_at - start for s in seen] == [timedelta(seconds=s) for s in (0, 15, 30, 45)]
    assert waits == [15, 15, 15]


def test_slow_sink_does_not_make_the_period_drift():
    clock = FakeClock()
    seen = []

    def slow_sink(snap):
        seen.append(snap.taken_at)
        clock.advance(4)  # the sink takes 4 s

    def wait(seconds: float) -> bool:
        clock.advance(seconds)
        return False

    HealthCollector(pi_sources(), [], clock, 10, wait=wait).run(slow_sink, max_snapshots=3)
    assert [(t - seen[0]).total_seconds() for t in seen] == [0, 10, 20]


def test_a_failing_sink_does_not_stop_the_loop():
    clock = FakeClock()
    calls = []

    def sink(snap):
        calls.append(snap)
        raise ConnectionError("bus down")

    collector = HealthCollector(pi_sources(), [], clock, 5, wait=lambda s: (clock.advance(s), False)[1])
    assert collector.run(sink, max_snapshots=3) == 3
    assert len(calls) == 3


def test_background_thread_stops_on_close():
    got_one = threading.Event()
    collector = HealthCollector(pi_sources(), [], FakeClock(), 3600)
    with collector:
        thread = collector.start(lambda snap: got_one.set())
        assert got_one.wait(timeout=30)
        with pytest.raises(HealthError):
            collector.start(lambda snap: None)
    assert not thread.is_alive()


def test_bad_interval_is_refused():
    with pytest.raises(HealthError):
        HealthCollector(pi_sources(), [], FakeClock(), 0)
