"""Property-based tests against HQ's OpenAPI document: request bodies for the sync endpoint
are generated from the schema FastAPI publishes (valid-shaped, then mutated), and the API must
never answer with a server error."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hq.helpers import Harness, canonical_hash, make_sale, sale_item

JSON_LEAF = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=8) | \
    st.floats(allow_nan=False, allow_infinity=False)
ANY_JSON = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=3) |
                        st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def schema_strategy(schema: dict[str, Any], doc: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """A Hypothesis strategy for values matching a JSON schema from an OpenAPI document."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return schema_strategy(doc["components"]["schemas"][name], doc, depth + 1)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([schema_strategy(s, doc, depth + 1) for s in schema[key]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        if schema.get("format") == "date":
            return st.dates().map(lambda d: d.isoformat())
        if schema.get("format") == "date-time":
            return st.datetimes().map(lambda d: d.isoformat() + "Z")
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 20), 20))
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**63)), schema.get("maximum", 2**63))
    if kind == "number":
        return st.floats(allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(schema_strategy(schema.get("items", {}), doc, depth + 1), max_size=3)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        if not props:
            return st.dictionaries(st.text(max_size=8), ANY_JSON, max_size=4)
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: schema_strategy(v, doc, depth + 1) for k, v in props.items() if k in required},
            optional={k: schema_strategy(v, doc, depth + 1) for k, v in props.items() if k not in required},
        )
    return ANY_JSON


def _request_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    return doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]


def _mutate(data: Any, draw: st.DrawFn) -> Any:
    """Break one thing in a valid sale body: a value replaced by any JSON, a key dropped."""
    data = copy.deepcopy(data)
    target = data
    for _ in range(draw(st.integers(0, 3))):
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target)))
            if isinstance(target[key], (dict, list)) and target[key]:
                target = target[key]
            else:
                break
        elif isinstance(target, list) and target:
            idx = draw(st.integers(0, len(target) - 1))
            if isinstance(target[idx], (dict, list)):
                target = target[idx]
            else:
                break
    if isinstance(target, dict) and target:
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(ANY_JSON)
    return data


@st.composite
def mutated_sale_items(draw: st.DrawFn) -> dict[str, Any]:
    body = make_sale("s1", "k1", draw(st.integers(1, 50)),
                     lines=[("sku-a", draw(st.integers(1, 5)), draw(st.integers(0, 10_000)))])
    broken = _mutate(body, draw)
    broken["body_hash"] = canonical_hash(broken) if draw(st.booleans()) else body["body_hash"]
    item = sale_item(body)
    item["body"] = broken
    item["body_hash"] = broken.get("body_hash") if isinstance(broken.get("body_hash"), str) else body["body_hash"]
    return item


@pytest.fixture
def edge_and_doc(hq: Harness) -> tuple[Harness, dict[str, str], dict[str, Any]]:
    edge = hq.create_store("s1")
    doc = hq.client.get("/openapi.json").json()
    return hq, edge, doc


def test_openapi_document_describes_every_router(hq: Harness) -> None:
    doc = hq.client.get("/openapi.json").json()
    for path in ("/api/v1/sync/batches", "/api/v1/sync/reconciliation", "/api/v1/catalogue", "/api/v1/stores",
                 "/api/v1/summaries/chain", "/api/v1/users", "/api/v1/login", "/api/v1/transfers"):
        assert path in doc["paths"], path
    assert "SyncBatchIn" in doc["components"]["schemas"]


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_sync_never_answers_a_server_error_to_schema_shaped_batches(edge_and_doc, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    hq, edge, doc = edge_and_doc
    payload = data.draw(schema_strategy(_request_schema(doc, "/api/v1/sync/batches"), doc), label="batch")
    if data.draw(st.booleans(), label="own store"):
        payload["store_id"] = "s1"
    r = hq.client.post("/api/v1/sync/batches", json=payload, headers=edge)
    assert r.status_code < 500, r.text
    assert r.status_code in (200, 403, 413, 422)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(items=st.lists(mutated_sale_items(), min_size=1, max_size=4))
def test_sync_answers_every_broken_sale_per_item_without_a_server_error(edge_and_doc, items) -> None:  # type: ignore[no-untyped-def]
    hq, edge, _ = edge_and_doc
    r = hq.client.post("/api/v1/sync/batches", json={"batch_id": "fuzz", "store_id": "s1", "items": items},
                       headers=edge)
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert len(r.json()["items"]) == len(items)
        assert {i["status"] for i in r.json()["items"]} <= {"accepted", "duplicate", "conflict", "rejected"}
