"""Catalogue import and export: CSV and Excel (.xlsx), validated in full before anything is
written.

The owner uploads a file; :meth:`ImportService.preview` reads and checks every row and
returns an :class:`ImportPreview` listing each :class:`RowError` (row as the spreadsheet numbers
it, header = row 1; column; message). Nothing is written until :meth:`ImportService.confirm`,
which stores all rows in one transaction (and one catalogue version). Both steps report
progress through a ``progress(done, total)`` callback.

Columns (header names, any case): ``sku``, ``gtins`` (several separated by ``;``), ``plu``,
``name_en``, ``name_zh``, ``category``, ``price`` (major units, ``12.50``), ``cost_price``,
``tax_class``, ``sold_by`` (``unit`` / ``weight``; a weighed item's price is per kg),
``min_age``, ``unit_weight_g``, ``weight_tolerance_g``, ``picture``, ``active`` (1/0, yes/no).
Required: ``sku``, ``name_en``, ``name_zh``, ``category``, ``price``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Literal, Sequence

from edge.catalogue.errors import ImportRejectedError, InvalidProductError, UnknownPreviewError
from edge.catalogue.model import Product
from edge.catalogue.store import CatalogueStore, Progress
from retail.barcodes import format_gtin, normalize_gtin
from retail.catalogue import SoldBy, TaxClass
from retail.errors import BarcodeError, MoneyError
from retail.money import Money

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "FileFormat",
    "ImportPreview",
    "ImportResult",
    "ImportService",
    "RowError",
    "Validation",
    "export_csv",
    "export_xlsx",
    "read_table",
    "validate_rows",
]

log = logging.getLogger(__name__)

FileFormat = Literal["csv", "xlsx"]
COLUMNS: tuple[str, ...] = (
    "sku", "gtins", "plu", "name_en", "name_zh", "category", "price", "cost_price", "tax_class",
    "sold_by", "min_age", "unit_weight_g", "weight_tolerance_g", "picture", "active",
)
REQUIRED: frozenset[str] = frozenset({"sku", "name_en", "name_zh", "category", "price"})
_SPLIT = re.compile(r"[;,|\s]+")
_TRUE = {"", "1", "true", "yes", "y", "是"}
_FALSE = {"0", "false", "no", "n", "否"}
_PROGRESS_EVERY = 1000
_MAX_PENDING = 8


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem found in an uploaded file: spreadsheet row (header = 1), column, message."""

    row: int
    column: str
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}


# -- reading ------------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        # a spreadsheet number: its shortest text form, never float arithmetic
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")  # CSV saved by a Chinese-locale Excel


def read_table(data: bytes, fmt: FileFormat) -> tuple[list[str], list[list[str]]]:
    """The header and the data rows of a CSV or XLSX file, every cell as stripped text."""
    if fmt == "csv":
        try:
            text = _decode_text(data)
        except UnicodeDecodeError as exc:
            raise InvalidProductError(f"the file is neither UTF-8 nor GB18030 text: {exc}") from None
        reader = csv.reader(io.StringIO(text, newline=""))
        rows = [[c.strip() for c in r] for r in reader]
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile / KeyError / InvalidFileException
            raise InvalidProductError(f"not an Excel .xlsx workbook: {exc}") from None
        try:
            ws = wb.worksheets[0]
            rows = [[_cell(c) for c in r] for r in ws.iter_rows(values_only=True)]
        finally:
            wb.close()
    else:
        raise InvalidProductError(f"unknown file format {fmt!r}; use csv or xlsx")
    if not rows:
        return [], []
    return [h.lower() for h in rows[0]], rows[1:]


# -- validating ---------------------------------------------------------------------------------
@dataclass(slots=True)
class Validation:
    products: list[Product] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0
    new: int = 0
    updated: int = 0


def _money(text: str, currency: str, row: int, column: str, errors: list[RowError]) -> Money | None:
    try:
        value = Money.of(text, currency)
    except MoneyError as exc:
        errors.append(RowError(row, column, f"not an amount in {currency}: {text!r} ({exc})"))
        return None
    if value.minor < 0:
        errors.append(RowError(row, column, f"negative amount {text}"))
        return None
    return value


def _int(text: str, row: int, column: str, errors: list[RowError], lo: int, hi: int) -> int | None:
    try:
        value = int(Decimal(text)) if text and Decimal(text) == int(Decimal(text)) else None
    except ArithmeticError:
        value = None
    if value is None or not lo <= value <= hi:
        errors.append(RowError(row, column, f"a whole number {lo}..{hi} is needed, not {text!r}"))
        return None
    return value


