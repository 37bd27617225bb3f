"""CSV / XLSX import with a per-row error preview, progress, confirmation, and export."""

from __future__ import annotations

import io
import time

import pytest
from openpyxl import Workbook, load_workbook

from edge.catalogue.errors import ImportRejectedError, StalePreviewError, UnknownPreviewError
from edge.catalogue.importing import COLUMNS, ImportService, RowError, export_csv, export_xlsx, read_table
from edge.catalogue.store import CatalogueStore
from retail.barcodes import gtin_check_digit
from retail.catalogue import SoldBy
from retail.money import Money
from tests.catalogue.conftest import product

HEADER = "sku,gtins,plu,name_en,name_zh,category,price,cost_price,tax_class,sold_by,min_age,active\n"


def gtin13(n: int) -> str:
    body = f"690{n:09d}"
    return body + str(gtin_check_digit(body))


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return (header + "\n".join(rows) + "\n").encode("utf-8")


def test_preview_lists_every_kind_of_row_error_and_writes_nothing(store: CatalogueStore) -> None:
    store.create(product("OLD", gtins=("0" + gtin13(9),), plu="4011"))
    version = store.version()
    data = csv_bytes(
        f"A1,{gtin13(1)},,Apple,苹果,fruit,3.50,2.00,standard,unit,0,1",     # row 2 fine
        "A2,6901234567893,,Pear,梨,fruit,4.00,,standard,unit,0,1",           # 3 bad check digit
        f"A1,{gtin13(2)},,Apple again,苹果,fruit,3.50,,standard,unit,0,1",   # 4 duplicate SKU
        f"A3,{gtin13(1)},,Plum,李子,fruit,3.50,,standard,unit,0,1",          # 5 duplicate GTIN in file
        f"A4,{gtin13(9)},,Fig,无花果,fruit,3.50,,standard,unit,0,1",         # 6 GTIN of another product
        "A5,,,Kiwi,猕猴桃,toys,3.50,,standard,unit,0,1",                     # 7 unknown category
        "A6,,,Lime,青柠,fruit,-1.00,,standard,unit,0,1",                     # 8 negative price
        "A7,,,Lemon,柠檬,fruit,abc,,standard,unit,0,1",                      # 9 not an amount
        "A8,,,Date,枣,fruit,1.005,,standard,unit,0,1",                       # 10 too many decimals
        "A9,,,Nut,坚果,fruit,1.00,,luxury,unit,0,1",                         # 11 unknown tax class
        "B1,,,Rice,米,fruit,1.00,,standard,litre,0,1",                       # 12 bad sold_by
        "B2,,,Wine,葡萄酒,drinks,1.00,,standard,unit,150,1",                 # 13 min_age out of range
        "B3,,4011,Melon,瓜,fruit,1.00,,standard,unit,0,1",                   # 14 PLU of another product
        "B4,,12ab,Berry,莓,fruit,1.00,,standard,unit,0,1",                   # 15 bad PLU
        "B5,,,,莓,fruit,1.00,,standard,unit,0,maybe",                        # 16 empty name + bad active
        ",,,Nameless,无,fruit,1.00,,standard,unit,0,1",                      # 17 empty SKU
    )
    preview = ImportService(store).preview(data, "csv")
    by_row = {(e.row, e.column) for e in preview.errors}
    expected = {
        (3, "gtins"), (4, "sku"), (5, "gtins"), (6, "gtins"), (7, "category"), (8, "price"), (9, "price"),
        (10, "price"), (11, "tax_class"), (12, "sold_by"), (13, "min_age"), (14, "plu"), (15, "plu"),
        (16, "name_en"), (16, "active"), (17, "sku"),
    }
    assert by_row == expected
    assert "check digit" in next(e.message for e in preview.errors if e.row == 3)
    assert "OLD" in next(e.message for e in preview.errors if e.row == 6)
    assert preview.total_rows == 16 and preview.valid_rows == 1
    assert store.version() == version and store.count() == 1


def test_header_problems_are_row_1_errors(store: CatalogueStore) -> None:
    preview = ImportService(store).preview(b"sku,name_en,colour\nA1,Apple,red\n", "csv")
    assert RowError(1, "colour", preview.errors[0].message) in preview.errors
    assert {e.column for e in preview.errors if "required" in e.message} == {"name_zh", "category", "price"}


def test_confirm_writes_all_rows_in_one_version_and_reports_progress(store: CatalogueStore) -> None:
    rows = [f"S{i:03d},{gtin13(i)},,Item {i},商品{i},fruit,{i}.50,,standard,unit,0,1" for i in range(1, 31)]
    service = ImportService(store)
    seen: list[tuple[int, int]] = []
    preview = service.preview(csv_bytes(*rows), "csv")
    assert preview.ok and preview.new_products == 30
    before = store.version()
    result = service.confirm(preview.token, progress=lambda d, t: seen.append((d, t)))
    assert result.imported == 30 and result.version == before + 1
    assert store.count() == 30
    assert store.get("S007").price == Money(750, "CNY")
    assert seen[-1] == (30, 30) and all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    with pytest.raises(UnknownPreviewError):
        service.confirm(preview.token)


def test_reimport_updates_existing_products(store: CatalogueStore) -> None:
    store.create(product("A1", price=100))
    preview = ImportService(store).preview(csv_bytes("A1,,,Apple,苹果,fruit,2.00,,standard,unit,0,1"), "csv")
    assert (preview.new_products, preview.updated_products) == (0, 1)
    service = ImportService(store)
    p2 = service.preview(csv_bytes("A1,,,Apple,苹果,fruit,2.00,,standard,unit,0,1"), "csv")
    service.confirm(p2.token)
    assert store.get("A1").price == Money(200, "CNY")


