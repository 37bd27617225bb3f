"""The monitor's BusPublisher port: the MQTT link and the simulator keep retained alarm topics
the same way (a payload sets it, an empty retained payload deletes it)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from broker.contract import alarm_topic
from broker.launcher import LocalBroker
from edge.alarms import AlarmEngine, RecordingNotifier, SimulatedAlarmRepository
from edge.monitor import MqttMonitor, SimulatedBusPublisher, StoreMonitor, monitor_settings
from retail.clock import SystemClock

TOPIC = alarm_topic("s1", "kiosk-01", "printer", "paper_out")


def _retained_mqtt(broker: LocalBroker, mqtt_client: Callable[..., Any]) -> Callable[[], dict[str, bytes]]:
    def read() -> dict[str, bytes]:
        probe = mqtt_client(broker.edge_endpoint())
        probe.connect()
        probe.subscribe(alarm_topic("s1"))
        marker = alarm_topic("s1", "zz-marker")
        probe.publish(marker, b"m", qos=1)
        got: dict[str, bytes] = {}
        for msg in probe.until(marker):
            if msg.topic != marker and msg.retain:
                got[msg.topic] = bytes(msg.payload)
        probe.close()
        return got
    return read


@pytest.fixture(params=["simulated", "mqtt"])
def publisher(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Callable[[], dict[str, bytes]]]]:
    if request.param == "simulated":
        sim = SimulatedBusPublisher()
        yield sim, lambda: dict(sim.retained)
        return
    broker: LocalBroker = request.getfixturevalue("store_broker")
    mqtt_client = request.getfixturevalue("mqtt_client")
    clock = SystemClock()
    engine = AlarmEngine(SimulatedAlarmRepository(), clock=clock, notifier=RecordingNotifier(), settings=monitor_settings())
    link = MqttMonitor(broker.edge_endpoint(), StoreMonitor("s1", engine, clock=clock), clock=clock).start()
    assert link.wait_connected(10)
    yield link, _retained_mqtt(broker, mqtt_client)
    link.close()


def test_retained_alarm_is_set_and_deleted(publisher: tuple[Any, Callable[[], dict[str, bytes]]]) -> None:
    pub, retained = publisher
    pub.publish(TOPIC, b'{"x": 1}', qos=1, retain=True)
    assert _eventually(lambda: retained().get(TOPIC) == b'{"x": 1}')
    pub.publish(TOPIC, b"", qos=1, retain=True)
    assert _eventually(lambda: TOPIC not in retained())


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    """The port hands messages over asynchronously: wait (with a deadline) for the broker."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
