"""The edge catalogue in SQLite: products, categories, tax classes, version and change log.

Every change bumps the catalogue version by one (a bulk import bumps it once) and logs which
products or categories it touched, so :mod:`edge.catalogue.distribution` can build a delta
since any version. A :class:`CatalogueStore` owns one connection (WAL, full sync) to the edge
database file; it is a context manager with an idempotent :meth:`close`, and thread-safe.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Callable, Iterable, Sequence

from edge.catalogue.errors import (
    DuplicateProductError,
    InvalidProductError,
    StalePreviewError,
    StoreClosedError,
    UnknownCategoryError,
    UnknownProductError,
)
from edge.catalogue.migrations import STEPS
from edge.catalogue.model import Category, Product
from edge.db import SqliteComponent
from edge.schema import migrate_component
from retail.barcodes import normalize_gtin
from retail.catalogue import SoldBy, TaxClass
from retail.clock import Clock
from retail.errors import BarcodeError
from retail.money import Money

__all__ = ["CatalogueStore", "Change", "Progress"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""``progress(done, total)``: rows processed so far, out of ``total``."""

_PRODUCT_COLS = (
    "sku, name_en, name_zh, category, price_minor, cost_minor, currency, tax_code, sold_by, min_age,"
    " unit_weight_g, weight_tolerance_g, plu, picture, active"
)
_UPSERT = (
    f"INSERT INTO products ({_PRODUCT_COLS}, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (sku) DO UPDATE SET name_en = excluded.name_en, name_zh = excluded.name_zh,"
    " category = excluded.category, price_minor = excluded.price_minor, cost_minor = excluded.cost_minor,"
    " currency = excluded.currency, tax_code = excluded.tax_code, sold_by = excluded.sold_by,"
    " min_age = excluded.min_age, unit_weight_g = excluded.unit_weight_g,"
    " weight_tolerance_g = excluded.weight_tolerance_g, plu = excluded.plu, picture = excluded.picture,"
    " active = excluded.active, version = excluded.version, updated_at = excluded.updated_at"
)
_BATCH = 2000

Change = tuple[int, str, str, str]
"""``(version, entity, key, what)`` of one logged change."""


def _migrate(conn: sqlite3.Connection) -> None:
    migrate_component(conn, "catalogue", STEPS)


