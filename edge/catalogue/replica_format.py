"""The catalogue replica's wire format: snapshot chunks and deltas, and how a kiosk applies them.

Pure: no I/O, nothing runs at import; the kiosk imports this module as it is.

A message is ``zlib(compact JSON object)``. Products travel as arrays in :data:`COLUMNS`
order (no repeated keys), categories as arrays in :data:`CATEGORY_COLUMNS` order. The replica
holds **active** products only: a deactivated product leaves the replica as a removal.

* **Snapshot**: ``chunks`` messages of one ``version``, each with its ``chunk`` index and a
  slice of the rows; categories ride in chunk 0. Every chunk carries the ``digest`` and row
  ``count`` of the whole snapshot, so a kiosk knows when it holds all chunks and that they are
  the right ones.
* **Delta** ``from`` → ``version``: the current rows of every product changed since ``from``
  (upserts) and the SKUs that left (removals). Deltas are cumulative, so a delta applies to any
  replica whose version lies in ``[from, version]``.
* **Digest**: the sum, modulo 2**128, of a 128-bit BLAKE2b hash of each row's canonical JSON
  (products and categories apart). A sum can be updated row by row, so after every delta the
  kiosk checks that its whole replica equals the edge's, without re-hashing all of it.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from hashlib import blake2b
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

from edge.catalogue.errors import (
    ReplicaChecksumError,
    ReplicaFormatError,
    ReplicaGapError,
)
from retail.catalogue import CatalogueItem, SoldBy, TaxClass
from retail.money import Money

__all__ = [
    "CATEGORY_COLUMNS",
    "COLUMNS",
    "FORMAT",
    "ReplicaState",
    "apply",
    "category_hash",
    "decode",
    "digest_of",
    "empty_state",
    "encode_delta",
    "encode_snapshot",
    "product_hash",
    "row_to_item",
    "to_items",
]

FORMAT = 1
COLUMNS: tuple[str, ...] = (
    "sku",
    "gtins",
    "plu",
    "name_en",
    "name_zh",
    "category",
    "price_minor",
    "currency",
    "tax_code",
    "tax_rate_bp",
    "sold_by",
    "min_age",
    "unit_weight_g",
    "weight_tolerance_g",
    "picture",
)
CATEGORY_COLUMNS: tuple[str, ...] = ("code", "name_en", "name_zh", "parent", "sort")
DEFAULT_CHUNK_ROWS = 5000
_MOD = 1 << 128
_PRODUCT_SALT = b"p"
_CATEGORY_SALT = b"c"

Row = list[Any]


def _canonical(row: Sequence[Any]) -> bytes:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _hash(row: Sequence[Any], salt: bytes) -> int:
    return int.from_bytes(blake2b(_canonical(row), digest_size=16, person=salt).digest(), "big")


def product_hash(row: Sequence[Any]) -> int:
    """One product row's share of the digest."""
    return _hash(row, _PRODUCT_SALT)


def category_hash(row: Sequence[Any]) -> int:
    """One category row's share of the digest."""
    return _hash(row, _CATEGORY_SALT)


def digest_of(rows: Iterable[Sequence[Any]], categories: Iterable[Sequence[Any]] = ()) -> int:
    """The order-independent digest of a replica's products and categories."""
    total = 0
    for row in rows:
        total += _hash(row, _PRODUCT_SALT)
    for cat in categories:
        total += _hash(cat, _CATEGORY_SALT)
    return total % _MOD


