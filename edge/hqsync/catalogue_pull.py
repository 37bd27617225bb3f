"""Applying HQ's catalogue changes to the edge catalogue.

HQ sends products and scoped prices changed since a version. The edge keeps HQ's rows
(``hqsync_products``, ``hqsync_prices``, ``hqsync_promotions``) so that a change to one scope
can be resolved against the others (store over region over chain), then writes the affected
products into the :class:`~edge.catalogue.store.CatalogueStore` in one version bump. Fields HQ
does not manage (cost price, unit weight, tolerance, picture) are kept from the edge's record.
A product without any price is kept inactive. A product the edge cannot take (a GTIN or PLU
that a local product holds) is skipped with an ``hq_catalogue`` alarm; the rest goes on.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import TYPE_CHECKING, Any, Mapping

from edge.catalogue.errors import CatalogueStoreError
from edge.catalogue.model import Category, Product
from edge.hqsync.items import effective_price
from edge.hqsync.reports import CatalogueReport
from retail.barcodes import normalize_gtin
from retail.catalogue import SoldBy, TaxClass
from retail.errors import RetailError
from retail.money import Money

if TYPE_CHECKING:
    from edge.catalogue.store import CatalogueStore
    from edge.hqsync.sync import HqSync

__all__ = ["apply_catalogue"]

log = logging.getLogger(__name__)

_PREFERRED_TAX = ("standard", "reduced", "zero")


def _tax_class(catalogue: CatalogueStore, rate_bp: int) -> TaxClass:
    classes = catalogue.tax_classes()
    matching = sorted((c for c in classes.values() if c.rate_bp == rate_bp),
                      key=lambda c: (_PREFERRED_TAX.index(c.code) if c.code in _PREFERRED_TAX else 9, c.code))
    if matching:
        return matching[0]
    tc = TaxClass(f"rate-{rate_bp}", rate_bp)
    catalogue.put_tax_class(tc)
    return tc


def _gtins(sku: str, codes: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for code in codes:
        try:
            key = normalize_gtin(code)
        except RetailError:
            log.warning("HQ product %s: GTIN %r is not valid; left out", sku, code)
            continue
        if key not in out:
            out.append(key)
    return tuple(out)


def _product(sync: HqSync, catalogue: CatalogueStore, hq: Mapping[str, Any], price: int | None,
             existing: Product | None) -> Product:
    sku = str(hq["sku"])
    category = str(hq.get("category") or "general")
    if category not in catalogue.category_codes():
        catalogue.put_category(Category(category, category, category))
    currency = catalogue.currency
    return Product(
        sku=sku, name_en=str(hq["name_en"]), name_zh=str(hq["name_zh"]),
        price=Money(price if price is not None else (existing.price.minor if existing else 0), currency),
        category=category, gtins=_gtins(sku, list(hq.get("gtins") or [])), plu=hq.get("plu") or None,
        cost_price=existing.cost_price if existing else None,
        tax_class=_tax_class(catalogue, int(hq.get("tax_rate_bp", 1300))),
        sold_by=SoldBy(str(hq.get("sold_by") or "unit")), min_age=int(hq.get("min_age") or 0),
        unit_weight_g=existing.unit_weight_g if existing else None,
        weight_tolerance_g=existing.weight_tolerance_g if existing else 20,
        picture=existing.picture if existing else None,
        active=bool(hq.get("active", True)) and price is not None,
    )


def apply_catalogue(sync: HqSync, db: sqlite3.Connection, catalogue: CatalogueStore, data: Mapping[str, Any],
                    since: int) -> CatalogueReport:
    """Store HQ's rows from ``data`` (HQ's ``CatalogueOut``), apply the affected products to
    ``catalogue``, then advance the stored version. Idempotent: applying twice changes nothing."""
    version = int(data["version"])
    report = CatalogueReport(version=version, since_version=since, products=len(data.get("products", [])),
                             prices=len(data.get("prices", [])), promotions=len(data.get("promotions", [])))
    now = sync._now()
    with sync._write() as w:
        if data.get("full"):
            w.execute("DELETE FROM hqsync_prices")
            w.execute("UPDATE hqsync_products SET active = 0")
            w.execute("DELETE FROM hqsync_promotions")
        for p in data.get("products", []):
            w.execute("INSERT INTO hqsync_products (sku, data, active, version) VALUES (?, ?, ?, ?) ON CONFLICT (sku) DO UPDATE"
                      " SET data = excluded.data, active = excluded.active, version = excluded.version",
                      (str(p["sku"]), json.dumps(dict(p), sort_keys=True), 1 if p.get("active", True) else 0, int(p.get("version", version))))
        for pr in data.get("prices", []):
            w.execute("INSERT INTO hqsync_prices (sku, scope, price_minor, currency, active, version) VALUES (?, ?, ?, ?, ?, ?)"
                      " ON CONFLICT (sku, scope) DO UPDATE SET price_minor = excluded.price_minor, currency = excluded.currency,"
                      " active = excluded.active, version = excluded.version",
                      (str(pr["sku"]), str(pr["scope"]), int(pr["price_minor"]), str(pr.get("currency") or catalogue.currency),
                       1 if pr.get("active", True) else 0, int(pr.get("version", version))))
        for pm in data.get("promotions", []):
            w.execute("INSERT INTO hqsync_promotions (promotion_id, scope, definition, active, version) VALUES (?, ?, ?, ?, ?)"
                      " ON CONFLICT (promotion_id) DO UPDATE SET scope = excluded.scope, definition = excluded.definition,"
                      " active = excluded.active, version = excluded.version",
                      (str(pm["promotion_id"]), str(pm.get("scope", "chain")), json.dumps(pm.get("definition", {}), sort_keys=True),
                       1 if pm.get("active", True) else 0, int(pm.get("version", version))))
    skus = sorted({str(p["sku"]) for p in data.get("products", [])} | {str(p["sku"]) for p in data.get("prices", [])})
    if data.get("full"):
        skus = sorted(set(skus) | {str(r[0]) for r in db.execute("SELECT sku FROM hqsync_products")})
    products: list[Product] = []
    for sku in skus:
        row = db.execute("SELECT data, active FROM hqsync_products WHERE sku = ?", (sku,)).fetchone()
        if row is None:
            continue  # a price for a product HQ has not sent: kept until the product comes
        hq = dict(json.loads(row[0]), active=bool(row[1]))
        prices = {str(s): int(m) for s, m, c in db.execute(
            "SELECT scope, price_minor, currency FROM hqsync_prices WHERE sku = ? AND active = 1", (sku,)) if c == catalogue.currency}
        price = effective_price(prices, store_id=sync.store_id, region=sync.settings.region)
        existing = catalogue.find(sku)
        existing = existing if existing is not None and existing.sku == sku else None
        try:
            products.append(_product(sync, catalogue, hq, price, existing))
        except (CatalogueStoreError, RetailError, ValueError, KeyError) as exc:
            report.skipped.append(sku)
            with sync._write() as w:
                sync._alarm(w, "hq_catalogue", sku, f"HQ product {sku} cannot be taken: {exc}")
    if products:
        try:
            report.catalogue_version = catalogue.bulk_upsert(products)
            report.applied = len(products)
        except CatalogueStoreError as exc:  # one product clashes with a local one: apply one by one
            log.warning("catalogue from HQ refused as a whole (%s); applying product by product", exc)
            for p in products:
                try:
                    report.catalogue_version = catalogue.bulk_upsert([p])
                    report.applied += 1
                except CatalogueStoreError as one:
                    report.skipped.append(p.sku)
                    with sync._write() as w:
                        sync._alarm(w, "hq_catalogue", p.sku, f"HQ product {p.sku} cannot be taken: {one}")
    with sync._write() as w:
        sync._set_meta(w, "catalogue_version", str(version))
        sync._set_meta(w, "catalogue_pulled_at", now)
    log.info("catalogue from HQ: version %d -> %d, %d products applied, %d skipped", since, version, report.applied,
             len(report.skipped))
    return report
