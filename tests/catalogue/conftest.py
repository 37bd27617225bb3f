"""Fixtures of the catalogue tests: a fresh edge database with three categories."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from edge.catalogue.model import Category, Product
from edge.catalogue.store import CatalogueStore
from retail.catalogue import SoldBy
from retail.clock import FakeClock
from retail.money import Money


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[CatalogueStore]:
    with CatalogueStore(tmp_path / "edge.db", clock=clock) as s:
        s.put_category(Category("fruit", "Fruit", "水果"))
        s.put_category(Category("drinks", "Drinks", "饮料"))
        s.put_category(Category("bakery", "Bakery", "面包"))
        yield s


def product(sku: str = "A1", price: int = 350, **kw: object) -> Product:
    fields: dict[str, object] = dict(sku=sku, name_en=f"Item {sku}", name_zh=f"商品{sku}", price=Money(price, "CNY"), category="fruit")
    fields.update(kw)
    return Product(**fields)  # type: ignore[arg-type]


def weighed(sku: str = "BAN", price: int = 1290, **kw: object) -> Product:
    return product(sku, price, sold_by=SoldBy.WEIGHT, **kw)
