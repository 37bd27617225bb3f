"""Builders for HQ tests: sale bodies with the bus contract's hash, batches, a test harness."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient

ADMIN_PASSWORD = "admin-password-1"


def canonical_hash(body: dict[str, Any]) -> str:
    data = {k: v for k, v in body.items() if k != "body_hash"}
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def sale_id_for(store_id: str, kiosk_id: str, seq: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tillpi:{store_id}:{kiosk_id}:{seq}"))


def make_sale(store_id: str, kiosk_id: str, seq: int, *, lines: list[tuple[str, int, int]] | None = None,
              when: datetime | None = None, business_date: date | None = None, payments: list[tuple[str, int]] | None = None,
              change: int = 0, savings: int = 0, sale_id: str | None = None, currency: str = "CNY",
              extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A sale body shaped like the bus contract's ``tillpi.sale/1``. ``lines`` are
    ``(sku, quantity, unit_price_minor)``; ``savings`` comes off the first line."""
    lines = lines or [("sku-apple", 2, 350)]
    when = when or datetime(2026, 3, 15, 10, 0, tzinfo=timezone.utc)
    out_lines = []
    for i, (sku, qty, price) in enumerate(lines):
        gross = qty * price
        saved = savings if i == 0 else 0
        net = gross - saved
        out_lines.append({
            "sku": sku, "gtin": None, "name": f"name of {sku}", "quantity": qty, "weight_g": None,
            "unit_price_minor": price, "gross_minor": gross,
            "savings": [{"promotion_id": "p1", "amount_minor": saved}] if saved else [],
            "net_minor": net, "tax_rate_bp": 1300, "tax_minor": net * 13 // 113,
        })
    subtotal = sum(x["gross_minor"] for x in out_lines)
    total = subtotal - savings
    pays = payments or [("card", total)]
    body: dict[str, Any] = {
        "schema": "tillpi.sale/1",
        "sale_id": sale_id or sale_id_for(store_id, kiosk_id, seq),
        "store_id": store_id,
        "kiosk_id": kiosk_id,
        "business_date": (business_date or when.date()).isoformat(),
        "started_at": (when - timedelta(minutes=2)).isoformat().replace("+00:00", "Z"),
        "finished_at": when.isoformat().replace("+00:00", "Z"),
        "clock_synced": True,
        "currency": currency,
        "catalogue_version": "1",
        "lines": out_lines,
        "totals": {"subtotal_minor": subtotal, "savings_minor": savings, "total_minor": total,
                   "tax_minor": sum(x["tax_minor"] for x in out_lines)},
        "payments": [{"method": m, "amount_minor": a, "reference": ""} for m, a in pays],
        "change_minor": change,
        "member_id": None,
        "approvals": [],
        "seq": seq,
    }
    if extra:
        body.update(extra)
    body["body_hash"] = canonical_hash(body)
    return body


def sale_item(body: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "sale", "kiosk_id": body["kiosk_id"], "sale_id": body["sale_id"], "seq": body["seq"],
            "body_hash": body["body_hash"], "body": body}


def batch(store_id: str, bodies: list[dict[str, Any]], batch_id: str | None = None) -> dict[str, Any]:
    return {"batch_id": batch_id or f"b-{uuid.uuid4().hex[:12]}", "store_id": store_id,
            "items": [sale_item(b) for b in bodies]}


@dataclass
class Harness:
    """Drives an HQ app through its HTTP API as admin, edges and users."""

    client: TestClient
    admin: dict[str, str] = field(default_factory=dict)

    def login(self, username: str, password: str) -> dict[str, str]:
        r = self.client.post("/api/v1/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def create_store(self, store_id: str, *, name: str | None = None, region: str = "east") -> dict[str, str]:
        """Create a store, enrol its edge, return the edge's auth headers."""
        r = self.client.post("/api/v1/stores", json={"store_id": store_id, "name": name or f"Store {store_id}",
                                                     "region": region}, headers=self.admin)
        assert r.status_code == 201, r.text
        r = self.client.post(f"/api/v1/stores/{store_id}/enrolment-codes", headers=self.admin)
        assert r.status_code == 201, r.text
        r = self.client.post("/api/v1/stores/enrol", json={"code": r.json()["code"]})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def create_user(self, username: str, role: str, stores: list[str] | None = None,
                    password: str = "user-password-1") -> dict[str, str]:
        r = self.client.post("/api/v1/users", json={"username": username, "password": password, "role": role,
                                                    "store_ids": stores or []}, headers=self.admin)
        assert r.status_code == 201, r.text
        return self.login(username, password)

    def send(self, edge: dict[str, str], payload: dict[str, Any]) -> dict[str, Any]:
        r = self.client.post("/api/v1/sync/batches", json=payload, headers=edge)
        assert r.status_code == 200, r.text
        return r.json()
