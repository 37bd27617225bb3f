"""Contract tests every kiosk bus passes: the MQTT adapter (real broker) and its simulator."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from edge.ingest import in_process_edge
from kiosk.bus import KioskBus, MqttKioskBus, SimulatedKioskBus
from kiosk.outbox import SaleOutbox
from kiosk.simulated_seller import random_sale_draft
from retail.clock import SystemClock
from tests.bus.helpers import STORE, EdgeApp, wait_until


class Rig:
    def __init__(self, kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self.clock = SystemClock()
        self.outbox = SaleOutbox(tmp_path / "journal.sqlite3", store_id=STORE, kiosk_id="kiosk-01", clock=self.clock)
        if kind == "mqtt":
            self.broker = request.getfixturevalue("store_broker")
            self.edge = EdgeApp(self.broker, tmp_path / "edge").start()
            self.bus: KioskBus = MqttKioskBus(self.broker.kiosk_endpoint("kiosk-01"), self.outbox, clock=self.clock,
                                              resend_after_s=2.0, reconnect_max_s=0.5)
            self.go_offline, self.go_online = self.broker.stop, self.broker.start
        else:
            self.edge = EdgeApp(None, tmp_path / "edge")
            sim = SimulatedKioskBus(self.outbox, in_process_edge(self.edge.core), clock=self.clock)
            self.bus = sim
            self.go_offline, self.go_online = sim.go_offline, sim.go_online

    def sell(self, n: int, rng: random.Random) -> None:
        for _ in range(n):
            self.outbox.record_sale(random_sale_draft(rng, store_id=STORE, kiosk_id="kiosk-01", clock=self.clock))

    def drained(self, n: int) -> bool:
        return self.outbox.pending_count() == 0 and self.edge.ledger.sale_count() == n

    def close(self) -> None:
        self.bus.close()
        self.edge.close()
        self.outbox.close()


@pytest.fixture(params=["mqtt", "simulated"])
def rig(request: pytest.FixtureRequest, tmp_path: Path):
    r = Rig(request.param, request, tmp_path)
    yield r
    r.close()


def test_the_bus_is_a_kiosk_bus_port(rig: Rig) -> None:
    assert isinstance(rig.bus, KioskBus)


def test_recorded_sales_reach_the_edge_and_leave_the_pending_set(rig: Rig) -> None:
    rig.bus.start()
    assert rig.bus.wait_connected(20)
    rig.sell(30, random.Random(1))
    wait_until(lambda: rig.drained(30), 60, "30 sales acknowledged")
    assert set(rig.outbox.states().values()) == {"done"}


def test_sales_made_while_the_link_is_down_flow_when_it_returns(rig: Rig) -> None:
    rig.bus.start()
    assert rig.bus.wait_connected(20)
    rig.go_offline()
    rig.sell(25, random.Random(2))
    assert rig.outbox.pending_count() == 25
    rig.go_online()
    wait_until(lambda: rig.drained(25), 60, "25 sales acknowledged after the link came back")
