"""The refunds JSON API: permission, created vs repeated, conflicts, rules and lookups."""

from __future__ import annotations

from typing import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from edge.refunds import RefundService
from edge.refunds.api import routers as refund_routers
from edge.staff.api import routers as staff_routers
from tests.refunds.shop import PASSWORDS, Shop, line


@pytest.fixture
def client(shop: Shop, refunds: RefundService) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.staff_store = shop.staff
    app.state.refunds = refunds
    for router in [*staff_routers(), *refund_routers()]:
        app.include_router(router)
    with TestClient(app) as c:
        yield c


def auth(client: TestClient, username: str) -> dict[str, str]:
    token = client.post("/api/auth/login", json={"username": username, "password": PASSWORDS[username]}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_refund_over_http_created_then_repeated_then_conflicting(client: TestClient, shop: Shop) -> None:
    sale = shop.sell(lines=[line("tea-500", 2)])
    sam = auth(client, "sam")
    body = {"refund_id": "desk-1", "sale": sale.sale_id, "lines": [{"line_no": 1, "quantity": 1}], "reason": "leak"}
    made = client.post("/api/refunds", json=body, headers=sam)
    assert made.status_code == 201 and made.json()["total_minor"] == 350 and made.json()["replayed"] is False
    again = client.post("/api/refunds", json=body, headers=sam)
    assert again.status_code == 200 and again.json()["replayed"] is True
    other = client.post("/api/refunds", json={**body, "lines": [{"line_no": 1, "quantity": 2}]}, headers=sam)
    assert other.status_code == 409
    assert client.get("/api/refunds/desk-1", headers=sam).json()["lines"][0]["quantity"] == 1


def test_refund_api_refuses_an_attendant_and_a_stranger(client: TestClient, shop: Shop) -> None:
    sale = shop.sell()
    body = {"refund_id": "desk-2", "sale": sale.sale_id, "lines": [{"line_no": 1}]}
    assert client.post("/api/refunds", json=body).status_code == 401
    assert client.post("/api/refunds", json=body, headers=auth(client, "ann")).status_code == 403
    assert client.get(f"/api/refunds/sales/{sale.sale_id}", headers=auth(client, "ann")).status_code == 403


def test_refund_api_answers_422_for_an_over_refund_and_404_for_an_unknown_receipt(client: TestClient, shop: Shop) -> None:
    sale = shop.sell(lines=[line("water", 1)])
    sam = auth(client, "sam")
    over = client.post("/api/refunds", json={"refund_id": "d3", "sale": sale.sale_id,
                                             "lines": [{"line_no": 1, "quantity": 2}]}, headers=sam)
    assert over.status_code == 422 and "left" in over.json()["detail"]["detail"]
    missing = client.post("/api/refunds", json={"refund_id": "d4", "sale": "kiosk-01-99", "lines": [{"line_no": 1}]},
                          headers=sam)
    assert missing.status_code == 404


def test_the_sale_lookup_shows_what_is_left_to_return(client: TestClient, shop: Shop) -> None:
    sale = shop.sell(lines=[line("noodles", 3), line("banana", 500)])
    sam = auth(client, "sam")
    client.post("/api/refunds", json={"refund_id": "d5", "sale": sale.sale_id, "lines": [{"line_no": 1, "quantity": 2}]},
                headers=sam)
    found = client.get(f"/api/refunds/sales/kiosk-01-{sale.seq}", headers=sam).json()
    assert [(l["sku"], l["left"]) for l in found["lines"]] == [("noodles", 1), ("banana", 500)]
    assert found["refund_ids"] == ["d5"] and found["refunded"] == {"card": 900}
