"""Pure rules of the HQ sync (no I/O): how an outbox row becomes an HQ sync item, batch ids,
back-off delays and which scoped price applies.

An outbox row is ``(id, kind, ref, payload)``. Each kind HQ understands (``sale``,
``day_close``, ``refund``) has an encoder; a kind without one is held on the edge, unsent and
never blocking the rows behind it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

__all__ = [
    "ENCODERS",
    "Encoder",
    "ItemEncodingError",
    "OutboxRow",
    "backoff_delay",
    "batch_id_for",
    "body_hash",
    "effective_price",
    "encode_day_close",
    "encode_refund",
    "encode_sale",
    "event_id_for",
]

_EVENT_ID = re.compile(r"[^A-Za-z0-9_.:-]")


class ItemEncodingError(ValueError):
    """An outbox row cannot be turned into an HQ item (unreadable payload): it never will be."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    kind: str
    ref: str
    payload: bytes


Encoder = Callable[[OutboxRow], dict[str, Any]]


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def body_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``body`` without its own ``body_hash`` (the bus
    contract's rule, which HQ checks)."""
    data = {k: v for k, v in body.items() if k != "body_hash"}
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def _json(row: OutboxRow) -> dict[str, Any]:
    try:
        data = json.loads(bytes(row.payload))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ItemEncodingError(f"outbox row {row.id}: payload is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ItemEncodingError(f"outbox row {row.id}: payload is not a JSON object")
    return data


def encode_sale(row: OutboxRow) -> dict[str, Any]:
    """A ``sale`` row (the kiosk's ``tillpi.sale/1`` bytes) as HQ's sale item."""
    body = _json(row)
    try:
        return {"kind": "sale", "kiosk_id": str(body["kiosk_id"]), "sale_id": str(body["sale_id"]),
                "seq": body["seq"], "body_hash": body.get("body_hash") or body_hash(body), "body": body}
    except KeyError as exc:
        raise ItemEncodingError(f"outbox row {row.id}: sale without {exc.args[0]}") from None


def event_id_for(row: OutboxRow) -> str:
    """HQ's event id for a row: its ``ref`` with characters HQ refuses replaced, at most 64."""
    text = _EVENT_ID.sub(":", row.ref).lstrip(":_.-") or f"row-{row.id}"
    if len(text) > 64:
        text = text[:47] + "-" + hashlib.sha256(row.ref.encode("utf-8")).hexdigest()[:16]
    return text


def encode_day_close(row: OutboxRow) -> dict[str, Any]:
    """A ``day_close`` row as HQ's event item, kept once by its ``ref``."""
    body = _json(row)
    item: dict[str, Any] = {"kind": "day_close", "event_id": event_id_for(row), "body_hash": body_hash(body), "body": body}
    if isinstance(body.get("kiosk_id"), str):
        item["kiosk_id"] = body["kiosk_id"]
    if isinstance(body.get("business_date"), str):
        item["business_date"] = body["business_date"]
    return item


def encode_refund(row: OutboxRow) -> dict[str, Any]:
    """A ``refund`` row (the refund service's ``tillpi.refund/1`` payload) as HQ's event item,
    kept once by its ``ref`` (``refund/<refund_id>``), with the refund's kiosk and business day."""
    body = _json(row)
    try:
        kiosk_id, business_date = body["kiosk_id"], body["business_date"]
    except KeyError as exc:
        raise ItemEncodingError(f"outbox row {row.id}: refund without {exc.args[0]}") from None
    if not isinstance(kiosk_id, str) or not isinstance(business_date, str):
        raise ItemEncodingError(f"outbox row {row.id}: refund kiosk_id and business_date must be text")
    return {"kind": "refund", "event_id": event_id_for(row), "kiosk_id": kiosk_id, "business_date": business_date,
            "body_hash": body_hash(body), "body": body}


ENCODERS: Mapping[str, Encoder] = {"sale": encode_sale, "day_close": encode_day_close, "refund": encode_refund}
"""The outbox kinds HQ takes, and how each becomes an item."""


def batch_id_for(row_ids: Sequence[int]) -> str:
    """A batch id that depends only on the row ids in it, so a resend after a crash or a lost
    answer carries the same id (HQ's pattern: ``[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}``)."""
    if not row_ids:
        raise ValueError("a batch holds at least one row")
    digest = hashlib.sha256(",".join(str(i) for i in row_ids).encode("ascii")).hexdigest()[:12]
    return f"ob-{row_ids[0]}-{row_ids[-1]}-{len(row_ids)}-{digest}"


def backoff_delay(failures: int, *, initial_s: float, max_s: float, factor: float = 2.0) -> float:
    """Seconds to wait after ``failures`` consecutive failures (1 -> ``initial_s``), doubling up
    to ``max_s``."""
    if failures <= 0:
        return 0.0
    return float(min(max_s, initial_s * factor ** min(failures - 1, 64)))


def effective_price(prices: Mapping[str, int], *, store_id: str, region: str | None) -> int | None:
    """The price that applies in a shop from the active prices by scope: ``store:<id>`` over
    ``region:<name>`` over ``chain``; ``None`` when there is none. With ``region`` unknown,
    any single ``region:`` price HQ sent (HQ sends only the store's own region) applies."""
    own = prices.get(f"store:{store_id}")
    if own is not None:
        return own
    if region is not None:
        found = prices.get(f"region:{region}")
        if found is not None:
            return found
    else:
        regional = [v for k, v in sorted(prices.items()) if k.startswith("region:")]
        if regional:
            return regional[0]
    return prices.get("chain")
