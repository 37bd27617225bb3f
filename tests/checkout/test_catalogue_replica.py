"""The kiosk's catalogue replica: lookups by GTIN, PLU, label, category, and search."""

from __future__ import annotations

import pytest

from kiosk.catalogue_replica import CatalogueReplica, DuplicateKeyError, pinyin_initials
from retail.barcodes import make_variable_measure, parse_variable_measure
from retail.catalogue import CatalogueItem

from .conftest import GTINS, cny, key14, make_items


def test_pinyin_initials_of_chinese_names() -> None:
    assert pinyin_initials("苹果") == "pg"
    assert pinyin_initials("青岛啤酒") == "qdpj"


def test_lookup_by_gtin_plu_and_sku(replica: CatalogueReplica) -> None:
    assert replica.by_gtin(key14(GTINS["COKE"])).sku == "COKE"
    assert replica.by_plu("4011").sku == "BANANA"
    assert replica.by_plu("04011").sku == "BANANA"
    assert replica.by_sku("APPLE").name_zh == "苹果"
    assert replica.by_gtin("00000000000000") is None
    assert replica.version == "v42" and replica.currency == "CNY"


def test_variable_measure_label_finds_its_item_by_reference(replica: CatalogueReplica) -> None:
    code = parse_variable_measure(make_variable_measure("22", "12345", weight_g=250))
    assert replica.by_variable_measure(code).sku == "HAM"


def test_search_by_pinyin_initials_chinese_english_and_plu(replica: CatalogueReplica) -> None:
    assert replica.search("pg")[0].sku == "APPLE"
    assert replica.search("pingguo")[0].sku == "APPLE"
    assert replica.search("香蕉")[0].sku == "BANANA"
    assert replica.search("bana")[0].sku == "BANANA"
    assert replica.search("4131")[0].sku == "APPLE"
    assert replica.search("CHIPS")[0].sku == "CHIPS"
    assert replica.search("") == ()
    assert replica.search("zzzz") == ()


def test_categories_grid_lists_items_per_category(replica: CatalogueReplica) -> None:
    assert "produce" in replica.categories()
    assert [i.sku for i in replica.items_in("produce")] == ["APPLE", "BANANA"]
    weighed = dict(replica.grid(sold_by_weight_only=True))
    assert set(weighed) == {"produce", "deli"}
    assert [i.sku for i in weighed["deli"]] == ["HAM"]


def test_duplicate_gtin_is_refused() -> None:
    items = make_items()
    clash = CatalogueItem("COKE2", "Cola", "可乐", cny("3.00"), gtins=(key14(GTINS["COKE"]),))
    with pytest.raises(DuplicateKeyError):
        CatalogueReplica([*items, clash])
