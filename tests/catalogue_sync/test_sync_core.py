"""The catalogue sync without a broker: the edge publisher on the simulated bus, kiosk cores,
replica stores (both adapters pass the same contract), staleness, promotions, re-snapshots."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any, Iterator, Mapping

import pytest

from broker.contract import (
    catalogue_delta_topic,
    catalogue_manifest_topic,
    catalogue_snapshot_topic,
    decode,
)
from edge.catalogue import replica_format as rf
from edge.catalogue.publisher import CatalogueBusError, CataloguePublisher, SimulatedCatalogueBus
from edge.catalogue.store import CatalogueStore
from kiosk.catalogue_replica import CatalogueReplica
from kiosk.catalogue_sync import (
    CatalogueSync,
    PromotionsBundle,
    ReplicaStore,
    SimulatedReplicaStore,
    SqliteReplicaStore,
)
from kiosk.devices.health import DeviceStatus
from retail.clock import FakeClock
from retail.money import Money
from tests.catalogue_sync.conftest import STORE, edge_items, fill


class SimKiosk:
    """A kiosk core wired to the simulated bus, following the subscriptions it asks for."""

    def __init__(self, bus: SimulatedCatalogueBus, store: ReplicaStore, clock: FakeClock, **kw: Any) -> None:
        self.bus = bus
        self.sync = CatalogueSync(store, store_id=STORE, kiosk_id="kiosk-01", clock=clock, **kw)
        self.subscribed: set[str] = set()
        self.topics_seen: list[str] = []

    def connect(self) -> SimKiosk:
        self.sync.reconnected()
        self._follow()
        return self

    def disconnect(self) -> None:
        for f in self.subscribed:
            self.bus.unsubscribe(f)
        self.subscribed = set()

    def _on(self, topic: str, payload: bytes) -> None:
        self.topics_seen.append(topic)
        self.sync.handle(topic, payload)
        self.sync.flush()
        self._follow()

    def _follow(self) -> None:
        wanted = set(self.sync.subscriptions())
        for f in self.subscribed - wanted:
            self.bus.unsubscribe(f)
        new = wanted - self.subscribed
        self.subscribed = wanted
        for f in sorted(new):
            self.bus.subscribe(f, self._on)


@pytest.fixture
def bus() -> SimulatedCatalogueBus:
    return SimulatedCatalogueBus()


def publisher(store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock, **kw: Any) -> CataloguePublisher:
    return CataloguePublisher(store, bus, store_id=STORE, clock=clock, **kw)


# -- replica stores: one contract, both adapters ---------------------------------------------------


@pytest.fixture(params=["sqlite", "simulated"])
def replica_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReplicaStore]:
    store: ReplicaStore = SqliteReplicaStore(tmp_path / "kiosk" / "replica.sqlite3") if request.param == "sqlite" else SimulatedReplicaStore()
    yield store
    store.close()


def _state(edge_store: CatalogueStore) -> rf.ReplicaState:
    return _snapshot(edge_store)[0]


def _snapshot(edge_store: CatalogueStore) -> tuple[rf.ReplicaState, list[bytes]]:
    from edge.catalogue.distribution import CatalogueDistributor

    state = rf.empty_state()
    chunks = CatalogueDistributor(edge_store, chunk_rows=7).snapshot()
    for chunk in chunks:
        state = rf.apply(state, chunk)
    return state, chunks


@pytest.mark.parametrize("as_chunks", [False, True], ids=["rows", "chunks"])
def test_replica_store_gives_back_what_was_saved_and_then_patched(replica_store: ReplicaStore, edge_store: CatalogueStore, as_chunks: bool) -> None:
    fill(edge_store, 30)
    assert replica_store.load() is None
    first, chunks = _snapshot(edge_store)
    replica_store.save(first, chunks=chunks if as_chunks else None)
    from edge.catalogue.distribution import CatalogueDistributor

    dist = CatalogueDistributor(edge_store)
    edge_store.update_price("P000003", Money(999, "CNY"))
    edge_store.set_active("P000004", False)
    second = rf.apply(first, dist.delta(first.version))
    replica_store.save(second, changed_skus={"P000003", "P000004"}, changed_categories=set())
    replica_store.save_promotions(PromotionsBundle(4, ({"promotion_id": "x"},), ()))
    loaded = replica_store.load()
    assert loaded is not None
    assert loaded.state.version == second.version and loaded.state.digest == second.digest
    assert dict(loaded.state.products) == dict(second.products) and "P000004" not in loaded.state.products
    assert loaded.promotions == PromotionsBundle(4, ({"promotion_id": "x"},), ())


def test_replica_store_refuses_an_incomplete_replica(replica_store: ReplicaStore) -> None:
    with pytest.raises(OSError):
        replica_store.save(rf.empty_state())


def test_a_tampered_replica_file_is_not_loaded(tmp_path: Path, edge_store: CatalogueStore) -> None:
    fill(edge_store, 10)
    path = tmp_path / "replica.sqlite3"
    with SqliteReplicaStore(path) as store:
        store.save(_state(edge_store))
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("UPDATE replica_products SET row = replace(row, 'Product 1', 'Product X') WHERE sku = 'P000001'")
    with SqliteReplicaStore(path) as store:
        assert store.load() is None


# -- publisher and kiosk core on the simulated bus -------------------------------------------------


def test_a_new_kiosk_builds_a_replica_equal_to_the_edge_catalogue(edge_store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock) -> None:
    fill(edge_store, 120)
    publisher(edge_store, bus, clock, chunk_rows=50).sync()
    got: list[CatalogueReplica] = []
    kiosk = SimKiosk(bus, SimulatedReplicaStore(), clock, on_replica=lambda r, p: got.append(r)).connect()
    assert kiosk.sync.version == edge_store.version()
    assert got and got[-1].items == {i.sku: i for i in edge_items(edge_store)}
    # the chunks were needed once: the kiosk no longer listens to them
    assert not any("/snapshot/" in f for f in kiosk.subscribed)


def test_a_kiosk_whose_replica_the_delta_reaches_never_fetches_the_snapshot(edge_store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock) -> None:
    fill(edge_store, 40)
    pub = publisher(edge_store, bus, clock)
    pub.sync()
    disk = SimulatedReplicaStore()
    first = SimKiosk(bus, disk, clock).connect()
    first.disconnect()
    edge_store.update_price("P000005", Money(1, "CNY"))
    edge_store.update_price("P000006", Money(2, "CNY"))
    assert pub.sync() and pub.status().deltas == 1
    again = SimKiosk(bus, disk, clock).connect()
    assert again.sync.version == edge_store.version()
    assert again.sync.item("P000006").unit_price == Money(2, "CNY")  # type: ignore[union-attr]
    assert not any("/snapshot/" in t for t in again.topics_seen) and again.sync.snapshots_applied == 0


def test_a_growing_delta_is_replaced_by_a_new_snapshot_and_old_chunks_are_cleared(edge_store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock) -> None:
    fill(edge_store, 60)
    pub = publisher(edge_store, bus, clock, chunk_rows=20, resnapshot_rows=10)
    pub.sync()
    first_version = edge_store.version()
    old_topics = {catalogue_snapshot_topic(STORE, first_version, n) for n in range(3)}
    assert old_topics <= set(bus.retained)
    kiosk = SimKiosk(bus, SimulatedReplicaStore(), clock).connect()
    for i in range(5):
        edge_store.update_price(f"P{i:06d}", Money(100 + i, "CNY"))
    pub.sync()
    assert pub.status().snapshots == 1  # five changes: still a delta
    for i in range(5, 20):
        edge_store.update_price(f"P{i:06d}", Money(100 + i, "CNY"))
    pub.sync()
    assert pub.status().snapshots == 2
    manifest = decode("catalogue_manifest", bus.retained[catalogue_manifest_topic(STORE)])
    assert manifest.version == edge_store.version()
    assert not old_topics & set(bus.retained), "the replaced snapshot's chunks are still retained"
    assert kiosk.sync.version == edge_store.version() and kiosk.sync.item("P000019").unit_price == Money(119, "CNY")  # type: ignore[union-attr]


def test_a_restarted_publisher_reuses_the_retained_snapshot(edge_store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock) -> None:
    fill(edge_store, 30)
    publisher(edge_store, bus, clock).sync()
    edge_store.update_price("P000001", Money(5, "CNY"))
    again = publisher(edge_store, bus, clock)
    assert again.sync()
    assert again.status().snapshots == 0 and again.status().deltas == 1
    assert again.status().published_version == edge_store.version()


def test_an_offline_bus_is_an_error_and_publishing_resumes_after(edge_store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock) -> None:
    fill(edge_store, 5)
    pub = publisher(edge_store, bus, clock)
    bus.go_offline()
    with pytest.raises(CatalogueBusError):
        pub.sync()
    bus.go_online()
    assert pub.sync() and catalogue_manifest_topic(STORE) in bus.retained


def test_a_corrupted_chunk_is_rejected_and_the_old_replica_kept(edge_store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock) -> None:
    fill(edge_store, 40)
    pub = publisher(edge_store, bus, clock, chunk_rows=10, resnapshot_rows=1)
    pub.sync()
    kiosk = SimKiosk(bus, SimulatedReplicaStore(), clock).connect()
    good = kiosk.sync.version
    kiosk.disconnect()
    edge_store.update_price("P000001", Money(7, "CNY"))
    edge_store.update_price("P000002", Money(8, "CNY"))
    pub.sync()  # two changes > resnapshot_rows: a new snapshot
    topic = catalogue_snapshot_topic(STORE, edge_store.version(), 2)
    raw = zlib.decompress(bus.retained[topic]).replace(b"Product 2", b"Product Z")
    bus.retained[topic] = zlib.compress(raw)
    kiosk.connect()
    assert kiosk.sync.version == good and kiosk.sync.item("P000001") is not None
    assert kiosk.sync.rejected == 1 and "rejected" in (kiosk.sync.last_error or "")
    events = kiosk.sync.take_events()
    assert [e.kind for e in events] == ["replica_rejected"] and events[0].device == "catalogue"
    assert kiosk.sync.health().code == "catalogue_rejected"


def test_a_corrupted_delta_triggers_one_fresh_snapshot_then_is_ignored(edge_store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock) -> None:
    fill(edge_store, 20)
    pub = publisher(edge_store, bus, clock)
    pub.sync()
    kiosk = SimKiosk(bus, SimulatedReplicaStore(), clock).connect()
    start = kiosk.sync.version
    edge_store.update_price("P000001", Money(7, "CNY"))
    blob = rf.decode(rf.encode_delta(start, start + 1, digest=123, count=20))  # a delta with a wrong digest
    bad = rf.encode_delta(start, start + 1, upserts=[], removals=[], digest=blob["digest"], count=20)
    bus.publish([(catalogue_delta_topic(STORE), bad)])
    assert kiosk.sync.version == start and kiosk.sync.rejected == 2  # once, then again on the fresh snapshot
    assert kiosk.sync.snapshots_applied == 2
    pub.sync()  # the real delta arrives and applies
    assert kiosk.sync.version == edge_store.version()


def test_a_kiosk_behind_the_edge_for_too_long_reports_stale(edge_store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock) -> None:
    fill(edge_store, 10)
    pub = publisher(edge_store, bus, clock, chunk_rows=5)
    pub.sync()
    manifest = bus.retained[catalogue_manifest_topic(STORE)]
    kiosk = SimKiosk(SimulatedCatalogueBus(), SimulatedReplicaStore(), clock, stale_after_s=30)
    kiosk.sync.handle(catalogue_manifest_topic(STORE), manifest)  # the manifest, but no chunks
    kiosk.sync.tick()
    assert kiosk.sync.take_events() == [] and kiosk.sync.health().status is DeviceStatus.FAULT
    clock.advance(31)
    kiosk.sync.tick()
    kiosk.sync.tick()
    assert [e.kind for e in kiosk.sync.take_events()] == ["replica_stale"]  # once, not every tick
    for n in range(2):
        kiosk.sync.handle(catalogue_snapshot_topic(STORE, edge_store.version(), n), bus.retained[catalogue_snapshot_topic(STORE, edge_store.version(), n)])
    kiosk.sync.tick()
    assert kiosk.sync.health().status is DeviceStatus.OK


class Promotions:
    def __init__(self) -> None:
        self.v = 1
        self.promos: list[Mapping[str, Any]] = [{"promotion_id": "p1", "kind": "percent_off", "percent": 10}]

    def version(self) -> int:
        return self.v

    def snapshot(self) -> Mapping[str, Any]:
        return {"version": self.v, "promotions": self.promos, "coupons": [{"code": "HELLO"}]}


def test_promotions_ride_along_and_are_persisted(edge_store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock, tmp_path: Path) -> None:
    fill(edge_store, 5)
    source = Promotions()
    pub = publisher(edge_store, bus, clock, promotions=source)
    pub.sync()
    handed: list[PromotionsBundle | None] = []
    with SqliteReplicaStore(tmp_path / "r.sqlite3") as disk:
        kiosk = SimKiosk(bus, disk, clock, on_replica=lambda r, p: handed.append(p)).connect()
        assert kiosk.sync.promotions is not None and kiosk.sync.promotions.version == 1
        source.v, source.promos = 2, []
        assert pub.sync()
        assert handed[-1] == PromotionsBundle(2, (), ({"code": "HELLO"},))
        reloaded = disk.load()
    assert reloaded is not None and reloaded.promotions == PromotionsBundle(2, (), ({"code": "HELLO"},))


def test_a_failing_disk_keeps_the_kiosk_selling_from_memory(edge_store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock) -> None:
    fill(edge_store, 5)
    publisher(edge_store, bus, clock).sync()
    disk = SimulatedReplicaStore()
    disk.fail_writes = True
    kiosk = SimKiosk(bus, disk, clock).connect()
    assert kiosk.sync.version == edge_store.version()
    assert [e.kind for e in kiosk.sync.take_events()] == ["replica_not_saved"]


def test_a_snapshot_and_a_delta_flushed_together_are_persisted_as_the_state_after_the_delta(
    edge_store: CatalogueStore, bus: SimulatedCatalogueBus, clock: FakeClock, tmp_path: Path
) -> None:
    """A kiosk's first connection often takes the snapshot and the delta in one batch; what it
    saves must reload with a matching digest, so it can sell offline after a restart."""
    fill(edge_store, 30)
    pub = publisher(edge_store, bus, clock)
    pub.sync()
    edge_store.update_price("P000004", Money(444, "CNY"))
    pub.sync()
    path = tmp_path / "kiosk" / "replica.sqlite3"
    with SqliteReplicaStore(path) as disk:
        sync = CatalogueSync(disk, store_id=STORE, kiosk_id="kiosk-01", clock=clock)
        sync.handle(catalogue_manifest_topic(STORE), bus.retained[catalogue_manifest_topic(STORE)])
        sync.handle(catalogue_delta_topic(STORE), bus.retained[catalogue_delta_topic(STORE)])
        for topic, payload in sorted(bus.retained.items()):
            if "/snapshot/" in topic:
                sync.handle(topic, payload)
        sync.flush()
        assert sync.version == edge_store.version()
    with SqliteReplicaStore(path) as disk:
        again = CatalogueSync(disk, store_id=STORE, kiosk_id="kiosk-01", clock=clock)
        assert again.version == edge_store.version()
        assert again.item("P000004").unit_price == Money(444, "CNY")  # type: ignore[union-attr]
