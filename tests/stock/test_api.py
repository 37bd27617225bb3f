"""The stock JSON API, driven through a small FastAPI app."""

from __future__ import annotations

from datetime import timedelta
from typing import Iterator

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

from edge.stock.api import routers
from edge.stock.service import StockService
from retail.clock import FakeClock


@pytest.fixture
def client(stock: StockService) -> Iterator[TestClient]:
    app = FastAPI()
    for r in routers():
        app.include_router(r)
    app.state.stock = stock
    with TestClient(app) as c:
        yield c


def test_moves_and_levels(client: TestClient) -> None:
    assert client.post("/api/stock/moves", json={"kind": "receipt", "sku": "MILK", "amount": 12, "ref": "d1"}).status_code == 201
    assert client.post("/api/stock/moves", json={"kind": "waste", "sku": "BAN", "amount": 5, "ref": "x"}).status_code == 422
    assert client.get("/api/stock/levels").json() == [{"sku": "MILK", "units": 12, "grams": 0, "measure": "units", "amount": 12}]
    assert client.get("/api/stock/levels/MILK").json()["amount"] == 12
    assert client.get("/api/stock/moves", params={"sku": "MILK"}).json()[0]["kind"] == "receipt"


def test_supplier_order_partial_receipt_and_expiry(client: TestClient, clock: FakeClock) -> None:
    sid = client.post("/api/stock/suppliers", json={"name": "Dairy Co", "lead_time_days": 2}).json()["id"]
    po = client.post(
        "/api/stock/purchase-orders", json={"supplier_id": sid, "lines": [{"sku": "MILK", "amount": 10, "cost_minor": 600}]}
    ).json()
    soon = (clock.now().date() + timedelta(days=1)).isoformat()
    r = client.post(f"/api/stock/purchase-orders/{po['id']}/receipts", json={"lines": [{"sku": "MILK", "amount": 4, "lot": "A", "expires_on": soon}]})
    assert r.json()["status"] == "partial"
    assert client.post(f"/api/stock/purchase-orders/{po['id']}/receipts", json={"lines": [{"sku": "MILK", "amount": 7}]}).status_code == 409
    assert client.get("/api/stock/purchase-orders/999").status_code == 404
    expiring = client.get("/api/stock/expiring", params={"within_days": 2}).json()
    assert [(b["lot"], b["remaining"], b["markdown_percent"], b["markdown_price"]["minor"]) for b in expiring] == [("A", 4, 50, 625)]
    client.put("/api/stock/reorder/MILK", json={"reorder_point": 5, "supplier_id": sid})
    assert [s["sku"] for s in client.get("/api/stock/reorder").json()] == []  # 4 on hand + 6 on order
    assert client.get("/api/stock/levels/low").json()[0]["sku"] == "MILK"


def test_stocktake_flow(client: TestClient) -> None:
    client.post("/api/stock/moves", json={"kind": "receipt", "sku": "MILK", "amount": 12, "ref": "d1"})
    take = client.post("/api/stock/stocktakes", json={"note": "shelf 3"}).json()["id"]
    assert client.post(f"/api/stock/stocktakes/{take}/scans", json={"code": "6901234567892"}).json() == {"sku": "MILK", "counted": 1}
    assert client.post(f"/api/stock/stocktakes/{take}/scans", json={"code": "000"}).status_code == 404
    client.post(f"/api/stock/stocktakes/{take}/counts", json={"sku": "MILK", "amount": 9, "add": True})
    assert client.get(f"/api/stock/stocktakes/{take}/variance").json()[0]["variance"] == -2
    approved = client.post(f"/api/stock/stocktakes/{take}/approve", json={"approved_by": "ann"})
    assert approved.status_code == 200
    assert client.get("/api/stock/levels/MILK").json()["units"] == 10
    assert client.post(f"/api/stock/stocktakes/{take}/approve", json={"approved_by": "ann"}).status_code == 409


def test_transfers(client: TestClient) -> None:
    client.post("/api/stock/moves", json={"kind": "receipt", "sku": "MILK", "amount": 12, "ref": "d1"})
    assert client.post("/api/stock/transfers", json={"shop": "shop-2", "ref": "T1", "lines": {"MILK": 2}}).status_code == 201
    assert client.post("/api/stock/transfers/incoming", json={"shop": "shop-9", "ref": "T7", "lines": {"BREAD": 4}}).status_code == 201
    levels = {lv["sku"]: lv["units"] for lv in client.get("/api/stock/levels").json()}
    assert levels == {"MILK": 10, "BREAD": 4}
    assert len(client.get("/api/stock/transfers").json()) == 2


def test_the_permission_hook_guards_each_route(stock: StockService) -> None:
    asked: list[str] = []

    def require(name: str):  # the staff component's require_permission has this shape
        def dependency(request: Request) -> None:
            asked.append(name)
            if name != "stock.view" and request.headers.get("x-role") != "manager":
                raise HTTPException(403, "not allowed")

        return dependency

    app = FastAPI()
    for r in routers(permission=require):
        app.include_router(r)
    app.state.stock = stock
    with TestClient(app) as c:
        assert c.get("/api/stock/levels").status_code == 200
        assert c.post("/api/stock/stocktakes", json={}).status_code == 403
        assert c.post("/api/stock/stocktakes", json={}, headers={"x-role": "manager"}).status_code == 201
    assert asked == ["stock.view", "stock.edit", "stock.edit"]
