"""The HqClient contract: the HTTP adapter against a real HQ process and the simulator pass
the same tests."""

from __future__ import annotations

import random
import socket
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from broker.contract import Sale, encode
from edge.hqsync import (
    HqAuthError,
    HqClient,
    HqConflictError,
    HqRequestError,
    HqUnavailableError,
    HttpHqClient,
    SimulatedHq,
    SimulatedHqClient,
)
from edge.hqsync.items import OutboxRow, encode_sale
from kiosk.simulated_seller import random_sale_draft
from retail.clock import FakeClock
from tests.hqsync.helpers import LiveHq

START = datetime(2026, 3, 15, 10, 0, tzinfo=timezone.utc)


class HttpBackend:
    def __init__(self, hq: LiveHq) -> None:
        self.hq = hq
        self.clients: list[HttpHqClient] = []

    def store(self, store_id: str, region: str = "east") -> HqClient:
        c = HttpHqClient(self.hq.url, token=self.hq.create_store(store_id, region=region), timeout_s=30)
        self.clients.append(c)
        return c

    def publish(self, changes: dict[str, Any]) -> int:
        return self.hq.publish(changes)

    def unreachable(self) -> HqClient:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        c = HttpHqClient(f"http://127.0.0.1:{port}", token="tpe_nothing", timeout_s=2, connect_timeout_s=1)
        self.clients.append(c)
        return c

    def stranger(self) -> HqClient:
        c = HttpHqClient(self.hq.url, token="tpe_" + "x" * 43)
        self.clients.append(c)
        return c

    def close(self) -> None:
        for c in self.clients:
            c.close()


class SimBackend:
    def __init__(self) -> None:
        self.sim = SimulatedHq(clock=FakeClock(START))

    def store(self, store_id: str, region: str = "east") -> HqClient:
        return SimulatedHqClient(self.sim, self.sim.create_store(store_id, region=region))

    def publish(self, changes: dict[str, Any]) -> int:
        return self.sim.publish(**changes)

    def unreachable(self) -> HqClient:
        c = SimulatedHqClient(self.sim, self.sim.create_store(f"gone-{uuid.uuid4().hex[:6]}"))
        c.go_down()
        return c

    def stranger(self) -> HqClient:
        return SimulatedHqClient(self.sim, "tpe_" + "x" * 43)

    def close(self) -> None:
        self.sim.down = False


@pytest.fixture(params=["http", "simulated"])
def backend(request: pytest.FixtureRequest) -> Iterator[HttpBackend | SimBackend]:
    b: HttpBackend | SimBackend = HttpBackend(request.getfixturevalue("live_hq")) if request.param == "http" else SimBackend()
    try:
        yield b
    finally:
        b.close()


def _sid() -> str:
    return f"c{uuid.uuid4().hex[:8]}"


def _sale(store_id: str, kiosk: str, seq: int, rng: random.Random, *, currency: str = "CNY") -> Sale:
    draft = random_sale_draft(rng, store_id=store_id, kiosk_id=kiosk, clock=FakeClock(START), currency=currency)
    return Sale.from_draft(draft, seq)


def _item(sale: Sale) -> dict[str, Any]:
    return encode_sale(OutboxRow(0, "sale", f"{sale.kiosk_id}/{sale.sale_id}", encode(sale)))


def test_a_batch_is_kept_once_and_its_resend_is_all_duplicate(backend: HttpBackend | SimBackend) -> None:
    sid = _sid()
    client = backend.store(sid)
    rng = random.Random(1)
    items = [_item(_sale(sid, "k1", n, rng)) for n in range(1, 6)]
    first = client.send_batch({"batch_id": "b-1", "store_id": sid, "items": items})
    again = client.send_batch({"batch_id": "b-1", "store_id": sid, "items": items})
    assert [i.status for i in first.items] == ["accepted"] * 5
    assert [i.status for i in again.items] == ["duplicate"] * 5
    assert (first.times_received, again.times_received) == (1, 2)


def test_another_body_under_a_known_key_is_a_conflict_and_a_broken_item_is_rejected(backend: HttpBackend | SimBackend) -> None:
    sid = _sid()
    client = backend.store(sid)
    rng = random.Random(2)
    original = _sale(sid, "k1", 1, rng)
    client.send_batch({"batch_id": "b-1", "store_id": sid, "items": [_item(original)]})
    other = _sale(sid, "k1", 1, rng).model_copy(update={"sale_id": original.sale_id})
    other = Sale.from_draft(other.draft(), 1)  # re-hashed: same key, another body
    usd = _sale(sid, "k1", 2, rng, currency="USD")
    fine = _sale(sid, "k1", 3, rng)
    result = client.send_batch({"batch_id": "b-2", "store_id": sid, "items": [_item(other), _item(usd), _item(fine)]})
    assert [i.status for i in result.items] == ["conflict", "rejected", "accepted"]
    assert result.items[1].reason.startswith("wrong_currency")


