"""HQ keeps an edge's refunds exactly once (SQLite and PostgreSQL) and takes them off revenue."""

from __future__ import annotations

from typing import Any

from tests.hq.helpers import Harness, canonical_hash, make_sale, sale_item


def _refund(refund_id: str = "r-1", *, total: int = 350, currency: str = "CNY", store_id: str = "s1",
            business_date: str = "2026-03-15", reason: str = "damaged") -> dict[str, Any]:
    """A body shaped like the edge refund service's ``tillpi.refund/1`` payload."""
    return {
        "schema": "tillpi.refund/1", "refund_id": refund_id, "store_id": store_id, "kiosk_id": "k1",
        "sale_id": "9b2f0c1e-0000-4000-8000-000000000001", "sale_seq": 1, "member_id": None,
        "business_date": business_date, "mode": "original", "currency": currency, "total_minor": total,
        "tax_minor": total * 13 // 113, "reason": reason, "actor": "staff-1",
        "created_at": "2026-03-15T11:00:00+00:00",
        "lines": [{"line_no": 1, "sku": "sku-apple", "name": "apple", "quantity": 1, "weight_g": None,
                   "net_minor": total, "tax_rate_bp": 1300, "tax_minor": total * 13 // 113}],
        "payments": [{"method": "card", "refunded_as": "card", "amount_minor": total}],
        "members_done": True, "members_note": "",
    }


def _item(body: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {"kind": "refund", "event_id": event_id or f"refund:{body['refund_id']}", "kiosk_id": body["kiosk_id"],
            "business_date": body["business_date"], "body_hash": canonical_hash(body), "body": body}


def _send(hq: Harness, edge: dict[str, str], batch_id: str, items: list[dict[str, Any]]) -> list[str]:
    out = hq.send(edge, {"batch_id": batch_id, "store_id": "s1", "items": items})
    return [i["status"] for i in out["items"]]


def _revenue(hq: Harness) -> int:
    r = hq.client.get("/api/v1/summaries/stores/s1", params={"period": "day", "date": "2026-03-15"}, headers=hq.admin)
    assert r.status_code == 200, r.text
    return int(r.json()["current"]["revenue_minor"])


def test_a_refund_is_accepted_once_and_a_repeat_is_a_duplicate(hq: Harness) -> None:
    edge = hq.create_store("s1")
    body = _refund()
    assert _send(hq, edge, "rf-1", [_item(body)]) == ["accepted"]
    assert _send(hq, edge, "rf-1", [_item(body)]) == ["duplicate"]  # the same batch again
    assert _send(hq, edge, "rf-2", [_item(body), _item(body)]) == ["duplicate", "duplicate"]  # another batch


def test_another_body_under_the_same_refund_key_is_a_conflict_and_the_original_is_kept(hq: Harness) -> None:
    edge = hq.create_store("s1")
    hq.send(edge, {"batch_id": "sale-1", "store_id": "s1", "items": [sale_item(make_sale("s1", "k1", 1))]})
    assert _send(hq, edge, "rf-1", [_item(_refund(total=300))]) == ["accepted"]
    assert _send(hq, edge, "rf-2", [_item(_refund(total=500, reason="changed"))]) == ["conflict"]
    conflicts = hq.client.get("/api/v1/sync/conflicts", headers=edge)
    assert conflicts.status_code == 200, conflicts.text
    assert [(c["kind"], c["id"], c["batch_id"]) for c in conflicts.json()] == [("refund", "refund:r-1", "rf-2")]
    assert _revenue(hq) == 700 - 300  # the kept refund, not the newcomer


def test_refunds_come_off_the_revenue_of_their_business_day(hq: Harness) -> None:
    edge = hq.create_store("s1")
    hq.send(edge, {"batch_id": "sale-1", "store_id": "s1", "items": [sale_item(make_sale("s1", "k1", 1))]})
    before = _revenue(hq)
    assert before == 700
    items = [_item(_refund("r-1", total=350)), _item(_refund("r-2", total=100)),
             _item(_refund("r-3", total=50, business_date="2026-03-14"))]
    assert _send(hq, edge, "rf-1", items) == ["accepted"] * 3
    assert _send(hq, edge, "rf-1", items) == ["duplicate"] * 3
    assert _revenue(hq) == 700 - 350 - 100  # counted once; the refund of the 14th is not in the 15th
    chain = hq.client.get("/api/v1/summaries/chain", params={"period": "day", "date": "2026-03-15"},
                          headers=hq.admin)
    assert chain.status_code == 200, chain.text
    assert [(s["store_id"], s["revenue_minor"]) for s in chain.json()["stores"]] == [("s1", 250)]
    assert chain.json()["previous"]["revenue_minor"] == -50  # a day with only a refund


def test_refunds_hq_cannot_read_or_for_another_store_are_rejected(hq: Harness) -> None:
    edge = hq.create_store("s1")
    bad_hash = dict(_item(_refund("r-1")), body_hash="0" * 64)
    not_a_refund = _item({"refund_id": "r-2", "kiosk_id": "k1", "business_date": "2026-03-15"})
    statuses = _send(hq, edge, "rf-bad", [
        bad_hash, not_a_refund, _item(_refund("r-3", currency="EUR")), _item(_refund("r-4", store_id="s9")),
        dict(_item(_refund("r-5")), business_date="2026-03-01"), _item(_refund("r-6", total=-5)),
        _item(_refund("r-7")),
    ])
    assert statuses == ["rejected"] * 6 + ["accepted"]
    assert _revenue(hq) == -350
