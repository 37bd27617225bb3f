"""The edge stock component: moves, on-hand, batches and expiry, reorder, suppliers and purchase
orders, stocktakes, transfers.

* :mod:`edge.stock.moves` — INSERT-only writer of the ledger's ``stock_moves``.
* :mod:`edge.stock.rules` — pure rules (FEFO, markdowns, reorder quantity).
* :mod:`edge.stock.service` — :class:`~edge.stock.service.StockService` (SQLite).
* :mod:`edge.stock.api` — FastAPI routers.
"""