def test_confirm_is_refused_while_errors_remain_unless_skipping_them(store: CatalogueStore) -> None:
    service = ImportService(store)
    data = csv_bytes("A1,,,Apple,苹果,fruit,1.00,,standard,unit,0,1", "A2,,,Pear,梨,toys,1.00,,standard,unit,0,1")
    preview = service.preview(data, "csv")
    with pytest.raises(ImportRejectedError):
        service.confirm(preview.token)
    assert store.count() == 0
    assert service.confirm(preview.token, skip_invalid=True).imported == 1
    assert [p.sku for p in store.search()] == ["A1"]


def test_a_catalogue_change_after_preview_makes_it_stale(store: CatalogueStore) -> None:
    service = ImportService(store)
    preview = service.preview(csv_bytes("A1,,,Apple,苹果,fruit,1.00,,standard,unit,0,1"), "csv")
    store.create(product("OTHER"))
    with pytest.raises(StalePreviewError):
        service.confirm(preview.token)
    assert store.count() == 1


def test_gb18030_csv_from_a_chinese_excel_is_read(store: CatalogueStore) -> None:
    data = (HEADER + "A1,,,Apple,苹果,fruit,1.00,,standard,unit,0,1\n").encode("gb18030")
    header, rows = read_table(data, "csv")
    assert rows[0][4] == "苹果"


def test_csv_export_reimports_to_the_same_products(store: CatalogueStore, tmp_path) -> None:
    store.create(product("A1", gtins=("0" + gtin13(1),), plu="4011", cost_price=Money(120, "CNY"), min_age=18))
    store.create(product("B1", price=1290, sold_by=SoldBy.WEIGHT, unit_weight_g=None, category="bakery", active=False))
    exported = export_csv(store.all_products())
    assert exported.startswith("\ufeff".encode())
    with CatalogueStore(tmp_path / "other.db", clock=store._clock) as other:  # noqa: SLF001
        from edge.catalogue.model import Category

        for c in store.categories():
            other.put_category(Category(c.code, c.name_en, c.name_zh))
        service = ImportService(other)
        preview = service.preview(exported, "csv")
        assert preview.ok, preview.errors
        service.confirm(preview.token)
        assert other.all_products() == store.all_products()


def test_xlsx_round_trip_keeps_codes_and_chinese_names(store: CatalogueStore, tmp_path) -> None:
    store.create(product("A1", name_zh="红富士苹果", gtins=("00" + "042100005264",), plu="0042", cost_price=Money(99, "CNY")))
    store.create(product("A2", price=5, category="drinks"))
    blob = export_xlsx(store.all_products())
    ws = load_workbook(io.BytesIO(blob), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == list(COLUMNS)
    assert rows[1][1] == "042100005264"  # UPC-A keeps its leading zero as text
    with CatalogueStore(tmp_path / "other.db", clock=store._clock) as other:  # noqa: SLF001
        from edge.catalogue.model import Category

        for c in store.categories():
            other.put_category(Category(c.code, c.name_en, c.name_zh))
        service = ImportService(other)
        preview = service.preview(blob, "xlsx")
        assert preview.ok, preview.errors
        service.confirm(preview.token)
        assert other.all_products() == store.all_products()


def test_xlsx_typed_by_hand_with_numeric_cells_imports(store: CatalogueStore) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["SKU", "Name_EN", "name_zh", "category", "price", "gtins", "min_age"])
    ws.append(["A1", "Apple", "苹果", "fruit", 3.5, int(gtin13(5)), 18])
    buf = io.BytesIO()
    wb.save(buf)
    service = ImportService(store)
    preview = service.preview(buf.getvalue(), "xlsx")
    assert preview.ok, preview.errors
    service.confirm(preview.token)
    got = store.get("A1")
    assert got.price == Money(350, "CNY") and got.min_age == 18 and got.gtins == ("0" + gtin13(5),)


def test_a_50000_row_import_previews_and_lands_in_one_transaction(store: CatalogueStore) -> None:
    n = 50_000
    lines = [HEADER.rstrip("\n")]
    for i in range(n):
        by_weight = i % 10 == 0
        lines.append(
            f"P{i:06d},{gtin13(i)},,Product {i},商品{i},{('fruit', 'drinks', 'bakery')[i % 3]},"
            f"{i % 500}.{i % 100:02d},,{'reduced' if i % 2 else 'standard'},{'weight' if by_weight else 'unit'},0,1"
        )
    data = ("\n".join(lines) + "\n").encode()
    service = ImportService(store)
    ticks: list[int] = []
    started = time.perf_counter()
    preview = service.preview(data, "csv", progress=lambda d, t: ticks.append(d))
    assert preview.ok and preview.valid_rows == n
    result = service.confirm(preview.token, progress=lambda d, t: ticks.append(d))
    elapsed = time.perf_counter() - started
    assert result.imported == n
    assert store.count() == n
    assert store.count("", category="drinks") == len(range(1, n, 3))
    p = store.get("P012345")
    assert p.price == Money((12345 % 500) * 100 + 12345 % 100, "CNY")
    assert p.tax_class.code == "reduced" and p.gtins == ("0" + gtin13(12345),)
    assert store.find(gtin13(49_999)).sku == "P049999"  # type: ignore[union-attr]
    assert store.get("P000010").sold_by is SoldBy.WEIGHT
    assert len(store.changes_since(result.version - 1)) == n
    assert ticks[-1] == n
    print(f"50,000-row import: {elapsed:.1f} s")  # informative only; speed is measured in the benchmark
