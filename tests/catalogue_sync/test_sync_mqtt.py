"""The catalogue replica over a real private Mosquitto: edge publisher -> kiosks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from broker.contract import DeviceEvent, catalogue_manifest_topic, catalogue_snapshot_topic, decode, kiosk_topic
from edge.catalogue.publisher import CataloguePublisher, MqttCatalogueBus
from edge.catalogue.store import CatalogueStore
from kiosk.catalogue_replica import CatalogueReplica
from kiosk.catalogue_sync import CatalogueSync, MqttCatalogueSync, SqliteReplicaStore
from retail.clock import FakeClock, SystemClock
from retail.money import Money
from tests.catalogue_sync.conftest import STORE, WAIT, edge_items, fill, wait_until


class Kiosk:
    """One kiosk: a SQLite replica in its data folder, the sync core and its MQTT link."""

    def __init__(self, broker: Any, kiosk_id: str, data_dir: Path, **kw: Any) -> None:
        self.broker, self.kiosk_id = broker, kiosk_id
        self.disk = SqliteReplicaStore(data_dir / kiosk_id / "catalogue.sqlite3")
        self.replicas: list[CatalogueReplica] = []
        self.sync = CatalogueSync(self.disk, store_id=STORE, kiosk_id=kiosk_id, clock=SystemClock(), **kw)
        self.link: MqttCatalogueSync | None = None

    def start(self) -> Kiosk:
        self.link = MqttCatalogueSync(self.broker.kiosk_endpoint(self.kiosk_id), self.sync).start()
        return self

    def stop(self) -> None:
        if self.link is not None:
            self.link.close()
            self.link = None

    def close(self) -> None:
        self.stop()
        self.disk.close()


@pytest.fixture
def kiosks(store_broker: Any, tmp_path: Path) -> Iterator[Any]:
    made: list[Kiosk] = []

    def make(kiosk_id: str, **kw: Any) -> Kiosk:
        k = Kiosk(store_broker, kiosk_id, tmp_path / "kiosks", **kw)
        made.append(k)
        return k

    yield make
    for k in made:
        k.close()


@pytest.fixture
def edge(edge_store: CatalogueStore, store_broker: Any) -> Iterator[CataloguePublisher]:
    bus = MqttCatalogueBus(store_broker.edge_endpoint(), store_id=STORE)
    pub = CataloguePublisher(edge_store, bus, store_id=STORE, clock=FakeClock(), poll_s=0.02)
    yield pub
    pub.close()
    bus.close()


def test_a_new_kiosk_receives_5000_products_and_sells_from_an_equal_replica(edge_store, edge, kiosks) -> None:
    fill(edge_store, 5000)
    edge.start()
    kiosk = kiosks("kiosk-01")
    kiosk.sync.on_replica = lambda replica, promotions: kiosk.replicas.append(replica)
    kiosk.start()
    assert kiosk.sync.wait_for_version(edge_store.version(), WAIT)
    assert wait_until(lambda: bool(kiosk.replicas))
    replica = kiosk.replicas[-1]
    assert replica.version == str(edge_store.version())
    assert replica.items == {i.sku: i for i in edge_items(edge_store)}
    assert len(replica) == 5000


def test_a_price_change_reaches_three_kiosks(edge_store, edge, kiosks) -> None:
    fill(edge_store, 300)
    edge.start()
    group = [kiosks(f"kiosk-0{i}").start() for i in (1, 2, 3)]
    for k in group:
        assert k.sync.wait_for_version(edge_store.version(), WAIT)
    version = edge_store.update_price("P000042", Money(1234, "CNY"))
    edge.poke()
    for k in group:
        assert k.sync.wait_for_version(version, WAIT), k.kiosk_id
        assert k.sync.item("P000042").unit_price == Money(1234, "CNY")
        assert k.sync.snapshots_applied == 1 and k.sync.deltas_applied >= 1


def test_a_kiosk_offline_during_several_changes_catches_up_on_reconnect(edge_store, edge, kiosks) -> None:
    fill(edge_store, 200)
    edge.start()
    kiosk = kiosks("kiosk-01").start()
    assert kiosk.sync.wait_for_version(edge_store.version(), WAIT)
    kiosk.stop()
    edge_store.update_price("P000001", Money(111, "CNY"))
    edge_store.set_active("P000002", False)
    version = edge_store.update_price("P000003", Money(333, "CNY"))
    edge.poke()
    assert wait_until(lambda: edge.status().published_version == version)
    kiosk.start()
    assert kiosk.sync.wait_for_version(version, WAIT)
    assert kiosk.sync.item("P000001").unit_price == Money(111, "CNY")
    assert kiosk.sync.item("P000002") is None
    assert kiosk.sync.snapshots_applied == 1  # the first download only; the rest came as one delta


def test_a_restarted_kiosk_sells_from_its_persisted_replica_before_the_broker_is_up(edge_store, store_broker_factory, tmp_path) -> None:
    fill(edge_store, 100)
    broker = store_broker_factory()
    bus = MqttCatalogueBus(broker.edge_endpoint(), store_id=STORE)
    with CataloguePublisher(edge_store, bus, store_id=STORE, clock=FakeClock(), poll_s=0.02):
        first = Kiosk(broker, "kiosk-01", tmp_path / "kiosks").start()
        assert first.sync.wait_for_version(edge_store.version(), WAIT)
        first.close()
    bus.close()
    broker.stop()

    restarted = Kiosk(broker, "kiosk-01", tmp_path / "kiosks")
    handed: list[CatalogueReplica] = []
    restarted.sync.on_replica = lambda replica, promotions: handed.append(replica)
    try:
        restarted.start()  # the broker is down
        assert handed, "the persisted replica was not handed over at start"
        assert not restarted.link.connected
        assert handed[0].version == str(edge_store.version()) and len(handed[0]) == 100
        assert handed[0].by_sku("P000007").unit_price == next(i for i in edge_items(edge_store) if i.sku == "P000007").unit_price
    finally:
        restarted.close()


def test_a_corrupted_chunk_is_rejected_the_old_replica_kept_and_an_event_sent(edge_store, store_broker, mqtt_client, kiosks) -> None:
    fill(edge_store, 50)
    bus = MqttCatalogueBus(store_broker.edge_endpoint(), store_id=STORE)
    pub = CataloguePublisher(edge_store, bus, store_id=STORE, clock=FakeClock(), chunk_rows=20, resnapshot_rows=1)
    try:
        pub.sync()
        kiosk = kiosks("kiosk-01").start()
        good = edge_store.version()
        assert kiosk.sync.wait_for_version(good, WAIT)
        watcher = mqtt_client(store_broker.edge_endpoint())
        watcher.connect()
        watcher.subscribe(kiosk_topic(STORE, "kiosk-01", "event"))
        # a new snapshot whose middle chunk is damaged on the way (published by the edge user)
        edge_store.update_price("P000001", Money(1, "CNY"))
        edge_store.update_price("P000002", Money(2, "CNY"))
        new = edge_store.version()
        chunks = pub._dist.snapshot()  # noqa: SLF001 - the bytes a real publish would send
        broken = bytearray(chunks[1])
        broken[len(broken) // 2] ^= 0xFF
        edge_pub = mqtt_client(store_broker.edge_endpoint())
        edge_pub.connect()
        for n, c in enumerate(chunks):
            edge_pub.publish(catalogue_snapshot_topic(STORE, new, n), bytes(broken) if n == 1 else c, retain=True)
        from broker.contract import CatalogueManifest, encode
        from edge.catalogue import replica_format as rf

        head = rf.decode(chunks[0])
        edge_pub.publish(catalogue_manifest_topic(STORE), encode(CatalogueManifest(
            store_id=STORE, version=new, chunks=len(chunks), count=head["count"], digest=format(head["digest"], "032x"),
            created_at=FakeClock().now())), retain=True)
        event: DeviceEvent = decode("event", watcher.expect(WAIT).payload)
        assert event.kind == "replica_rejected" and event.device == "catalogue"
        assert kiosk.sync.version == good and kiosk.sync.rejected == 1
        assert kiosk.sync.item("P000001") is not None  # still selling the old replica
        assert kiosk.sync.health().code == "catalogue_rejected"
    finally:
        pub.close()
        bus.close()


def test_a_kiosk_cannot_publish_on_catalogue_topics(store_broker, mqtt_client) -> None:
    intruder = mqtt_client(store_broker.kiosk_endpoint("kiosk-02"))
    intruder.connect()
    for topic in (catalogue_manifest_topic(STORE), f"tillpi/{STORE}/catalogue/delta", catalogue_snapshot_topic(STORE, 9, 0),
                  f"tillpi/{STORE}/catalogue/promotions"):
        code = intruder.publish(topic, b"forged", qos=1, retain=True)
        assert code.getName() == "Not authorized", topic
    reader = mqtt_client(store_broker.kiosk_endpoint("kiosk-01"))
    reader.connect()
    reader.subscribe(f"tillpi/{STORE}/catalogue/#")
    marker = mqtt_client(store_broker.edge_endpoint())
    marker.connect()
    marker.publish(f"tillpi/{STORE}/catalogue/probe/marker", b"m")
    seen = reader.until(f"tillpi/{STORE}/catalogue/probe/marker")
    assert [m.topic for m in seen] == [f"tillpi/{STORE}/catalogue/probe/marker"]  # nothing forged was retained
