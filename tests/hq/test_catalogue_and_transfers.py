"""The master catalogue (versioned, pulled by edges) and transfers between shops."""

from __future__ import annotations

from tests.hq.helpers import Harness


def _publish(hq: Harness, **changes) -> int:
    r = hq.client.post("/api/v1/catalogue/changes", json=changes, headers=hq.admin)
    assert r.status_code == 201, r.text
    return r.json()["version"]


def test_catalogue_snapshot_then_changes_since_a_version(hq: Harness) -> None:
    edge = hq.create_store("s1", region="east")
    v1 = _publish(hq, note="launch", products=[
        {"sku": "a", "name_en": "Apple", "name_zh": "苹果", "category": "fruit", "gtins": ["06901234567892"]},
        {"sku": "b", "name_en": "Bread", "name_zh": "面包", "category": "bakery"}],
        prices=[{"sku": "a", "price_minor": 350}, {"sku": "b", "price_minor": 800}])
    full = hq.client.get("/api/v1/catalogue", params={"since_version": 0}, headers=edge).json()
    assert full["full"] is True and full["version"] == v1
    assert [p["sku"] for p in full["products"]] == ["a", "b"]
    v2 = _publish(hq, prices=[{"sku": "a", "scope": "store:s1", "price_minor": 300},
                              {"sku": "a", "scope": "store:s2", "price_minor": 290},
                              {"sku": "b", "scope": "region:east", "price_minor": 750}],
                  remove_products=[])
    delta = hq.client.get("/api/v1/catalogue", params={"since_version": v1}, headers=edge).json()
    assert delta["full"] is False and delta["version"] == v2
    assert delta["products"] == []
    assert sorted((p["sku"], p["scope"], p["price_minor"]) for p in delta["prices"]) == [
        ("a", "store:s1", 300), ("b", "region:east", 750)]  # not store:s2's price
    v3 = _publish(hq, remove_products=["b"],
                  promotions=[{"promotion_id": "p1", "scope": "chain", "definition": {"kind": "percent", "pct": 10}}])
    delta = hq.client.get("/api/v1/catalogue", params={"since_version": v2}, headers=edge).json()
    assert [(p["sku"], p["active"]) for p in delta["products"]] == [("b", False)]
    assert {(p["sku"], p["scope"], p["active"]) for p in delta["prices"]} == {("b", "chain", False),
                                                                            ("b", "region:east", False)}
    assert [p["promotion_id"] for p in delta["promotions"]] == ["p1"]
    assert hq.client.get("/api/v1/catalogue", params={"since_version": v3}, headers=edge).json()["products"] == []
    snapshot = hq.client.get("/api/v1/catalogue", headers=edge).json()
    assert [p["sku"] for p in snapshot["products"]] == ["a"]  # removals are not in a snapshot


def test_a_price_for_an_unknown_product_is_refused_and_nothing_is_published(hq: Harness) -> None:
    r = hq.client.post("/api/v1/catalogue/changes", json={"prices": [{"sku": "ghost", "price_minor": 1}]},
                       headers=hq.admin)
    assert r.status_code == 404
    assert hq.client.get("/api/v1/catalogue/versions", headers=hq.admin).json() == []


def test_sales_take_their_category_from_the_master_catalogue(hq: Harness) -> None:
    from tests.hq.helpers import batch, make_sale

    edge = hq.create_store("s1")
    _publish(hq, products=[{"sku": "a", "name_en": "Apple", "name_zh": "苹果", "category": "fruit"}])
    hq.send(edge, batch("s1", [make_sale("s1", "k1", 1, lines=[("a", 2, 100), ("zz", 1, 50)])]))
    cats = hq.client.get("/api/v1/summaries/stores/s1", params={"period": "day", "date": "2026-03-15"},
                         headers=hq.admin).json()["current"]["top_categories"]
    assert [(c["category"], c["revenue_minor"]) for c in cats] == [("fruit", 200), ("uncategorised", 50)]


def test_transfer_is_requested_shipped_and_received_by_the_right_stores(hq: Harness) -> None:
    s1 = hq.create_store("s1")
    s2 = hq.create_store("s2")
    r = hq.client.post("/api/v1/transfers", json={"from_store_id": "s2", "lines": [{"sku": "a", "quantity": 12}]},
                       headers=s1)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert r.json()["to_store_id"] == "s1" and r.json()["status"] == "requested"
    # both sides see it pending
    for edge in (s1, s2):
        assert [t["id"] for t in hq.client.get("/api/v1/transfers", headers=edge).json()] == [tid]
    # only the shipping store ships, only the requesting store receives
    assert hq.client.post(f"/api/v1/transfers/{tid}/ship", headers=s1).status_code == 403
    assert hq.client.post(f"/api/v1/transfers/{tid}/receive", headers=s1).status_code == 409
    shipped = hq.client.post(f"/api/v1/transfers/{tid}/ship", json={"lines": [{"sku": "a", "quantity": 10}]},
                             headers=s2).json()
    assert shipped["status"] == "shipped" and shipped["shipped_lines"][0]["quantity"] == 10
    assert hq.client.post(f"/api/v1/transfers/{tid}/receive", headers=s2).status_code == 403
    received = hq.client.post(f"/api/v1/transfers/{tid}/receive", headers=s1).json()
    assert received["status"] == "received" and received["received_lines"][0]["quantity"] == 10
    assert hq.client.get("/api/v1/transfers", headers=s1).json() == []
    assert len(hq.client.get("/api/v1/transfers", params={"pending": False}, headers=s2).json()) == 1


def test_a_third_store_does_not_see_or_touch_a_transfer(hq: Harness) -> None:
    s1 = hq.create_store("s1")
    hq.create_store("s2")
    s3 = hq.create_store("s3")
    tid = hq.client.post("/api/v1/transfers", json={"from_store_id": "s2", "lines": [{"sku": "a", "quantity": 1}]},
                         headers=s1).json()["id"]
    assert hq.client.get("/api/v1/transfers", headers=s3).json() == []
    assert hq.client.post(f"/api/v1/transfers/{tid}/cancel", headers=s3).status_code == 403
    assert hq.client.post(f"/api/v1/transfers/{tid}/cancel", headers=s1).json()["status"] == "cancelled"


def test_a_transfer_line_must_move_something(hq: Harness) -> None:
    s1 = hq.create_store("s1")
    hq.create_store("s2")
    r = hq.client.post("/api/v1/transfers", json={"from_store_id": "s2", "lines": [{"sku": "a"}]}, headers=s1)
    assert r.status_code == 400