def validate_rows(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    currency: str,
    categories: set[str],
    tax_classes: dict[str, TaxClass],
    existing: tuple[set[str], dict[str, str], dict[str, str]] = (set(), {}, {}),
    progress: Progress | None = None,
) -> Validation:
    """Check every row; return the valid products and every :class:`RowError`. Pure."""
    out = Validation()
    errors = out.errors
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            continue
        if name not in COLUMNS:
            errors.append(RowError(1, name, f"unknown column; known: {', '.join(COLUMNS)}"))
        elif name in index:
            errors.append(RowError(1, name, "column appears twice"))
        else:
            index[name] = i
    missing = sorted(REQUIRED - set(index))
    for name in missing:
        errors.append(RowError(1, name, "required column is missing"))
    if missing:
        return out
    old_skus, old_gtins, old_plus = existing
    seen_sku: dict[str, int] = {}
    seen_gtin: dict[str, tuple[int, str]] = {}
    seen_plu: dict[str, tuple[int, str]] = {}
    parsed: list[tuple[int, Product]] = []
    total = len(rows)
    for n, raw in enumerate(rows, start=1):
        if progress is not None and n % _PROGRESS_EVERY == 0:
            progress(n, total)
        if not any(c.strip() for c in raw):
            continue
        out.total_rows += 1
        rownum = n + 1
        before = len(errors)

        def get(name: str) -> str:
            i = index.get(name)
            return raw[i].strip() if i is not None and i < len(raw) else ""

        sku = get("sku")
        if not sku:
            errors.append(RowError(rownum, "sku", "SKU is empty"))
        elif len(sku) > 64:
            errors.append(RowError(rownum, "sku", "SKU is longer than 64 characters"))
        elif sku in seen_sku:
            errors.append(RowError(rownum, "sku", f"duplicate SKU {sku} (also on row {seen_sku[sku]})"))
        else:
            seen_sku[sku] = rownum
        for name in ("name_en", "name_zh"):
            if not get(name):
                errors.append(RowError(rownum, name, "name is empty"))
        category = get("category")
        if not category:
            errors.append(RowError(rownum, "category", "category is empty"))
        elif category not in categories:
            errors.append(RowError(rownum, "category", f"unknown category {category!r}"))
        price = _money(get("price"), currency, rownum, "price", errors)
        cost = _money(get("cost_price"), currency, rownum, "cost_price", errors) if get("cost_price") else None
        tax_code = get("tax_class") or "standard"
        tax = tax_classes.get(tax_code)
        if tax is None:
            errors.append(RowError(rownum, "tax_class", f"unknown tax class {tax_code!r}"))
        sold_text = (get("sold_by") or "unit").lower()
        try:
            sold_by = SoldBy(sold_text)
        except ValueError:
            errors.append(RowError(rownum, "sold_by", f"sold_by is unit or weight, not {sold_text!r}"))
            sold_by = SoldBy.UNIT
        min_age = _int(get("min_age"), rownum, "min_age", errors, 0, 99) if get("min_age") else 0
        unit_w = _int(get("unit_weight_g"), rownum, "unit_weight_g", errors, 0, 1_000_000) if get("unit_weight_g") else None
        tol = _int(get("weight_tolerance_g"), rownum, "weight_tolerance_g", errors, 0, 100_000) if get("weight_tolerance_g") else 20
        active_text = get("active").lower()
        if active_text not in _TRUE and active_text not in _FALSE:
            errors.append(RowError(rownum, "active", f"active is 1/0 or yes/no, not {active_text!r}"))
        plu = get("plu") or None
        if plu is not None:
            if not (plu.isascii() and plu.isdigit() and 1 <= len(plu) <= 5):
                errors.append(RowError(rownum, "plu", f"PLU is 1-5 digits, not {plu!r}"))
            elif plu in seen_plu:
                errors.append(RowError(rownum, "plu", f"duplicate PLU {plu} (also on row {seen_plu[plu][0]})"))
            else:
                seen_plu[plu] = (rownum, sku)
        gtins: list[str] = []
        for code in (c for c in _SPLIT.split(get("gtins")) if c):
            try:
                key = normalize_gtin(code)
            except BarcodeError as exc:
                errors.append(RowError(rownum, "gtins", f"{code}: {exc}"))
                continue
            if key in seen_gtin:
                errors.append(RowError(rownum, "gtins", f"duplicate GTIN {code} (also on row {seen_gtin[key][0]})"))
                continue
            seen_gtin[key] = (rownum, sku)
            gtins.append(key)
        if len(errors) > before or price is None or tax is None:
            continue
        try:
            product = Product(
                sku=sku, name_en=get("name_en"), name_zh=get("name_zh"), price=price, category=category,
                gtins=tuple(gtins), plu=plu, cost_price=cost, tax_class=tax, sold_by=sold_by,
                min_age=min_age or 0, unit_weight_g=unit_w, weight_tolerance_g=20 if tol is None else tol,
                picture=get("picture") or None, active=active_text not in _FALSE,
            )
        except InvalidProductError as exc:
            errors.append(RowError(rownum, "", str(exc)))
            continue
        parsed.append((rownum, product))
    # keys that belong to another product already in the catalogue (and not re-imported here)
    for rownum, product in parsed:
        clash = False
        for key in product.gtins:
            owner = old_gtins.get(key)
            if owner is not None and owner != product.sku and owner not in seen_sku:
                errors.append(RowError(rownum, "gtins", f"GTIN {format_gtin(key)} already belongs to product {owner}"))
                clash = True
        if product.plu is not None:
            owner = old_plus.get(product.plu)
            if owner is not None and owner != product.sku and owner not in seen_sku:
                errors.append(RowError(rownum, "plu", f"PLU {product.plu} already belongs to product {owner}"))
                clash = True
        if not clash:
            out.products.append(product)
            if product.sku in old_skus:
                out.updated += 1
            else:
                out.new += 1
    errors.sort(key=lambda e: (e.row, e.column))
    if progress is not None:
        progress(total, total)
    return out