def test_reconciliation_and_cursor_count_what_hq_holds(backend: HttpBackend | SimBackend) -> None:
    sid = _sid()
    client = backend.store(sid)
    rng = random.Random(3)
    sales = [_sale(sid, k, n, rng) for k in ("k1", "k2") for n in range(1, 4)]
    client.send_batch({"batch_id": "b-1", "store_id": sid, "items": [_item(s) for s in sales]})
    rows = client.reconciliation(START.date(), START.date())
    assert [(r.kiosk_id, r.count, r.total_minor, r.highest_seq) for r in rows] == [
        (k, 3, sum(s.totals.total_minor for s in sales if s.kiosk_id == k), 3) for k in ("k1", "k2")]
    assert client.cursor() == {"k1": 3, "k2": 3}


def test_catalogue_changes_come_by_version_with_the_stores_price_scopes(backend: HttpBackend | SimBackend) -> None:
    sid = _sid()
    client = backend.store(sid, region="north")
    sku = f"sku-{uuid.uuid4().hex[:6]}"
    v1 = backend.publish({"products": [{"sku": sku, "name_en": "Tea", "name_zh": "茶"}],
                          "prices": [{"sku": sku, "scope": "chain", "price_minor": 500},
                                     {"sku": sku, "scope": "region:north", "price_minor": 450},
                                     {"sku": sku, "scope": "region:south", "price_minor": 400}]})
    full = client.catalogue(0)
    mine = sorted((p["scope"], p["price_minor"]) for p in full["prices"] if p["sku"] == sku)
    assert mine == [("chain", 500), ("region:north", 450)]
    v2 = backend.publish({"prices": [{"sku": sku, "scope": f"store:{sid}", "price_minor": 420}]})
    delta = client.catalogue(v1)
    assert v2 > v1 and delta["version"] == v2 and not delta["full"]
    assert [(p["sku"], p["scope"], p["price_minor"]) for p in delta["prices"]] == [(sku, f"store:{sid}", 420)]
    assert delta["products"] == []


def test_an_unknown_token_is_refused_as_an_auth_error(backend: HttpBackend | SimBackend) -> None:
    with pytest.raises(HqAuthError):
        backend.stranger().cursor()


def test_a_rotated_token_is_used_and_changes_the_credential_id(backend: HttpBackend | SimBackend) -> None:
    client = backend.store(_sid())
    before = client.credential_id()
    client.rotate_token()
    assert client.credential_id() != before
    assert client.cursor() == {}


def test_hq_away_is_reported_as_unavailable(backend: HttpBackend | SimBackend) -> None:
    with pytest.raises(HqUnavailableError):
        backend.unreachable().cursor()


def test_a_batch_hq_cannot_read_is_refused_whole(backend: HttpBackend | SimBackend) -> None:
    sid = _sid()
    client = backend.store(sid)
    with pytest.raises(HqRequestError):
        client.send_batch({"batch_id": "b-1", "store_id": sid, "items": [{"kind": "gift_card", "body": {}}]})


def test_a_transfer_is_requested_shipped_and_received_by_the_two_shops(backend: HttpBackend | SimBackend) -> None:
    a_id, b_id = _sid(), _sid()
    a, b = backend.store(a_id), backend.store(b_id)
    t = b.request_transfer(a_id, [{"sku": "tea", "quantity": 3, "weight_g": 0}], "for the weekend")
    assert t["status"] == "requested" and t["to_store_id"] == b_id
    assert [x["id"] for x in a.transfers(pending=True)] == [t["id"]]
    shipped = a.ship_transfer(t["id"], [{"sku": "tea", "quantity": 2, "weight_g": 0}])
    assert shipped["status"] == "shipped" and shipped["shipped_lines"][0]["quantity"] == 2
    with pytest.raises(HqConflictError):
        a.ship_transfer(t["id"])
    received = b.receive_transfer(t["id"])
    assert received["status"] == "received" and received["received_lines"][0]["quantity"] == 2
    assert a.transfers(pending=True) == []
