"""The master catalogue: products, prices and promotions per scope, versioned.

Every change set gets the next catalogue version; each row it touches is stamped with that
version, and a removal is a row set inactive (a tombstone), so an edge asking for the changes
since version N gets exactly what moved. Version 0 asks for a full snapshot.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hq.errors import NotFoundError
from hq.models import CatalogueVersion, Price, Product, Promotion, Store
from hq.schemas import CatalogueChangesIn, CatalogueOut, PriceOut, ProductOut, PromotionOut

__all__ = ["apply_changes", "changes_since", "current_version", "scopes_for"]

log = logging.getLogger(__name__)


def current_version(session: Session) -> int:
    return int(session.execute(select(func.coalesce(func.max(CatalogueVersion.version), 0))).scalar_one())


def scopes_for(store: Store) -> list[str]:
    return ["chain", f"region:{store.region}", f"store:{store.store_id}"]


def apply_changes(session: Session, changes: CatalogueChangesIn, now: datetime, *, currency: str) -> int:
    """Apply one change set as a new catalogue version; returns the version."""
    ver = CatalogueVersion(created_at=now, note=changes.note)
    session.add(ver)
    session.flush()
    v = ver.version
    for p in changes.products:
        row = session.get(Product, p.sku)
        if row is None:
            row = Product(sku=p.sku)
            session.add(row)
        for k, val in p.model_dump().items():
            setattr(row, k, val)
        row.active = True
        row.version = v
    session.flush()
    for pr in changes.prices:
        if session.get(Product, pr.sku) is None:
            raise NotFoundError(f"price for unknown product {pr.sku!r}")
        row = session.get(Price, (pr.sku, pr.scope))
        if row is None:
            row = Price(sku=pr.sku, scope=pr.scope)
            session.add(row)
        row.price_minor = pr.price_minor
        row.currency = pr.currency or currency
        row.active = True
        row.version = v
    for promo in changes.promotions:
        row = session.get(Promotion, promo.promotion_id)
        if row is None:
            row = Promotion(promotion_id=promo.promotion_id)
            session.add(row)
        row.scope = promo.scope
        row.definition = promo.definition
        row.active = True
        row.version = v
    for sku in changes.remove_products:
        row = session.get(Product, sku)
        if row is None:
            raise NotFoundError(f"no product {sku!r}")
        row.active = False
        row.version = v
        for price in session.execute(select(Price).where(Price.sku == sku, Price.active)).scalars():
            price.active = False
            price.version = v
    for key in changes.remove_prices:
        row = session.get(Price, (key.sku, key.scope))
        if row is None:
            raise NotFoundError(f"no price {key.sku!r} in {key.scope!r}")
        row.active = False
        row.version = v
    for pid in changes.remove_promotions:
        row = session.get(Promotion, pid)
        if row is None:
            raise NotFoundError(f"no promotion {pid!r}")
        row.active = False
        row.version = v
    session.flush()
    log.info("catalogue version %d: %d products, %d prices, %d promotions changed", v, len(changes.products),
             len(changes.prices), len(changes.promotions))
    return v


def changes_since(session: Session, since: int, scopes: list[str] | None) -> CatalogueOut:
    """What changed after version ``since`` (active rows only when ``since`` is 0). ``scopes``
    limits prices and promotions to those a store sees; None gives every scope."""
    full = since <= 0
    version = current_version(session)

    def pick(model):  # type: ignore[no-untyped-def]
        q = select(model).where(model.version > since)
        if full:
            q = q.where(model.active)
        if scopes is not None and hasattr(model, "scope"):
            q = q.where(or_(*(model.scope == s for s in scopes)))
        return session.execute(q.order_by(*model.__table__.primary_key.columns)).scalars()

    return CatalogueOut(
        version=version,
        since_version=max(since, 0),
        full=full,
        products=[ProductOut.model_validate(p, from_attributes=True) for p in pick(Product)],
        prices=[PriceOut.model_validate(p, from_attributes=True) for p in pick(Price)],
        promotions=[PromotionOut.model_validate(p, from_attributes=True) for p in pick(Promotion)],
    )