class CatalogueStore(SqliteComponent):
    """Products and categories of one shop, priced in ``currency``."""

    _closed_error = StoreClosedError
    _closed_message = "the catalogue store is closed"

    def __init__(self, path: str | Path, *, clock: Clock, currency: str = "CNY") -> None:
        Money.zero(currency)  # refuses an unknown currency
        self._clock = clock
        self.currency = currency
        super().__init__(path, migrations=_migrate)

    def _read(self, sql: str, args: Sequence[object] = ()) -> list[tuple]:  # type: ignore[type-arg]
        with self._lock:
            return self._db().execute(sql, tuple(args)).fetchall()

    def _now(self) -> str:
        return self._clock.now().isoformat()

    def _bump(self, db: sqlite3.Connection, entity: str, keys: Iterable[str], what: str) -> int:
        version = int(db.execute("SELECT value FROM catalogue_meta WHERE key = 'version'").fetchone()[0]) + 1
        db.execute("UPDATE catalogue_meta SET value = ? WHERE key = 'version'", (str(version),))
        now = self._now()
        db.executemany(
            "INSERT INTO catalogue_changes (version, entity, key, what, at) VALUES (?, ?, ?, ?, ?)",
            [(version, entity, k, what, now) for k in keys],
        )
        return version

    # -- version and change log -----------------------------------------------------------------
    def version(self) -> int:
        return int(self._read("SELECT value FROM catalogue_meta WHERE key = 'version'")[0][0])

    def changes_since(self, version: int) -> list[Change]:
        return [
            (int(r[0]), str(r[1]), str(r[2]), str(r[3]))
            for r in self._read(
                "SELECT version, entity, key, what FROM catalogue_changes WHERE version > ? ORDER BY id", (version,)
            )
        ]

    def oldest_delta_base(self) -> int:
        """The lowest version a delta can start from (change log kept since then)."""
        rows = self._read("SELECT MIN(version) FROM catalogue_changes")
        return 0 if rows[0][0] is None else int(rows[0][0]) - 1

    # -- tax classes and categories ---------------------------------------------------------------
    def tax_classes(self) -> dict[str, TaxClass]:
        return {str(r[0]): TaxClass(str(r[0]), int(r[1])) for r in self._read("SELECT code, rate_bp FROM tax_classes")}

    def put_tax_class(self, tax_class: TaxClass) -> int:
        """Add or change a tax class; products in it change too (one version). Returns it."""
        with self._write() as db:
            db.execute(
                "INSERT INTO tax_classes (code, rate_bp) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET rate_bp = excluded.rate_bp",
                (tax_class.code, tax_class.rate_bp),
            )
            skus = [r[0] for r in db.execute("SELECT sku FROM products WHERE tax_code = ?", (tax_class.code,))]
            version = self._bump(db, "product", skus, "tax")
            db.execute("UPDATE products SET version = ? WHERE tax_code = ?", (version, tax_class.code))
        return version

    def categories(self) -> list[Category]:
        return [
            Category(str(r[0]), str(r[1]), str(r[2]), r[3], int(r[4]))
            for r in self._read("SELECT code, name_en, name_zh, parent, sort FROM categories ORDER BY sort, code")
        ]

    def category_codes(self) -> set[str]:
        return {str(r[0]) for r in self._read("SELECT code FROM categories")}

    def put_category(self, category: Category) -> int:
        with self._write() as db:
            if category.parent is not None and db.execute(
                "SELECT 1 FROM categories WHERE code = ?", (category.parent,)
            ).fetchone() is None:
                raise UnknownCategoryError(f"parent category {category.parent!r} does not exist")
            db.execute(
                "INSERT INTO categories (code, name_en, name_zh, parent, sort) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (code) DO UPDATE SET name_en = excluded.name_en, name_zh = excluded.name_zh,"
                " parent = excluded.parent, sort = excluded.sort",
                tuple(category.row()),
            )
            return self._bump(db, "category", [category.code], "put")

    # -- products: reads ------------------------------------------------------------------------
    def _products(self, where: str, args: Sequence[object], suffix: str = "") -> list[Product]:
        taxes = self.tax_classes()
        with self._lock:
            db = self._db()
            rows = db.execute(f"SELECT {_PRODUCT_COLS} FROM products {where} {suffix}", tuple(args)).fetchall()
            out: list[Product] = []
            for r in rows:
                gtins = tuple(sorted(g for (g,) in db.execute("SELECT gtin FROM product_gtins WHERE sku = ?", (r[0],))))
                out.append(self._product(r, gtins, taxes))
        return out

    @staticmethod
    def _product(r: tuple, gtins: tuple[str, ...], taxes: dict[str, TaxClass]) -> Product:  # type: ignore[type-arg]
        currency = str(r[6])
        return Product(
            sku=r[0],
            name_en=r[1],
            name_zh=r[2],
            category=r[3],
            price=Money(int(r[4]), currency),
            cost_price=None if r[5] is None else Money(int(r[5]), currency),
            tax_class=taxes[r[7]],
            sold_by=SoldBy(r[8]),
            min_age=int(r[9]),
            unit_weight_g=r[10],
            weight_tolerance_g=int(r[11]),
            plu=r[12],
            picture=r[13],
            active=bool(r[14]),
            gtins=gtins,
        )

    def get(self, sku: str) -> Product:
        found = self._products("WHERE sku = ?", (sku,))
        if not found:
            raise UnknownProductError(f"no product {sku!r}")
        return found[0]

    def find(self, code: str) -> Product | None:
        """The product with this SKU, GTIN (any length, normalised) or PLU, or None."""
        code = code.strip()
        found = self._products("WHERE sku = ?", (code,))
        if not found and code.isdigit():
            try:
                key = normalize_gtin(code)
            except BarcodeError:
                key = None
            if key is not None:
                found = self._products("WHERE sku = (SELECT sku FROM product_gtins WHERE gtin = ?)", (key,))
            if not found:
                found = self._products("WHERE plu = ?", (code,))
        return found[0] if found else None

    def _where(self, query: str, category: str | None, active: bool | None) -> tuple[str, list[object]]:
        clauses: list[str] = []
        args: list[object] = []
        if query.strip():
            q = query.strip()
            escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            like = "%" + escaped + "%"
            clause = "(sku LIKE ? ESCAPE '\\' OR name_en LIKE ? ESCAPE '\\' OR name_zh LIKE ? ESCAPE '\\' OR plu = ?"
            args += [like, like, like, q]
            if q.isdigit():
                try:
                    clause += " OR sku IN (SELECT sku FROM product_gtins WHERE gtin = ?)"
                    args.append(normalize_gtin(q))
                except BarcodeError:
                    pass
            clauses.append(clause + ")")
        if category is not None:
            clauses.append("category = ?")
            args.append(category)
        if active is not None:
            clauses.append("active = ?")
            args.append(1 if active else 0)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", args

    def search(
        self, query: str = "", *, category: str | None = None, active: bool | None = None, limit: int = 50, offset: int = 0
    ) -> list[Product]:
        """Products whose SKU, English or Chinese name contains ``query``, or whose GTIN or PLU
        equals it; ordered by SKU."""
        where, args = self._where(query, category, active)
        return self._products(where, args, f"ORDER BY sku LIMIT {int(limit)} OFFSET {int(offset)}")

    def count(self, query: str = "", *, category: str | None = None, active: bool | None = None) -> int:
        where, args = self._where(query, category, active)
        return int(self._read(f"SELECT COUNT(*) FROM products {where}", args)[0][0])

    def all_products(self) -> list[Product]:
        """Every product (active or not), by SKU, with one query per table."""
        taxes = self.tax_classes()
        with self._lock:
            db = self._db()
            gtins: dict[str, list[str]] = {}
            for gtin, sku in db.execute("SELECT gtin, sku FROM product_gtins ORDER BY gtin"):
                gtins.setdefault(sku, []).append(gtin)
            rows = db.execute(f"SELECT {_PRODUCT_COLS} FROM products ORDER BY sku").fetchall()
        return [self._product(r, tuple(gtins.get(r[0], ())), taxes) for r in rows]

    def weighed_skus(self) -> set[str]:
        """SKUs of the products sold by weight (their stock is counted in grams)."""
        return {str(r[0]) for r in self._read("SELECT sku FROM products WHERE sold_by = 'weight'")}

    def existing_keys(self) -> tuple[set[str], dict[str, str], dict[str, str]]:
        """``(skus, gtin -> sku, plu -> sku)`` of the whole catalogue, for import checks."""
        with self._lock:
            db = self._db()
            skus = {r[0] for r in db.execute("SELECT sku FROM products")}
            gtins = {r[0]: r[1] for r in db.execute("SELECT gtin, sku FROM product_gtins")}
            plus = {r[0]: r[1] for r in db.execute("SELECT plu, sku FROM products WHERE plu IS NOT NULL")}
        return skus, gtins, plus

    def replica_rows(self, skus: Iterable[str] | None = None) -> tuple[list[list[object]], list[str]]:
        """Replica rows of the active products (all, or among ``skus``) and the SKUs in
        ``skus`` that are not in the replica (inactive or unknown)."""
        with self._lock:
            db = self._db()
            rates = {str(r[0]): int(r[1]) for r in db.execute("SELECT code, rate_bp FROM tax_classes")}
            if skus is None:
                gtins: dict[str, list[str]] = {}
                for gtin, sku in db.execute("SELECT gtin, sku FROM product_gtins ORDER BY gtin"):
                    gtins.setdefault(sku, []).append(gtin)
                rows = db.execute(f"SELECT {_PRODUCT_COLS} FROM products WHERE active = 1 ORDER BY sku").fetchall()
                wanted: list[str] = []
            else:
                wanted = sorted(set(skus))
                rows, gtins = [], {}
                for i in range(0, len(wanted), 500):
                    part = wanted[i : i + 500]
                    marks = ",".join("?" * len(part))
                    rows += db.execute(f"SELECT {_PRODUCT_COLS} FROM products WHERE active = 1 AND sku IN ({marks})", part).fetchall()
                    for gtin, sku in db.execute(f"SELECT gtin, sku FROM product_gtins WHERE sku IN ({marks}) ORDER BY gtin", part):
                        gtins.setdefault(sku, []).append(gtin)
                rows.sort(key=lambda r: r[0])
        out = [
            [r[0], gtins.get(r[0], []), r[12], r[1], r[2], r[3], r[4], r[6], r[7], rates[r[7]], r[8], r[9], r[10], r[11], r[13]]
            for r in rows
        ]
        present = {r[0] for r in rows}
        return out, [s for s in wanted if s not in present]

    # -- products: writes -----------------------------------------------------------------------
    def _check_currency(self, product: Product) -> None:
        if product.currency != self.currency:
            raise InvalidProductError(f"product {product.sku}: priced in {product.currency}, the shop sells in {self.currency}")

    def _row(self, p: Product, version: int, now: str) -> tuple[object, ...]:
        return (
            p.sku, p.name_en, p.name_zh, p.category, p.price.minor,
            None if p.cost_price is None else p.cost_price.minor, p.price.currency, p.tax_class.code,
            p.sold_by.value, p.min_age, p.unit_weight_g, p.weight_tolerance_g, p.plu, p.picture,
            1 if p.active else 0, version, now,
        )

    def _check_refs(self, db: sqlite3.Connection, p: Product) -> None:
        if db.execute("SELECT 1 FROM categories WHERE code = ?", (p.category,)).fetchone() is None:
            raise UnknownCategoryError(f"product {p.sku}: unknown category {p.category!r}")
        row = db.execute("SELECT rate_bp FROM tax_classes WHERE code = ?", (p.tax_class.code,)).fetchone()
        if row is None or int(row[0]) != p.tax_class.rate_bp:
            raise InvalidProductError(f"product {p.sku}: tax class {p.tax_class} is not one of the shop's")
        for g in p.gtins:
            owner = db.execute("SELECT sku FROM product_gtins WHERE gtin = ?", (g,)).fetchone()
            if owner is not None and owner[0] != p.sku:
                raise DuplicateProductError(f"GTIN {g} already belongs to {owner[0]}")
        if p.plu is not None:
            owner = db.execute("SELECT sku FROM products WHERE plu = ?", (p.plu,)).fetchone()
            if owner is not None and owner[0] != p.sku:
                raise DuplicateProductError(f"PLU {p.plu} already belongs to {owner[0]}")

    def create(self, product: Product) -> int:
        """Add a new product; returns the new catalogue version."""
        self._check_currency(product)
        with self._write() as db:
            if db.execute("SELECT 1 FROM products WHERE sku = ?", (product.sku,)).fetchone() is not None:
                raise DuplicateProductError(f"SKU {product.sku} already exists")
            self._check_refs(db, product)
            version = self._bump(db, "product", [product.sku], "create")
            db.execute(_UPSERT, self._row(product, version, self._now()))
            db.executemany("INSERT INTO product_gtins (gtin, sku) VALUES (?, ?)", [(g, product.sku) for g in product.gtins])
        log.info("catalogue: product %s created (version %d)", product.sku, version)
        return version

    def update(self, product: Product) -> int:
        """Replace an existing product's record; returns the new catalogue version."""
        self._check_currency(product)
        with self._write() as db:
            if db.execute("SELECT 1 FROM products WHERE sku = ?", (product.sku,)).fetchone() is None:
                raise UnknownProductError(f"no product {product.sku!r}")
            self._check_refs(db, product)
            version = self._bump(db, "product", [product.sku], "update")
            db.execute(_UPSERT, self._row(product, version, self._now()))
            db.execute("DELETE FROM product_gtins WHERE sku = ?", (product.sku,))
            db.executemany("INSERT INTO product_gtins (gtin, sku) VALUES (?, ?)", [(g, product.sku) for g in product.gtins])
        return version

    def update_price(self, sku: str, price: Money, *, cost_price: Money | None = None) -> int:
        """Change a product's selling (and optionally cost) price; returns the new version."""
        if price.currency != self.currency or price.minor < 0:
            raise InvalidProductError(f"price {price} is not a valid {self.currency} price")
        if cost_price is not None and (cost_price.currency != self.currency or cost_price.minor < 0):
            raise InvalidProductError(f"cost price {cost_price} is not a valid {self.currency} price")
        with self._write() as db:
            if db.execute("SELECT 1 FROM products WHERE sku = ?", (sku,)).fetchone() is None:
                raise UnknownProductError(f"no product {sku!r}")
            version = self._bump(db, "product", [sku], "price")
            db.execute(
                "UPDATE products SET price_minor = ?, cost_minor = COALESCE(?, cost_minor), version = ?, updated_at = ? WHERE sku = ?",
                (price.minor, None if cost_price is None else cost_price.minor, version, self._now(), sku),
            )
        log.info("catalogue: %s now %s (version %d)", sku, price, version)
        return version

    def set_active(self, sku: str, active: bool) -> int:
        with self._write() as db:
            if db.execute("SELECT 1 FROM products WHERE sku = ?", (sku,)).fetchone() is None:
                raise UnknownProductError(f"no product {sku!r}")
            version = self._bump(db, "product", [sku], "active" if active else "inactive")
            db.execute("UPDATE products SET active = ?, version = ?, updated_at = ? WHERE sku = ?", (int(active), version, self._now(), sku))
        return version

    def bulk_upsert(
        self, products: Sequence[Product], *, expected_version: int | None = None, progress: Progress | None = None
    ) -> int:
        """Insert or replace many products in ONE transaction and one version bump.

        The caller (the importer) has validated references and uniqueness; the database's
        constraints still refuse anything that slipped through, and then nothing is written.
        ``expected_version``: refuse (:class:`StalePreviewError`) if the catalogue moved on.
        """
        total = len(products)
        for p in products:
            self._check_currency(p)
        with self._write() as db:
            current = int(db.execute("SELECT value FROM catalogue_meta WHERE key = 'version'").fetchone()[0])
            if expected_version is not None and current != expected_version:
                raise StalePreviewError(f"the catalogue changed (version {expected_version} -> {current}); preview again")
            version = self._bump(db, "product", [p.sku for p in products], "import")
            now = self._now()
            try:
                skus = [(p.sku,) for p in products]
                db.executemany("UPDATE products SET plu = NULL WHERE sku = ?", skus)
                db.executemany("DELETE FROM product_gtins WHERE sku = ?", skus)
                done = 0
                for i in range(0, total, _BATCH):
                    part = products[i : i + _BATCH]
                    db.executemany(_UPSERT, [self._row(p, version, now) for p in part])
                    db.executemany("INSERT INTO product_gtins (gtin, sku) VALUES (?, ?)", [(g, p.sku) for p in part for g in p.gtins])
                    done += len(part)
                    if progress is not None:
                        progress(done, total)
            except sqlite3.IntegrityError as exc:
                raise DuplicateProductError(f"import refused by the database: {exc}") from None
        log.info("catalogue: %d products imported (version %d)", total, version)
        return version
