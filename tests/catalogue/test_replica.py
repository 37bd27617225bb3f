"""The replica: snapshot chunks, deltas and their application on the kiosk side."""

from __future__ import annotations

import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.catalogue import replica_format as rf
from edge.catalogue.distribution import CatalogueDistributor
from edge.catalogue.errors import ReplicaChecksumError, ReplicaFormatError, ReplicaGapError, StaleVersionError
from edge.catalogue.model import Category
from edge.catalogue.store import CatalogueStore
from retail.clock import FakeClock
from retail.money import Money
from tests.catalogue.conftest import product


def load(chunks: list[bytes], state: rf.ReplicaState | None = None) -> rf.ReplicaState:
    state = state or rf.empty_state()
    for c in chunks:
        state = rf.apply(state, c)
    return state


def fill(store: CatalogueStore, n: int) -> None:
    for i in range(n):
        store.create(product(f"S{i:03d}", price=100 + i, plu=str(1000 + i)))


def test_a_snapshot_in_chunks_gives_the_kiosk_every_active_product(store: CatalogueStore) -> None:
    fill(store, 12)
    store.set_active("S003", False)
    chunks = CatalogueDistributor(store, chunk_rows=5).snapshot()
    assert len(chunks) == 3
    state = load(list(reversed(chunks)))  # order of arrival does not matter
    assert state.version == store.version()
    assert len(state.products) == 11 and "S003" not in state.products
    items = {i.sku: i for i in rf.to_items(state)}
    assert items["S005"].unit_price == Money(105, "CNY") and items["S005"].plu == "1005"
    assert set(state.categories) == {"fruit", "drinks", "bakery"}


def test_until_the_last_chunk_arrives_the_replica_is_not_complete(store: CatalogueStore) -> None:
    fill(store, 12)
    chunks = CatalogueDistributor(store, chunk_rows=5).snapshot()
    state = load(chunks[:2])
    assert not state.complete and state.missing_chunks(store.version()) == [2]
    assert load(chunks[2:], state).complete


def test_a_tampered_chunk_fails_the_checksum(store: CatalogueStore) -> None:
    fill(store, 3)
    (chunk,) = CatalogueDistributor(store).snapshot()
    text = zlib.decompress(chunk).replace(b"Item S001", b"Item S00X")
    with pytest.raises(ReplicaChecksumError):
        rf.apply(rf.empty_state(), zlib.compress(text))
    with pytest.raises(ReplicaFormatError):
        rf.apply(rf.empty_state(), b"not zlib")


def test_a_price_change_reaches_the_replica_as_a_small_delta(store: CatalogueStore) -> None:
    fill(store, 20)
    dist = CatalogueDistributor(store)
    state = load(dist.snapshot())
    base = state.version
    store.update_price("S007", Money(999, "CNY"))
    delta = dist.delta(base)
    msg = rf.decode(delta)
    assert [r[0] for r in msg["upserts"]] == ["S007"] and msg["removals"] == []
    state = rf.apply(state, delta)
    assert state.version == store.version()
    assert rf.row_to_item(state.products["S007"]).unit_price == Money(999, "CNY")
    assert rf.apply(state, delta) is state  # a repeat is ignored


def test_deactivating_removes_and_a_stale_or_gapped_delta_is_handled(store: CatalogueStore) -> None:
    fill(store, 5)
    dist = CatalogueDistributor(store)
    state = load(dist.snapshot())
    v0 = state.version
    store.set_active("S001", False)
    v1 = store.version()
    store.update_price("S002", Money(1, "CNY"))
    # a cumulative delta from v0 also applies to a replica already at v1
    at_v1 = rf.apply(state, dist.delta(v0))
    assert "S001" not in at_v1.products
    with pytest.raises(ReplicaGapError):
        rf.apply(rf.empty_state(), dist.delta(v1))
    with pytest.raises(StaleVersionError):
        dist.delta(store.version() + 1)
    with pytest.raises(StaleVersionError):
        dist.snapshot(v0)


def test_a_delta_that_would_leave_a_different_replica_is_refused(store: CatalogueStore) -> None:
    fill(store, 3)
    dist = CatalogueDistributor(store)
    state = load(dist.snapshot())
    # the kiosk's replica was damaged: it lost a product
    products = dict(state.products)
    del products["S000"]
    broken = rf.ReplicaState(state.version, products, state.categories, state.digest)
    store.update_price("S002", Money(7, "CNY"))
    with pytest.raises(ReplicaChecksumError):
        rf.apply(broken, dist.delta(state.version))


# -- property: snapshot + deltas == fresh snapshot ------------------------------------------------
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(0, 15), st.integers(0, 5000)),
        st.tuples(st.just("price"), st.integers(0, 15), st.integers(0, 5000)),
        st.tuples(st.just("active"), st.integers(0, 15), st.booleans()),
        st.tuples(st.just("category"), st.integers(0, 3), st.integers(0, 9)),
        st.tuples(st.just("sync"), st.just(0), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, start=st.integers(0, 6))
def test_applying_a_snapshot_then_deltas_equals_a_fresh_snapshot(ops: list[tuple[str, int, object]], start: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, CatalogueStore(Path(tmp) / "e.db", clock=FakeClock()) as store:
        store.put_category(Category("fruit", "Fruit", "水果"))
        for i in range(start):
            store.create(product(f"K{i}", price=i))
        dist = CatalogueDistributor(store, chunk_rows=3)
        state = load(dist.snapshot())
        for op, n, value in ops:
            sku = f"K{n}"
            exists = store.find(sku) is not None
            if op == "create" and not exists:
                store.create(product(sku, price=int(value)))  # type: ignore[arg-type]
            elif op == "price" and exists:
                store.update_price(sku, Money(int(value), "CNY"))  # type: ignore[arg-type]
            elif op == "active" and exists:
                store.set_active(sku, bool(value))
            elif op == "category":
                store.put_category(Category(f"c{n}", f"Cat {value}", f"类{value}"))
            elif op == "sync":
                state = rf.apply(state, dist.delta(state.version))
        state = rf.apply(state, dist.delta(state.version))
        fresh = load(dist.snapshot())
        assert dict(state.products) == dict(fresh.products)
        assert dict(state.categories) == dict(fresh.categories)
        assert (state.version, state.digest) == (fresh.version, fresh.digest)
