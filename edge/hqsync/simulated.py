"""``SimulatedHqClient``: a SIMULATOR of HQ for the :class:`~edge.hqsync.client.HqClient` port.

An in-memory head office (:class:`SimulatedHq`) that answers like the real one: per-item
``accepted`` / ``duplicate`` / ``conflict`` / ``rejected``, batches counted by id, the catalogue
by version with price scopes, reconciliation, the cursor, transfers, tokens and their rotation.
Fault verbs for tests and demos: :meth:`SimulatedHqClient.go_down`, :meth:`come_back`,
:meth:`lose_response_once` (HQ applies the batch, the answer is lost) and
:meth:`SimulatedHq.revoke_tokens` (401 until a new token is used).
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timezone
from typing import Any, Mapping, Sequence

from edge.hqsync.client import BatchResult, ItemResult, ReconciliationRow
from edge.hqsync.errors import (
    HqAuthError,
    HqConflictError,
    HqForbiddenError,
    HqRequestError,
    HqSyncClosedError,
    HqUnavailableError,
)
from edge.hqsync.items import body_hash
from edge.hqsync.tokens import fingerprint
from retail.clock import Clock, SystemClock

__all__ = ["SimulatedHq", "SimulatedHqClient"]

_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_EVENT_KINDS = ("stock_move", "alarm", "day_close", "refund")
_PENDING = ("requested", "shipped")


@dataclass
class _Store:
    store_id: str
    region: str
    currency: str
    tokens: set[str] = field(default_factory=set)
    sales: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    events: dict[tuple[str, str], str] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)


class SimulatedHq:
    """A SIMULATOR of the head office, shared by the simulated clients of its stores."""

    def __init__(self, *, clock: Clock | None = None, max_batch_items: int = 2000) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._stores: dict[str, _Store] = {}
        self.max_batch_items = max_batch_items
        self.down = False
        self.requests = 0
        self._version = 0
        self._products: dict[str, dict[str, Any]] = {}
        self._prices: dict[tuple[str, str], dict[str, Any]] = {}
        self._promotions: dict[str, dict[str, Any]] = {}
        self._transfers: dict[int, dict[str, Any]] = {}

    # -- administration (what HQ's admins and CLI do) ----------------------------------------------
    def create_store(self, store_id: str, *, region: str = "default", currency: str = "CNY") -> str:
        """Create a store; returns its edge token."""
        with self._lock:
            store = self._stores.setdefault(store_id, _Store(store_id, region, currency))
            token = "tpe_" + secrets.token_urlsafe(24)
            store.tokens.add(token)
            return token

    def client(self, token: str) -> SimulatedHqClient:
        return SimulatedHqClient(self, token)

    def revoke_tokens(self, store_id: str) -> None:
        with self._lock:
            self._stores[store_id].tokens.clear()

    def issue_token(self, store_id: str) -> str:
        with self._lock:
            token = "tpe_" + secrets.token_urlsafe(24)
            self._stores[store_id].tokens.add(token)
            return token

    def publish(self, *, products: Sequence[Mapping[str, Any]] = (), prices: Sequence[Mapping[str, Any]] = (),
                promotions: Sequence[Mapping[str, Any]] = (), remove_products: Sequence[str] = (),
                remove_prices: Sequence[Mapping[str, str]] = ()) -> int:
        """A catalogue change set (HQ's ``CatalogueChangesIn`` shape); returns the new version."""
        with self._lock:
            self._version += 1
            v = self._version
            for p in products:
                row = {"category": "general", "gtins": [], "plu": None, "sold_by": "unit", "tax_rate_bp": 1300,
                       "min_age": 0, **dict(p), "active": True, "version": v}
                self._products[str(p["sku"])] = row
            for pr in prices:
                if str(pr["sku"]) not in self._products:
                    self._version -= 1
                    raise HqRequestError(404, f"price for unknown product {pr['sku']!r}")
                scope = str(pr.get("scope", "chain"))
                self._prices[(str(pr["sku"]), scope)] = {"sku": str(pr["sku"]), "scope": scope,
                                                          "price_minor": int(pr["price_minor"]),
                                                          "currency": pr.get("currency") or "CNY", "active": True, "version": v}
            for promo in promotions:
                self._promotions[str(promo["promotion_id"])] = {"scope": "chain", **dict(promo), "active": True, "version": v}
            for sku in remove_products:
                self._products[sku].update(active=False, version=v)
                for (s, _), price in self._prices.items():
                    if s == sku and price["active"]:
                        price.update(active=False, version=v)
            for key in remove_prices:
                self._prices[(key["sku"], key["scope"])].update(active=False, version=v)
            return v

    def sales(self, store_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(b) for b in self._stores[store_id].sales.values()]

    def times_received(self, store_id: str, batch_id: str) -> int:
        with self._lock:
            return self._stores[store_id].batches.get(batch_id, 0)

    def conflicts(self, store_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._stores[store_id].conflicts)

    # -- the API, as the edge's token sees it -----------------------------------------------------
    def _auth(self, token: str) -> _Store:
        if self.down:
            raise HqUnavailableError("HQ unreachable (simulated outage)")
        self.requests += 1
        for store in self._stores.values():
            if token in store.tokens:
                return store
        raise HqAuthError("HQ refused the token (simulated)")

    def _check_sale(self, store: _Store, item: Mapping[str, Any]) -> str:
        body = item.get("body")
        if not isinstance(body, dict):
            return "invalid: body is not an object"
        if body_hash(body) != item.get("body_hash") or body.get("body_hash") not in (None, item.get("body_hash")):
            return "hash_mismatch: body_hash does not match the body"
        if body.get("store_id") != store.store_id:
            return f"wrong_store: sale is for {body.get('store_id')}"
        if (body.get("kiosk_id"), body.get("sale_id"), body.get("seq")) != (item.get("kiosk_id"), item.get("sale_id"), item.get("seq")):
            return "mismatch: item kiosk_id, sale_id or seq differ from the body"
        if body.get("currency") != store.currency:
            return f"wrong_currency: store sells in {store.currency}"
        try:
            lines, totals = body["lines"], body["totals"]
            if not lines or totals["total_minor"] != sum(int(x["net_minor"]) for x in lines):
                return "invalid: totals: total != sum of line nets"
            date.fromisoformat(body["business_date"])
        except (KeyError, TypeError, ValueError) as exc:
            return f"invalid: {exc}"[:300]
        return ""

    def post_batch(self, token: str, batch: Mapping[str, Any]) -> BatchResult:
        with self._lock:
            store = self._auth(token)
            if batch.get("store_id") != store.store_id:
                raise HqForbiddenError(f"this token is for store {store.store_id}, not {batch.get('store_id')}")
            batch_id = str(batch.get("batch_id", ""))
            items = list(batch.get("items", []))
            if not _BATCH_ID.match(batch_id):
                raise HqRequestError(422, f"batch_id {batch_id!r} does not match the pattern")
            for it in items:
                if it.get("kind") not in ("sale", *_EVENT_KINDS):
                    raise HqRequestError(422, f"unknown item kind {it.get('kind')!r}")
            if len(items) > self.max_batch_items:
                raise HqRequestError(413, f"at most {self.max_batch_items} items per batch")
            results: list[ItemResult] = []
            for index, it in enumerate(items):
                if it["kind"] == "sale":
                    key = (str(it.get("kiosk_id")), str(it.get("sale_id")))
                    reason = self._check_sale(store, it)
                    if reason:
                        results.append(ItemResult(index, "rejected", reason, key[1]))
                    elif key not in store.sales:
                        store.sales[key] = copy.deepcopy(it["body"])
                        results.append(ItemResult(index, "accepted", "", key[1]))
                    elif store.sales[key].get("body_hash", body_hash(store.sales[key])) == it["body_hash"]:
                        results.append(ItemResult(index, "duplicate", "", key[1]))
                    else:
                        store.conflicts.append({"kiosk_id": key[0], "id": key[1], "batch_id": batch_id})
                        results.append(ItemResult(index, "conflict", "", key[1]))
                else:
                    ekey = (str(it["kind"]), str(it.get("event_id")))
                    if body_hash(it.get("body") or {}) != it.get("body_hash"):
                        results.append(ItemResult(index, "rejected", "hash_mismatch: body_hash does not match the body", ekey[1]))
                    elif ekey not in store.events:
                        store.events[ekey] = str(it["body_hash"])
                        results.append(ItemResult(index, "accepted", "", ekey[1]))
                    elif store.events[ekey] == it["body_hash"]:
                        results.append(ItemResult(index, "duplicate", "", ekey[1]))
                    else:
                        store.conflicts.append({"kind": ekey[0], "id": ekey[1], "batch_id": batch_id})
                        results.append(ItemResult(index, "conflict", "", ekey[1]))
            store.batches[batch_id] = store.batches.get(batch_id, 0) + 1
            return BatchResult(batch_id, store.batches[batch_id], tuple(results))

    def get_catalogue(self, token: str, since_version: int) -> dict[str, Any]:
        with self._lock:
            store = self._auth(token)
            scopes = {"chain", f"region:{store.region}", f"store:{store.store_id}"}
            full = since_version <= 0

            def pick(rows: Any, scoped: bool) -> list[dict[str, Any]]:
                out = []
                for key in sorted(rows):
                    r = rows[key]
                    if r["version"] > since_version and (not full or r["active"]) and (not scoped or r["scope"] in scopes):
                        out.append(copy.deepcopy(r))
                return out

            return {"version": self._version, "since_version": max(since_version, 0), "full": full,
                    "products": pick(self._products, False), "prices": pick(self._prices, True),
                    "promotions": [dict(p, promotion_id=k) for k, p in
                                   ((k, self._promotions[k]) for k in sorted(self._promotions))
                                   if p["version"] > since_version and (not full or p["active"]) and p["scope"] in scopes]}

    def get_reconciliation(self, token: str, start: date, end: date) -> list[ReconciliationRow]:
        with self._lock:
            store = self._auth(token)
            acc: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
            for (kiosk, _), body in store.sales.items():
                d = date.fromisoformat(body["business_date"])
                if start <= d <= end:
                    a = acc[(kiosk, d)]
                    a[0] += 1
                    a[1] += int(body["totals"]["total_minor"])
                    a[2] = max(a[2], int(body["seq"]))
            return [ReconciliationRow(k, d, *acc[(k, d)]) for k, d in sorted(acc)]

    def get_cursor(self, token: str) -> dict[str, int]:
        with self._lock:
            store = self._auth(token)
            out: dict[str, int] = {}
            for (kiosk, _), body in store.sales.items():
                out[kiosk] = max(out.get(kiosk, 0), int(body["seq"]))
            return dict(sorted(out.items()))

    # transfers: the same states and rules as HQ
    def _now(self) -> str:
        return self._clock.now().astimezone(timezone.utc).isoformat()

    def _lines(self, lines: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out = [{"sku": str(x["sku"]), "quantity": int(x.get("quantity", 0)), "weight_g": int(x.get("weight_g", 0))} for x in lines]
        for line in out:
            if not line["quantity"] and not line["weight_g"]:
                raise HqRequestError(400, f"transfer line {line['sku']} moves nothing")
        return out

    def post_transfer(self, token: str, from_store_id: str, lines: Sequence[Mapping[str, Any]], note: str) -> dict[str, Any]:
        with self._lock:
            store = self._auth(token)
            if from_store_id == store.store_id:
                raise HqRequestError(400, "a store cannot transfer to itself")
            if from_store_id not in self._stores:
                raise HqRequestError(404, f"no store {from_store_id!r}")
            tid = len(self._transfers) + 1
            self._transfers[tid] = {"id": tid, "from_store_id": from_store_id, "to_store_id": store.store_id,
                                    "status": "requested", "lines": self._lines(lines), "shipped_lines": None,
                                    "received_lines": None, "note": note, "requested_at": self._now(),
                                    "shipped_at": None, "received_at": None}
            return copy.deepcopy(self._transfers[tid])

    def list_transfers(self, token: str, pending: bool) -> list[dict[str, Any]]:
        with self._lock:
            store = self._auth(token)
            return [copy.deepcopy(t) for _, t in sorted(self._transfers.items())
                    if store.store_id in (t["from_store_id"], t["to_store_id"]) and (not pending or t["status"] in _PENDING)]

    def act_transfer(self, token: str, transfer_id: int, action: str, lines: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
        with self._lock:
            store = self._auth(token)
            t = self._transfers.get(int(transfer_id))
            if t is None:
                raise HqRequestError(404, f"no transfer {transfer_id}")
            if action == "ship":
                if store.store_id != t["from_store_id"]:
                    raise HqForbiddenError("only the shipping store ships a transfer")
                if t["status"] != "requested":
                    raise HqConflictError(409, f"transfer {transfer_id} is {t['status']}, not requested")
                t.update(status="shipped", shipped_lines=self._lines(lines) if lines else list(t["lines"]), shipped_at=self._now())
            else:
                if store.store_id != t["to_store_id"]:
                    raise HqForbiddenError("only the receiving store receives a transfer")
                if t["status"] != "shipped":
                    raise HqConflictError(409, f"transfer {transfer_id} is {t['status']}, not shipped")
                t.update(status="received", received_lines=self._lines(lines) if lines else list(t["shipped_lines"] or []),
                         received_at=self._now())
            return copy.deepcopy(t)

    def rotate(self, token: str) -> str:
        with self._lock:
            store = self._auth(token)
            new = "tpe_" + secrets.token_urlsafe(24)
            store.tokens.add(new)  # the old one stays valid (grace period)
            return new


class SimulatedHqClient:
    """A SIMULATOR implementing :class:`~edge.hqsync.client.HqClient` against a
    :class:`SimulatedHq` (one is made, with store ``store_id``, when none is given)."""

    def __init__(self, hq: SimulatedHq | None = None, token: str | None = None, *, store_id: str = "s1",
                 region: str = "default", currency: str = "CNY") -> None:
        if hq is None:
            hq = SimulatedHq()
            token = hq.create_store(store_id, region=region, currency=currency)
        if token is None:
            raise HqSyncClosedError("a simulated client needs its store's token")
        self.hq = hq
        self.token = token
        self._lose_next = 0
        self._closed = False

    # -- fault verbs ------------------------------------------------------------------------------
    def go_down(self) -> None:
        """HQ becomes unreachable (every call raises :class:`HqUnavailableError`)."""
        self.hq.down = True

    def come_back(self) -> None:
        self.hq.down = False

    def lose_response_once(self) -> None:
        """The next batch is applied by HQ but its answer never arrives."""
        self._lose_next += 1

    def use_token(self, token: str) -> None:
        self.token = token

    # -- the port -------------------------------------------------------------------------------
    def _open(self) -> None:
        if self._closed:
            raise HqSyncClosedError("the HQ client is closed")

    def send_batch(self, batch: Mapping[str, Any]) -> BatchResult:
        self._open()
        result = self.hq.post_batch(self.token, copy.deepcopy(dict(batch)))
        if self._lose_next:
            self._lose_next -= 1
            raise HqUnavailableError("HQ unreachable (simulated: the answer was lost after HQ committed)")
        return result

    def catalogue(self, since_version: int) -> dict[str, Any]:
        self._open()
        return self.hq.get_catalogue(self.token, int(since_version))

    def reconciliation(self, start: date, end: date) -> list[ReconciliationRow]:
        self._open()
        return self.hq.get_reconciliation(self.token, start, end)

    def cursor(self) -> dict[str, int]:
        self._open()
        return self.hq.get_cursor(self.token)

    def request_transfer(self, from_store_id: str, lines: Sequence[Mapping[str, Any]], note: str = "") -> dict[str, Any]:
        self._open()
        return self.hq.post_transfer(self.token, from_store_id, lines, note)

    def transfers(self, *, pending: bool = True) -> list[dict[str, Any]]:
        self._open()
        return self.hq.list_transfers(self.token, pending)

    def ship_transfer(self, transfer_id: int, lines: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
        self._open()
        return self.hq.act_transfer(self.token, transfer_id, "ship", lines)

    def receive_transfer(self, transfer_id: int, lines: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
        self._open()
        return self.hq.act_transfer(self.token, transfer_id, "receive", lines)

    def rotate_token(self) -> str:
        self._open()
        self.token = self.hq.rotate(self.token)
        return self.token

    def credential_id(self) -> str:
        return fingerprint(self.token)

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> SimulatedHqClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

