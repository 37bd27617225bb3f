"""The whole edge service against a private Mosquitto with a kiosk in its own process: a killed
kiosk raises the offline alarm through its will; a late will of the old session after the
restarted kiosk's birth raises nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from broker.contract import KioskState, encode, kiosk_topic
from broker.launcher import LocalBroker
from edge.alarms import AlarmState
from edge.presence import PresenceStatus
from edge.service import EdgeService

from tests.edge.conftest import edge_settings

ROOT = Path(__file__).resolve().parents[2]
KEEPALIVE_S = 2
K1 = "kiosk-01"


class KioskProcess:
    def __init__(self, broker: LocalBroker, tmp: Path, kiosk: str) -> None:
        ep = broker.kiosk_endpoint(kiosk)
        cmd = [sys.executable, "-m", "tests.edge.kiosk_proc", "--data", str(tmp / kiosk), "--store", "s1",
               "--kiosk", kiosk, "--host", ep.host, "--port", str(ep.port), "--keepalive", str(KEEPALIVE_S)]
        for flag, value in (("--ca-file", ep.ca_file), ("--cert-file", ep.cert_file), ("--key-file", ep.key_file)):
            if value is not None:
                cmd += [flag, str(value)]
        env = dict(os.environ, TILLPI_MQTT_PASSWORD=ep.password, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if line.startswith("ready "):
                self._ready.set()

    def session(self, timeout: float = 30.0) -> int:
        if not self._ready.wait(timeout):
            raise AssertionError(f"kiosk process not ready: {self.lines[-20:]}")
        return int(next(line for line in self.lines if line.startswith("ready ")).split()[1])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout:.1f} s")
        time.sleep(0.02)


@pytest.fixture
def edge(store_broker: LocalBroker, tmp_path: Path) -> Iterator[EdgeService]:
    with EdgeService(edge_settings(tmp_path, store_broker.edge_endpoint())) as service:
        assert service.monitor_link.wait_connected(10) and service.ingest.wait_connected(10)
        yield service


@pytest.fixture
def kiosks(store_broker: LocalBroker, tmp_path: Path) -> Iterator[Callable[[], KioskProcess]]:
    made: list[KioskProcess] = []

    def start() -> KioskProcess:
        k = KioskProcess(store_broker, tmp_path, K1)
        made.append(k)
        return k

    yield start
    for k in made:
        k.kill()


def _offline(edge: EdgeService) -> Any:
    return next((v for v in edge.alarm_engine.open_alarms()
                 if v.alarm.key == f"{K1}/kiosk/offline" and v.alarm.state is AlarmState.ACTIVE), None)


def test_killed_kiosk_is_offline_within_keepalive_and_a_late_old_will_is_ignored(
        edge: EdgeService, kiosks: Callable[[], KioskProcess], mqtt_client: Callable[..., Any],
        store_broker: LocalBroker) -> None:
    first = kiosks()
    s1 = first.session()
    wait_for("kiosk online at the edge", lambda: (p := edge.monitor.presence.get(K1)) and p.status is PresenceStatus.ONLINE, 10)

    first.kill()
    rule = edge.alarm_engine.settings.rule_for("kiosk", "offline")
    # The broker sends the will after 1.5 keepalives; it checks about once a second, and this is a
    # 2-core machine: the deadline allows 3 s on top (a deadline to wait, not a speed figure).
    limit = KEEPALIVE_S * 1.5 + rule.raise_delay_s + 3.0
    view = wait_for("offline alarm", lambda: _offline(edge), limit)
    assert view.alarm.detail == f"session {s1} lost"

    second = kiosks()
    s2 = second.session()
    assert s2 > s1
    wait_for("kiosk back online", lambda: (p := edge.monitor.presence.get(K1)) and p.session == s2
             and p.status is PresenceStatus.ONLINE, 10)
    wait_for("offline alarm cleared", lambda: _offline(edge) is None, 10)

    # The old session's will arrives after the new birth, retained, as a slow broker would send it.
    probe = mqtt_client(store_broker.edge_endpoint())
    probe.connect()
    stale_before = edge.monitor.presence.stale
    late = KioskState(kiosk_id=K1, status="lost", session=s1, software_version="0", at=datetime.now(timezone.utc))
    probe.publish(kiosk_topic("s1", K1, "state"), encode(late), qos=1, retain=True)
    wait_for("late will handled", lambda: edge.monitor.presence.stale > stale_before, 10)
    assert edge.monitor.presence.get(K1).status is PresenceStatus.ONLINE  # type: ignore[union-attr]
    assert _offline(edge) is None
    assert not any(v.alarm.key == f"{K1}/kiosk/offline" for v in edge.alarm_engine.open_alarms())
