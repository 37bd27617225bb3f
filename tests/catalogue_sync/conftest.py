"""Fixtures of the catalogue-sync tests: an edge catalogue filled by a CSV import, kiosks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from edge.catalogue import replica_format as rf
from edge.catalogue.importing import ImportService
from edge.catalogue.model import Category
from edge.catalogue.store import CatalogueStore
from retail.barcodes import gtin_check_digit
from retail.catalogue import CatalogueItem
from retail.clock import FakeClock

STORE = "s1"
WAIT = 20.0  # a deadline for things to arrive, never a speed check


def catalogue_csv(n: int, *, start: int = 0) -> bytes:
    lines = ["sku,gtins,plu,name_en,name_zh,category,price,tax_class,sold_by,min_age,active"]
    for i in range(start, start + n):
        body = f"69{i:010d}"
        weighed = i % 12 == 0
        price = 50 + (i * 37) % 20000
        lines.append(
            f"P{i:06d},{body}{gtin_check_digit(body)},{str(10000 + i // 12) if weighed else ''},Product {i},商品{i}号,"
            f"{'fruit' if i % 2 else 'drinks'},{price // 100}.{price % 100:02d},{'reduced' if i % 3 == 0 else 'standard'},"
            f"{'weight' if weighed else 'unit'},{18 if i % 97 == 0 else 0},1"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def fill(store: CatalogueStore, n: int, *, start: int = 0) -> int:
    service = ImportService(store)
    preview = service.preview(catalogue_csv(n, start=start), "csv")
    assert preview.ok, preview.errors[:3]
    return service.confirm(preview.token).version


def edge_items(store: CatalogueStore) -> list[CatalogueItem]:
    rows, _ = store.replica_rows()
    return [rf.row_to_item(r) for r in rows]


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll ``predicate`` until it holds or the deadline passes (the result is asserted)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def edge_store(tmp_path: Path, clock: FakeClock) -> Iterator[CatalogueStore]:
    with CatalogueStore(tmp_path / "edge.db", clock=clock) as store:
        store.put_category(Category("fruit", "Fruit", "水果"))
        store.put_category(Category("drinks", "Drinks", "饮料"))
        yield store
