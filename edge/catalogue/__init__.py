"""The edge catalogue: products, categories, import/export and the replica sent to kiosks.

* :mod:`edge.catalogue.store` — :class:`~edge.catalogue.store.CatalogueStore` (SQLite).
* :mod:`edge.catalogue.importing` — CSV/XLSX import with a per-row error preview, export.
* :mod:`edge.catalogue.distribution` — snapshots and deltas built from the store.
* :mod:`edge.catalogue.replica_format` — the pure wire format the kiosk applies (no I/O).
* :mod:`edge.catalogue.api` — FastAPI routers.

Nothing is imported here, so a kiosk can import ``edge.catalogue.replica_format`` alone.
"""
