"""The catalogue JSON API, driven through a small FastAPI app."""

from __future__ import annotations

import io
from typing import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from edge.catalogue.api import routers
from edge.catalogue.store import CatalogueStore

APPLE = {"sku": "A1", "name_en": "Apple", "name_zh": "苹果", "category": "fruit", "price_minor": 350, "gtins": ["6901234567892"]}


@pytest.fixture
def client(store: CatalogueStore) -> Iterator[TestClient]:
    app = FastAPI()
    for r in routers():
        app.include_router(r)
    app.state.catalogue = store
    with TestClient(app) as c:
        yield c


def test_create_get_search_and_change_a_price(client: TestClient, store: CatalogueStore) -> None:
    r = client.post("/api/catalogue/products", json=APPLE)
    assert r.status_code == 201 and r.json()["product"]["gtins"] == ["06901234567892"]
    assert client.post("/api/catalogue/products", json=APPLE).status_code == 409
    assert client.post("/api/catalogue/products", json=dict(APPLE, sku="A2", gtins=["6901234567893"])).status_code == 422
    assert client.post("/api/catalogue/products", json=dict(APPLE, sku="A3", gtins=[], category="toys")).status_code == 422
    found = client.get("/api/catalogue/products", params={"q": "苹果"}).json()
    assert found["total"] == 1 and found["items"][0]["sku"] == "A1"
    before = store.version()
    r = client.patch("/api/catalogue/products/A1/price", json={"price_minor": 299})
    assert r.json()["version"] == before + 1 and r.json()["product"]["price"] == {"minor": 299, "currency": "CNY"}
    assert client.get("/api/catalogue/products/NOPE").status_code == 404
    r = client.put("/api/catalogue/products/A1", json=dict(APPLE, name_en="Red apple", active=False))
    assert r.json()["product"]["name_en"] == "Red apple" and r.json()["product"]["active"] is False


def test_upload_preview_then_confirm(client: TestClient, store: CatalogueStore) -> None:
    bad = "sku,name_en,name_zh,category,price\nA1,Apple,苹果,fruit,3.50\nA2,Pear,梨,toys,-1\n".encode()
    preview = client.post("/api/catalogue/import", params={"format": "csv"}, content=bad).json()
    assert preview["error_count"] == 2 and {e["column"] for e in preview["errors"]} == {"category", "price"}
    assert client.post(f"/api/catalogue/import/{preview['token']}/confirm").status_code == 409
    good = "sku,name_en,name_zh,category,price\nA1,Apple,苹果,fruit,3.50\nA2,Pear,梨,fruit,4\n".encode()
    preview = client.post("/api/catalogue/import", params={"format": "csv", "job": "j1"}, content=good).json()
    assert preview["valid_rows"] == 2
    assert client.get(f"/api/catalogue/import/{preview['token']}").json()["token"] == preview["token"]
    done = client.post(f"/api/catalogue/import/{preview['token']}/confirm", params={"job": "j1"}).json()
    assert done["imported"] == 2 and store.count() == 2
    assert client.get("/api/catalogue/import/progress/j1").json() == {"job": "j1", "phase": "importing", "done": 2, "total": 2}
    assert client.post(f"/api/catalogue/import/{preview['token']}/confirm").status_code == 404


def test_export_as_csv_and_xlsx(client: TestClient) -> None:
    client.post("/api/catalogue/products", json=APPLE)
    csv_resp = client.get("/api/catalogue/export", params={"format": "csv"})
    assert csv_resp.headers["content-type"].startswith("text/csv")
    assert "A1,6901234567892,,Apple,苹果,fruit,3.50" in csv_resp.content.decode("utf-8-sig")
    xlsx = client.get("/api/catalogue/export", params={"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(xlsx.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[1][:5] == ("A1", "6901234567892", None, "Apple", "苹果")


def test_categories(client: TestClient) -> None:
    assert client.post("/api/catalogue/categories", json={"code": "frozen", "name_en": "Frozen", "name_zh": "冷冻"}).status_code == 201
    assert "frozen" in [c["code"] for c in client.get("/api/catalogue/categories").json()]
