"""Fixtures of the stock tests: catalogue and stock over one edge database file."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest

from edge.catalogue.model import Category, Product
from edge.catalogue.store import CatalogueStore
from edge.stock.service import StockService
from retail.catalogue import SoldBy
from retail.clock import FakeClock
from retail.money import Money

GTIN_MILK = "06901234567892"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "edge.db"


@pytest.fixture
def catalogue(db_path: Path, clock: FakeClock) -> Iterator[CatalogueStore]:
    with CatalogueStore(db_path, clock=clock) as store:
        store.put_category(Category("dairy", "Dairy", "乳制品"))
        store.create(Product("MILK", "Milk 1L", "牛奶", Money(1250, "CNY"), "dairy", gtins=(GTIN_MILK,)))
        store.create(Product("BAN", "Bananas", "香蕉", Money(1290, "CNY"), "dairy", sold_by=SoldBy.WEIGHT, plu="4011"))
        store.create(Product("BREAD", "Bread", "面包", Money(800, "CNY"), "dairy"))
        yield store


@pytest.fixture
def stock(db_path: Path, clock: FakeClock, catalogue: CatalogueStore) -> Iterator[StockService]:
    with StockService(db_path, clock=clock, catalogue=catalogue) as service:
        yield service


def deliver_sale(db_path: Path, sale_id: str, sku: str, finished_at: datetime, *, qty: int = 0, grams: int = 0) -> None:
    """Insert a sale's stock move the way the ledger's ingest does (its own connection, the
    kiosk's ``finished_at`` with whatever UTC offset the kiosk used)."""
    conn = sqlite3.connect(str(db_path), isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO stock_moves (kind, sku, qty, grams, ref, source, at) VALUES ('sale', ?, ?, ?, ?, ?, ?)",
            (sku, -qty, -grams, sale_id, "kiosk-1", finished_at.isoformat()),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
