"""The catalogue store: products, keys, versions and the change log."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edge.catalogue.errors import DuplicateProductError, InvalidProductError, UnknownCategoryError, UnknownProductError
from edge.catalogue.model import Category
from edge.catalogue.store import CatalogueStore
from retail.catalogue import TaxClass
from retail.money import Money
from tests.catalogue.conftest import product, weighed

GTIN13 = "6901234567892"


def test_a_created_product_reads_back_with_its_gtin_as_a_14_digit_key(store: CatalogueStore) -> None:
    store.create(product("A1", gtins=("0" + GTIN13,), plu="4011", cost_price=Money(200, "CNY")))
    got = store.get("A1")
    assert got.gtins == ("0" + GTIN13,)
    assert got.cost_price == Money(200, "CNY")
    assert got.plu == "4011"


def test_find_accepts_sku_gtin_in_any_length_or_plu(store: CatalogueStore) -> None:
    store.create(product("A1", gtins=("0" + GTIN13,), plu="4011"))
    assert store.find("A1").sku == "A1"  # type: ignore[union-attr]
    assert store.find(GTIN13).sku == "A1"  # type: ignore[union-attr]
    assert store.find("4011").sku == "A1"  # type: ignore[union-attr]
    assert store.find("6901234567893") is None


def test_every_change_bumps_the_version_and_is_logged(store: CatalogueStore) -> None:
    start = store.version()
    v1 = store.create(product("A1"))
    v2 = store.update_price("A1", Money(399, "CNY"))
    v3 = store.set_active("A1", False)
    assert (v1, v2, v3) == (start + 1, start + 2, start + 3)
    assert [(v, key, what) for v, _, key, what in store.changes_since(start)] == [
        (start + 1, "A1", "create"), (start + 2, "A1", "price"), (start + 3, "A1", "inactive"),
    ]
    assert store.get("A1").price == Money(399, "CNY")
    assert store.get("A1").active is False


def test_a_gtin_or_plu_of_another_product_is_refused(store: CatalogueStore) -> None:
    store.create(product("A1", gtins=("0" + GTIN13,), plu="4011"))
    with pytest.raises(DuplicateProductError):
        store.create(product("A2", gtins=("0" + GTIN13,)))
    with pytest.raises(DuplicateProductError):
        store.create(product("A3", plu="4011"))
    with pytest.raises(DuplicateProductError):
        store.create(product("A1"))
    assert store.count() == 1


def test_unknown_category_and_foreign_currency_are_refused(store: CatalogueStore) -> None:
    with pytest.raises(UnknownCategoryError):
        store.create(product("A1", category="toys"))
    with pytest.raises(InvalidProductError):
        store.create(replace(product("A1"), price=Money(100, "EUR")))
    with pytest.raises(UnknownProductError):
        store.update_price("nope", Money(1, "CNY"))


def test_search_matches_chinese_name_sku_and_gtin(store: CatalogueStore) -> None:
    store.create(product("APL", name_zh="红富士苹果", gtins=("0" + GTIN13,)))
    store.create(weighed("BAN", name_zh="香蕉"))
    assert [p.sku for p in store.search("苹果")] == ["APL"]
    assert [p.sku for p in store.search(GTIN13)] == ["APL"]
    assert [p.sku for p in store.search("ban")] == ["BAN"]
    assert store.count("", category="fruit") == 2
    assert store.weighed_skus() == {"BAN"}


def test_a_tax_rate_change_is_a_change_of_every_product_in_that_class(store: CatalogueStore) -> None:
    store.create(product("A1"))
    store.create(product("A2", tax_class=TaxClass("reduced", 900)))
    before = store.version()
    store.put_tax_class(TaxClass("standard", 1100))
    assert {key for _, _, key, _ in store.changes_since(before)} == {"A1"}
    assert store.get("A1").tax_class.rate_bp == 1100


def test_category_parent_must_exist(store: CatalogueStore) -> None:
    with pytest.raises(UnknownCategoryError):
        store.put_category(Category("apples", "Apples", "苹果", parent="orchard"))
    store.put_category(Category("apples", "Apples", "苹果", parent="fruit"))
    assert "apples" in store.category_codes()