def _pack(obj: Mapping[str, Any]) -> bytes:
    return zlib.compress(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def encode_snapshot(
    version: int,
    rows: Sequence[Row],
    categories: Sequence[Row] = (),
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    digest: int | None = None,
) -> list[bytes]:
    """The chunks of a full snapshot at ``version`` (at least one chunk, even when empty)."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if digest is None:
        digest = digest_of(rows, categories)
    slices = [rows[i : i + chunk_rows] for i in range(0, len(rows), chunk_rows)] or [[]]
    header = {
        "kind": "snapshot",
        "format": FORMAT,
        "version": version,
        "chunks": len(slices),
        "count": len(rows),
        "digest": format(digest, "032x"),
    }
    out: list[bytes] = []
    for index, part in enumerate(slices):
        body = dict(header, chunk=index, rows=list(part))
        if index == 0:
            body["categories"] = list(categories)
        out.append(_pack(body))
    return out


def encode_delta(
    from_version: int,
    version: int,
    *,
    upserts: Sequence[Row] = (),
    removals: Sequence[str] = (),
    category_upserts: Sequence[Row] = (),
    category_removals: Sequence[str] = (),
    digest: int,
    count: int,
) -> bytes:
    """One delta message; ``digest`` and ``count`` describe the replica *after* it."""
    if version < from_version:
        raise ValueError("a delta cannot go backwards")
    return _pack(
        {
            "kind": "delta",
            "format": FORMAT,
            "from": from_version,
            "version": version,
            "upserts": list(upserts),
            "removals": list(removals),
            "category_upserts": list(category_upserts),
            "category_removals": list(category_removals),
            "digest": format(digest, "032x"),
            "count": count,
        }
    )


def decode(blob: bytes) -> dict[str, Any]:
    """A message as a dict, checked for shape (not yet for content)."""
    try:
        data = json.loads(zlib.decompress(blob))
    except (zlib.error, ValueError, TypeError) as exc:
        raise ReplicaFormatError(f"not a replica message: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReplicaFormatError(f"unknown replica message format {data.get('format') if isinstance(data, dict) else None!r}")
    kind = data.get("kind")
    needed = {
        "snapshot": ("version", "chunk", "chunks", "count", "digest", "rows"),
        "delta": ("from", "version", "upserts", "removals", "category_upserts", "category_removals", "digest", "count"),
    }.get(kind)  # type: ignore[arg-type]
    if needed is None:
        raise ReplicaFormatError(f"unknown replica message kind {kind!r}")
    missing = [k for k in needed if k not in data]
    if missing:
        raise ReplicaFormatError(f"{kind} message lacks {missing}")
    try:
        data["digest"] = int(data["digest"], 16)
    except (TypeError, ValueError):
        raise ReplicaFormatError("bad digest") from None
    if kind == "snapshot" and not (0 <= data["chunk"] < data["chunks"]):
        raise ReplicaFormatError(f"chunk {data['chunk']} of {data['chunks']}")
    return data


@dataclass(frozen=True, slots=True)
class ReplicaState:
    """What a kiosk holds: the complete replica at ``version`` (0 = nothing yet) and the chunks
    of any newer snapshot that are still arriving. Treat as immutable; :func:`apply` returns a
    new state."""

    version: int = 0
    products: Mapping[str, Row] = field(default_factory=lambda: MappingProxyType({}))
    categories: Mapping[str, Row] = field(default_factory=lambda: MappingProxyType({}))
    digest: int = 0
    pending: Mapping[int, Mapping[int, Mapping[str, Any]]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def complete(self) -> bool:
        """True once a whole snapshot has been applied."""
        return self.version > 0

    def missing_chunks(self, version: int) -> list[int]:
        """Chunk indexes of snapshot ``version`` not yet received (empty if none known)."""
        got = self.pending.get(version)
        if not got:
            return []
        total = next(iter(got.values()))["chunks"]
        return [i for i in range(total) if i not in got]


def empty_state() -> ReplicaState:
    return ReplicaState()


def apply(state: ReplicaState, blob: bytes) -> ReplicaState:
    """Apply one snapshot chunk or delta; return the new state (``state`` is not changed).

    Stale messages (older than the replica) are ignored. A delta that starts after the
    replica's version raises :class:`ReplicaGapError`; content that does not match the digest
    raises :class:`ReplicaChecksumError`.
    """
    msg = decode(blob)
    if msg["kind"] == "snapshot":
        return _apply_chunk(state, msg)
    return _apply_delta(state, msg)


def _apply_chunk(state: ReplicaState, msg: dict[str, Any]) -> ReplicaState:
    version = int(msg["version"])
    if version <= state.version:
        return state
    got = dict(state.pending.get(version, {}))
    if got:
        first = next(iter(got.values()))
        if (first["chunks"], first["digest"], first["count"]) != (msg["chunks"], msg["digest"], msg["count"]):
            raise ReplicaChecksumError(f"snapshot {version}: chunks disagree on their totals")
    got[int(msg["chunk"])] = msg
    pending = {v: c for v, c in state.pending.items() if v > state.version}
    pending[version] = MappingProxyType(got)
    if len(got) < int(msg["chunks"]):
        return ReplicaState(state.version, state.products, state.categories, state.digest, MappingProxyType(pending))
    products: dict[str, Row] = {}
    for index in range(int(msg["chunks"])):
        for row in got[index]["rows"]:
            products[row[0]] = row
    cats = {c[0]: c for c in got[0].get("categories", [])}
    if len(products) != msg["count"]:
        raise ReplicaChecksumError(f"snapshot {version}: {len(products)} products, expected {msg['count']}")
    digest = digest_of(products.values(), cats.values())
    if digest != msg["digest"]:
        raise ReplicaChecksumError(f"snapshot {version}: digest mismatch")
    remaining = {v: c for v, c in pending.items() if v > version}
    return ReplicaState(version, MappingProxyType(products), MappingProxyType(cats), digest, MappingProxyType(remaining))


def _apply_delta(state: ReplicaState, msg: dict[str, Any]) -> ReplicaState:
    start, version = int(msg["from"]), int(msg["version"])
    if not state.complete or start > state.version:
        raise ReplicaGapError(f"delta {start}->{version} does not reach replica version {state.version}")
    if version <= state.version:
        return state
    products = dict(state.products)
    cats = dict(state.categories)
    digest = state.digest
    for row in msg["upserts"]:
        old = products.get(row[0])
        if old is not None:
            digest -= _hash(old, _PRODUCT_SALT)
        products[row[0]] = row
        digest += _hash(row, _PRODUCT_SALT)
    for sku in msg["removals"]:
        old = products.pop(sku, None)
        if old is not None:
            digest -= _hash(old, _PRODUCT_SALT)
    for cat in msg["category_upserts"]:
        old = cats.get(cat[0])
        if old is not None:
            digest -= _hash(old, _CATEGORY_SALT)
        cats[cat[0]] = cat
        digest += _hash(cat, _CATEGORY_SALT)
    for code in msg["category_removals"]:
        old = cats.pop(code, None)
        if old is not None:
            digest -= _hash(old, _CATEGORY_SALT)
    digest %= _MOD
    if digest != msg["digest"] or len(products) != msg["count"]:
        raise ReplicaChecksumError(f"delta {start}->{version}: replica does not match the edge's digest")
    pending = {v: c for v, c in state.pending.items() if v > version}
    return ReplicaState(version, MappingProxyType(products), MappingProxyType(cats), digest, MappingProxyType(pending))


def row_to_item(row: Sequence[Any]) -> CatalogueItem:
    """One replica row as the item the checkout sells."""
    r = dict(zip(COLUMNS, row))
    return CatalogueItem(
        sku=r["sku"],
        name_en=r["name_en"],
        name_zh=r["name_zh"],
        unit_price=Money(r["price_minor"], r["currency"]),
        category=r["category"],
        gtins=tuple(r["gtins"]),
        plu=r["plu"],
        sold_by=SoldBy(r["sold_by"]),
        tax_class=TaxClass(r["tax_code"], r["tax_rate_bp"]),
        min_age=r["min_age"],
        unit_weight_g=r["unit_weight_g"],
        weight_tolerance_g=r["weight_tolerance_g"],
    )


def to_items(state: ReplicaState) -> list[CatalogueItem]:
    """Every product of the replica as :class:`~retail.catalogue.CatalogueItem`, by SKU."""
    return [row_to_item(state.products[sku]) for sku in sorted(state.products)]
