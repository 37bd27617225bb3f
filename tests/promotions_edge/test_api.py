"""The promotions JSON API: 422 with the reason, the edit permission, preview and coupons."""

from __future__ import annotations

from typing import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from edge.promotions import PromotionStore
from edge.promotions.api import routers as promotion_routers
from edge.staff.api import routers as staff_routers
from tests.refunds.shop import PASSWORDS, Shop

TEA20 = {"type": "percent_off", "promotion_id": "tea-20", "name_en": "Tea 20% off", "name_zh": "茶饮八折",
         "skus": ["tea-500"], "percent_bp": 2000}


@pytest.fixture
def client(shop: Shop, promotions: PromotionStore) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.staff_store = shop.staff
    app.state.promotions = promotions
    for router in [*staff_routers(), *promotion_routers()]:
        app.include_router(router)
    with TestClient(app) as c:
        yield c


def auth(client: TestClient, username: str) -> dict[str, str]:
    token = client.post("/api/auth/login", json={"username": username, "password": PASSWORDS[username]}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_an_unknown_sku_is_answered_422_with_the_message(client: TestClient) -> None:
    made = client.post("/api/promotions", json={**TEA20, "skus": ["ghost"]}, headers=auth(client, "mia"))
    assert made.status_code == 422 and "ghost" in made.json()["detail"]["detail"]
    unknown_type = client.post("/api/promotions", json={**TEA20, "type": "free_lunch"}, headers=auth(client, "mia"))
    assert unknown_type.status_code == 422 and "free_lunch" in unknown_type.json()["detail"]["detail"]


def test_writing_promotions_needs_promotions_edit(client: TestClient) -> None:
    assert client.post("/api/promotions", json=TEA20, headers=auth(client, "sam")).status_code == 403
    mia = auth(client, "mia")
    made = client.post("/api/promotions", json=TEA20, headers=mia)
    assert made.status_code == 201 and made.json()["version"] == 1 and made.json()["updated_by"] == "S0002"
    off = client.put("/api/promotions/tea-20/active", json={"active": False}, headers=mia)
    assert off.json()["active"] is False
    listed = client.get("/api/promotions", headers=auth(client, "sam")).json()
    assert listed["version"] == 2 and listed["promotions"][0]["active"] is False


def test_preview_returns_lines_savings_with_both_names_and_total(client: TestClient) -> None:
    mia = auth(client, "mia")
    client.post("/api/promotions", json=TEA20, headers=mia)
    body = {"lines": [{"sku": "tea-500", "quantity": 3}, {"sku": "banana", "weight_g": 1000}], "at": "2026-03-02T10:00:00"}
    result = client.post("/api/promotions/preview", json=body, headers=auth(client, "ann")).json()
    assert result["subtotal"]["minor"] == 1050 + 698 and result["total"]["minor"] == 1050 - 210 + 698
    assert result["savings_by_promotion"] == [{"promotion_id": "tea-20", "name_en": "Tea 20% off", "name_zh": "茶饮八折",
                                               "amount": {"minor": 210, "currency": "CNY"}}]
    assert result["lines"][0]["promotions"][0]["name_zh"] == "茶饮八折"
    assert sum(t["gross"]["minor"] for t in result["tax"]) == result["total"]["minor"]


def test_preview_of_an_unknown_sku_is_422(client: TestClient) -> None:
    bad = client.post("/api/promotions/preview", json={"lines": [{"sku": "ghost"}]}, headers=auth(client, "ann"))
    assert bad.status_code == 422


def test_coupons_over_http(client: TestClient) -> None:
    mia = auth(client, "mia")
    client.post("/api/promotions", json={**TEA20, "coupon_code": "TEA"}, headers=mia)
    made = client.post("/api/promotions/coupons", json={"code": "tea-0001", "promotion_id": "tea-20"}, headers=mia)
    assert made.status_code == 201 and made.json()["single_use"] is True
    priced = client.post("/api/promotions/preview", json={"lines": [{"sku": "tea-500"}], "coupons": ["TEA-0001"]},
                         headers=mia).json()
    assert priced["total"]["minor"] == 280
    assert client.post("/api/promotions/coupons/TEA-0001/redemptions", json={"ref": "s1"}, headers=mia).json()["redemptions"] == 1
    refused = client.post("/api/promotions/coupons/TEA-0001/redemptions", json={"ref": "s2"}, headers=mia)
    assert refused.status_code == 409 and refused.json()["detail"]["detail"] == "already used"
    assert client.get("/api/promotions/coupons/tea-0001", headers=mia).json()["usable_now"] is False
