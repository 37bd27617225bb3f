"""The edge side of the catalogue replica: full snapshots and deltas for the kiosks.

The bus publishes them later (retained); here they are built from the store with the pure
encoders of :mod:`edge.catalogue.replica_format`.
"""

from __future__ import annotations

import logging

from edge.catalogue import replica_format as fmt
from edge.catalogue.errors import StaleVersionError
from edge.catalogue.store import CatalogueStore

__all__ = ["CatalogueDistributor"]

log = logging.getLogger(__name__)


class CatalogueDistributor:
    """Builds replica messages from a :class:`CatalogueStore`."""

    def __init__(self, store: CatalogueStore, *, chunk_rows: int = fmt.DEFAULT_CHUNK_ROWS) -> None:
        self._store = store
        self._chunk_rows = chunk_rows
        self._cache_version: int | None = None
        self._prod_hash: dict[str, int] = {}
        self._cat_hash: dict[str, int] = {}

    def _state(self) -> tuple[int, list[list[object]], list[list[object]]]:
        # read version, rows and categories consistently: retry if a write slipped between
        while True:
            before = self._store.version()
            rows, _ = self._store.replica_rows()
            cats = [c.row() for c in self._store.categories()]
            if self._store.version() == before:
                return before, rows, cats

    def snapshot(self, version: int | None = None) -> list[bytes]:
        """The chunks of a full snapshot of the current catalogue. ``version``, when given, must
        be the current one (the past is not kept; a stale request raises
        :class:`StaleVersionError`)."""
        current, rows, cats = self._state()
        if version is not None and version != current:
            raise StaleVersionError(f"snapshot of version {version} asked; the catalogue is at {current}")
        chunks = fmt.encode_snapshot(current, rows, cats, chunk_rows=self._chunk_rows)
        log.info("catalogue snapshot v%d: %d products in %d chunks", current, len(rows), len(chunks))
        return chunks

    def _refresh(self) -> tuple[int, int, int]:
        """Bring the per-row hash cache up to the current version: ``(version, digest, count)``.

        The first call hashes every row; later calls re-hash only what changed."""
        while True:
            current = self._store.version()
            if self._cache_version is None:
                rows, _ = self._store.replica_rows()
                prod = {str(r[0]): fmt.product_hash(r) for r in rows}
                cats = {c.code: fmt.category_hash(c.row()) for c in self._store.categories()}
            else:
                changes = self._store.changes_since(self._cache_version)
                skus = {key for _, entity, key, _ in changes if entity == "product"}
                prod = dict(self._prod_hash)
                for sku in skus:
                    prod.pop(sku, None)
                rows, _ = self._store.replica_rows(skus)
                prod.update({str(r[0]): fmt.product_hash(r) for r in rows})
                cats = {c.code: fmt.category_hash(c.row()) for c in self._store.categories()}
            if self._store.version() == current:
                self._cache_version, self._prod_hash, self._cat_hash = current, prod, cats
                digest = (sum(prod.values()) + sum(cats.values())) % (1 << 128)
                return current, digest, len(prod)

    def delta(self, since_version: int) -> bytes:
        """Everything changed since ``since_version``, as one cumulative delta to now."""
        while True:
            current, digest, count = self._refresh()
            if since_version > current:
                raise StaleVersionError(f"delta since {since_version} asked; the catalogue is at {current}")
            if since_version < self._store.oldest_delta_base():
                raise StaleVersionError(f"the change log no longer reaches version {since_version}; send a snapshot")
            changes = self._store.changes_since(since_version)
            skus = {key for _, entity, key, _ in changes if entity == "product"}
            codes = {key for _, entity, key, _ in changes if entity == "category"}
            upserts, removals = self._store.replica_rows(skus)
            cats = {c.code: c.row() for c in self._store.categories()}
            if self._store.version() == current:
                break
        return fmt.encode_delta(
            since_version,
            current,
            upserts=upserts,
            removals=removals,
            category_upserts=[cats[c] for c in sorted(codes) if c in cats],
            category_removals=sorted(c for c in codes if c not in cats),
            digest=digest,
            count=count,
        )