# -- exporting ----------------------------------------------------------------------------------
def _export_row(p: Product) -> list[str]:
    return [
        p.sku,
        ";".join(format_gtin(g) for g in p.gtins),
        p.plu or "",
        p.name_en,
        p.name_zh,
        p.category,
        str(p.price.amount),
        "" if p.cost_price is None else str(p.cost_price.amount),
        p.tax_class.code,
        p.sold_by.value,
        str(p.min_age),
        "" if p.unit_weight_g is None else str(p.unit_weight_g),
        str(p.weight_tolerance_g),
        p.picture or "",
        "1" if p.active else "0",
    ]


def export_csv(products: Iterable[Product]) -> bytes:
    """UTF-8 CSV with a BOM (so Excel shows the Chinese names), in the import's columns."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for p in products:
        writer.writerow(_export_row(p))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def export_xlsx(products: Iterable[Product]) -> bytes:
    """An .xlsx workbook in the import's columns; codes are text cells, so leading zeros stay."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("products")
    ws.append(list(COLUMNS))
    for p in products:
        ws.append(_export_row(p))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- the two-step import ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ImportPreview:
    token: str
    format: str
    total_rows: int
    valid_rows: int
    new_products: int
    updated_products: int
    errors: tuple[RowError, ...]
    catalogue_version: int

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self, max_errors: int = 1000) -> dict[str, object]:
        return {
            "token": self.token,
            "format": self.format,
            "total_rows": self.total_rows,
            "valid_rows": self.valid_rows,
            "new_products": self.new_products,
            "updated_products": self.updated_products,
            "error_count": len(self.errors),
            "errors": [e.to_dict() for e in self.errors[:max_errors]],
            "catalogue_version": self.catalogue_version,
        }


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    new_products: int
    updated_products: int
    version: int

    def to_dict(self) -> dict[str, object]:
        return {"imported": self.imported, "new_products": self.new_products, "updated_products": self.updated_products, "version": self.version}


class ImportService:
    """Preview then confirm; previews wait in memory (the newest few) until confirmed."""

    def __init__(self, store: CatalogueStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._pending: OrderedDict[str, tuple[ImportPreview, Validation]] = OrderedDict()

    def preview(self, data: bytes, fmt: FileFormat, *, progress: Progress | None = None) -> ImportPreview:
        version = self._store.version()
        header, rows = read_table(data, fmt)
        if not header:
            result = Validation(errors=[RowError(1, "", "the file is empty")])
        else:
            result = validate_rows(
                header,
                rows,
                currency=self._store.currency,
                categories=self._store.category_codes(),
                tax_classes=self._store.tax_classes(),
                existing=self._store.existing_keys(),
                progress=progress,
            )
        preview = ImportPreview(
            token=secrets.token_urlsafe(12),
            format=fmt,
            total_rows=result.total_rows,
            valid_rows=len(result.products),
            new_products=result.new,
            updated_products=result.updated,
            errors=tuple(result.errors),
            catalogue_version=version,
        )
        with self._lock:
            self._pending[preview.token] = (preview, result)
            while len(self._pending) > _MAX_PENDING:
                self._pending.popitem(last=False)
        log.info("catalogue import preview %s: %d rows, %d errors", preview.token, preview.total_rows, len(preview.errors))
        return preview

    def get_preview(self, token: str) -> ImportPreview:
        with self._lock:
            if token not in self._pending:
                raise UnknownPreviewError(f"no import preview {token!r} (expired or already confirmed)")
            return self._pending[token][0]

    def discard(self, token: str) -> None:
        with self._lock:
            self._pending.pop(token, None)

    def confirm(self, token: str, *, skip_invalid: bool = False, progress: Progress | None = None) -> ImportResult:
        """Write the previewed products in one transaction. Refused while the preview lists
        errors (unless ``skip_invalid``: then the valid rows only), or if the catalogue changed
        since the preview."""
        with self._lock:
            if token not in self._pending:
                raise UnknownPreviewError(f"no import preview {token!r} (expired or already confirmed)")
            preview, result = self._pending[token]
            if preview.errors and not skip_invalid:
                raise ImportRejectedError(f"the file has {len(preview.errors)} row errors; fix them or import the valid rows only")
            del self._pending[token]
        try:
            version = self._store.bulk_upsert(result.products, expected_version=preview.catalogue_version, progress=progress)
        except BaseException:
            with self._lock:
                self._pending[token] = (preview, result)
            raise
        return ImportResult(len(result.products), result.new, result.updated, version)
