"""Against a real HQ process: a price change at HQ reaches the edge catalogue on the next
pull (store over region over chain), transfers move both shops' stock, enrolment stores the
token 0600 and a rotated token is picked up from the file."""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from edge.catalogue.store import CatalogueStore
from edge.hqsync import EnrolmentError, HqSync, HqSyncSettings, HttpHqClient, TokenFile, enrol
from edge.stock.service import StockService
from retail.clock import FakeClock
from retail.money import Money
from tests.hqsync.helpers import LiveHq

START = datetime(2026, 3, 15, 9, 0, tzinfo=timezone.utc)


class Edge:
    """One shop's edge: its data folder, catalogue, stock and HQ sync against the live HQ."""

    def __init__(self, live_hq: LiveHq, folder: Path, clock: FakeClock, *, region: str = "east",
                 settings: HqSyncSettings | None = None) -> None:
        self.store_id = f"d{uuid.uuid4().hex[:8]}"
        TokenFile(folder / "hq_token").write(live_hq.create_store(self.store_id, region=region))
        self.client = HttpHqClient(live_hq.url, token_file=folder / "hq_token")
        self.catalogue = CatalogueStore(folder / "edge.sqlite3", clock=clock)
        self.stock = StockService(folder / "edge.sqlite3", clock=clock, catalogue=self.catalogue)
        self.sync = HqSync(folder / "ledger.sqlite3", self.client, store_id=self.store_id, clock=clock,
                           settings=settings or HqSyncSettings(region=region), catalogue=self.catalogue, stock=self.stock)

    def close(self) -> None:
        for part in (self.sync, self.stock, self.catalogue, self.client):
            part.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def edges(live_hq: LiveHq, tmp_path: Path, clock: FakeClock) -> Iterator[list[Edge]]:
    made: list[Edge] = []
    yield made
    for e in made:
        e.close()


def _edge(live_hq: LiveHq, tmp_path: Path, clock: FakeClock, edges: list[Edge], **kw: object) -> Edge:
    folder = tmp_path / f"edge{len(edges)}"
    e = Edge(live_hq, folder, clock, **kw)  # type: ignore[arg-type]
    edges.append(e)
    return e


def test_a_price_change_at_hq_reaches_the_edge_catalogue_on_the_next_pull(live_hq: LiveHq, tmp_path: Path,
                                                                         clock: FakeClock, edges: list[Edge]) -> None:
    shop = _edge(live_hq, tmp_path, clock, edges, region="north",
                 settings=HqSyncSettings(region="north", catalogue_interval_s=15))
    sku = f"tea-{uuid.uuid4().hex[:6]}"
    live_hq.publish({"products": [{"sku": sku, "name_en": "Green tea", "name_zh": "绿茶", "category": "drinks",
                                   "gtins": ["6901234567892"], "tax_rate_bp": 900}],
                     "prices": [{"sku": sku, "scope": "chain", "price_minor": 500}]})
    shop.sync.tick()
    first = shop.catalogue.get(sku)
    assert (first.price, first.active, first.tax_class.code, first.gtins) == (Money(500, "CNY"), True, "reduced",
                                                                             ("06901234567892",))
    assert shop.catalogue.find("6901234567892") is not None

    live_hq.publish({"prices": [{"sku": sku, "scope": "region:north", "price_minor": 450},
                                {"sku": sku, "scope": "region:south", "price_minor": 300}]})
    shop.sync.tick()  # within the interval: not pulled yet
    before_due = shop.catalogue.get(sku).price
    clock.advance(15)
    shop.sync.tick()
    regional = shop.catalogue.get(sku).price
    live_hq.publish({"prices": [{"sku": sku, "scope": f"store:{shop.store_id}", "price_minor": 420}]})
    shop.sync.pull_catalogue()
    own = shop.catalogue.get(sku).price
    live_hq.publish({"remove_prices": [{"sku": sku, "scope": f"store:{shop.store_id}"}]})
    shop.sync.pull_catalogue()
    assert (before_due, regional, own, shop.catalogue.get(sku).price) == (
        Money(500, "CNY"), Money(450, "CNY"), Money(420, "CNY"), Money(450, "CNY"))
    live_hq.publish({"remove_products": [sku]})
    shop.sync.pull_catalogue()
    assert shop.catalogue.get(sku).active is False


def test_a_transfer_moves_stock_out_of_one_shop_and_into_the_other(live_hq: LiveHq, tmp_path: Path,
                                                                   clock: FakeClock, edges: list[Edge]) -> None:
    a = _edge(live_hq, tmp_path, clock, edges)
    b = _edge(live_hq, tmp_path, clock, edges)
    hq_id = b.sync.request_transfer(a.store_id, {"rice-5kg": 4}, "weekend")
    assert a.sync.poll_transfers().waiting == [hq_id]
    a.sync.ship_transfer(hq_id, {"rice-5kg": 3})
    out_level = a.stock.on_hand("rice-5kg").units
    got = b.sync.poll_transfers()
    again = b.sync.poll_transfers()
    closed = a.sync.poll_transfers()
    assert (out_level, b.stock.on_hand("rice-5kg").units) == (-3, 3)
    assert (got.received, again.received, closed.closed) == ([hq_id], [], [hq_id])
    assert [(t.direction, t.status) for t in a.stock.transfers()] == [("out", "received")]
    assert [(t.direction, t.status, t.lines) for t in b.stock.transfers()] == [("in", "received", {"rice-5kg": 3})]


def test_enrolment_stores_the_token_0600_and_a_rotated_token_is_picked_up(live_hq: LiveHq, tmp_path: Path,
                                                                          clock: FakeClock) -> None:
    store_id = f"n{uuid.uuid4().hex[:8]}"
    code = live_hq.create_store_with_code(store_id)
    data = tmp_path / "edge-data"
    token = enrol(live_hq.url, code, data)
    path = data / "hq_token"
    assert token.startswith("tpe_") and path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(EnrolmentError):
        enrol(live_hq.url, code, tmp_path / "again")  # a code works once
    client = HttpHqClient(live_hq.url, token_file=path)
    with HqSync(tmp_path / "ledger.sqlite3", client, store_id=store_id, clock=clock) as sync:
        before = client.credential_id()
        new = sync.rotate_token()
        reader = HttpHqClient(live_hq.url, token_file=path)  # e.g. another process reading the file
        assert (path.read_text().strip(), client.credential_id() != before) == (new, True)
        assert reader.cursor() == {}
        reader.close()
    client.close()
