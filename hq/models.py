"""HQ's tables, as SQLAlchemy 2 typed ORM classes. Schema changes go through hq/migrations.

Money columns are integer minor units (BIGINT). Sales are kept exactly once, keyed by
``(store_id, kiosk_id, sale_id)``; ``daily_*`` tables and ``chain_monthly_products`` are
rollups updated in the same transaction as the sales they count, so chain-wide queries never
scan sale lines.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "CatalogueVersion",
    "ChainMonthlyProduct",
    "DailyPayment",
    "DailyProduct",
    "DailySales",
    "EnrolmentCode",
    "Price",
    "Product",
    "Promotion",
    "Sale",
    "SaleLine",
    "SalePayment",
    "Store",
    "StoreToken",
    "SyncBatch",
    "SyncConflict",
    "SyncCursor",
    "SyncEvent",
    "Transfer",
    "User",
    "UserSession",
    "UserStore",
]

# BIGINT primary keys on PostgreSQL, INTEGER (the rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Minor = BigInteger
TZDateTime = DateTime(timezone=True)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# -- stores and credentials -------------------------------------------------------------------


class Store(Base):
    __tablename__ = "stores"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(64), default="default")
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    last_batch_id: Mapped[str | None] = mapped_column(String(64), default=None)
    last_batch_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)


class StoreToken(Base):
    """An edge's bearer token, kept as an HMAC-SHA256 of the token (never the token)."""

    __tablename__ = "store_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)


class EnrolmentCode(Base):
    """A one-time code a new edge exchanges for its token."""

    __tablename__ = "enrolment_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # admin | analyst | store_manager
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)


class UserStore(Base):
    """The stores a store manager may see."""

    __tablename__ = "user_stores"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"), primary_key=True)


class UserSession(Base):
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)


# -- sales ------------------------------------------------------------------------------------


class Sale(Base):
    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("store_id", "kiosk_id", "sale_id", name="uq_sales_key"),
        # reconciliation reads it alone (index-only scan on PostgreSQL)
        Index("ix_sales_store_date_kiosk", "store_id", "business_date", "kiosk_id",
              postgresql_include=["seq", "total_minor"]),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"))
    kiosk_id: Mapped[str] = mapped_column(String(64))
    sale_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    body_hash: Mapped[str] = mapped_column(String(64))
    business_date: Mapped[date] = mapped_column(Date)
    finished_at: Mapped[datetime] = mapped_column(TZDateTime)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(Minor)
    savings_minor: Mapped[int] = mapped_column(Minor)
    total_minor: Mapped[int] = mapped_column(Minor)
    tax_minor: Mapped[int] = mapped_column(Minor)
    units: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[str | None] = mapped_column(String(64), default=None)
    batch_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(TZDateTime)
    body: Mapped[str] = mapped_column(Text)


class SaleLine(Base):
    """A line of a sale, reached through its sale (``sale_pk``)."""

    __tablename__ = "sale_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sale_pk: Mapped[int] = mapped_column(ForeignKey("sales.id"), index=True)
    store_id: Mapped[str] = mapped_column(String(64))
    business_date: Mapped[date] = mapped_column(Date)
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    units: Mapped[int] = mapped_column(Integer)
    weight_g: Mapped[int] = mapped_column(Integer)
    gross_minor: Mapped[int] = mapped_column(Minor)
    net_minor: Mapped[int] = mapped_column(Minor)
    tax_minor: Mapped[int] = mapped_column(Minor)


class SalePayment(Base):
    """A payment of a sale; cash is counted net of the change given."""

    __tablename__ = "sale_payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sale_pk: Mapped[int] = mapped_column(ForeignKey("sales.id"), index=True)
    store_id: Mapped[str] = mapped_column(String(64))
    business_date: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(Minor)


class SyncConflict(Base):
    """A sale that came again under a known key with another body. The original is kept."""

    __tablename__ = "sync_conflicts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    kiosk_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str] = mapped_column(String(64))
    kept_hash: Mapped[str] = mapped_column(String(64))
    received_hash: Mapped[str] = mapped_column(String(64))
    received_body: Mapped[str] = mapped_column(Text)
    batch_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(TZDateTime)


class SyncEvent(Base):
    """Other sync kinds (stock moves, alarms, day closes), kept exactly once as JSON."""

    __tablename__ = "sync_events"
    __table_args__ = (
        UniqueConstraint("store_id", "kind", "event_id", name="uq_sync_events_key"),
        Index("ix_sync_events_store_date", "store_id", "business_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"))
    kind: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(64))
    kiosk_id: Mapped[str | None] = mapped_column(String(64), default=None)
    business_date: Mapped[date | None] = mapped_column(Date, default=None)
    body_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    batch_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(TZDateTime)


class SyncBatch(Base):
    __tablename__ = "sync_batches"

    store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_received_at: Mapped[datetime] = mapped_column(TZDateTime)
    last_received_at: Mapped[datetime] = mapped_column(TZDateTime)
    times_received: Mapped[int] = mapped_column(Integer, default=1)
    items: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)


class SyncCursor(Base):
    """Per store and kiosk: the highest sale sequence number received."""

    __tablename__ = "sync_cursors"

    store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    highest_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)


# -- rollups ----------------------------------------------------------------------------------


class DailySales(Base):
    __tablename__ = "daily_sales"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    transactions: Mapped[int] = mapped_column(BigInteger)
    revenue_minor: Mapped[int] = mapped_column(Minor)
    units: Mapped[int] = mapped_column(BigInteger)
    savings_minor: Mapped[int] = mapped_column(Minor)
    tax_minor: Mapped[int] = mapped_column(Minor)


Index("ix_daily_sales_date", DailySales.business_date)


class DailyProduct(Base):
    __tablename__ = "daily_products"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    units: Mapped[int] = mapped_column(BigInteger)
    weight_g: Mapped[int] = mapped_column(BigInteger)
    revenue_minor: Mapped[int] = mapped_column(Minor)


# a chain summary reads a period's product rollups from this index alone (PostgreSQL)
Index("ix_daily_products_date_sku", DailyProduct.business_date, DailyProduct.sku, DailyProduct.category,
      postgresql_include=["units", "weight_g", "revenue_minor", "name"])


class ChainMonthlyProduct(Base):
    """The whole chain's ``daily_products`` summed per month (``month`` is its first day), so a
    chain summary over whole months reads a few thousand rows instead of every store's days.
    Each row is exactly the sum of the month's daily rows with its ``(sku, category)``; ``name``
    is the greatest of their names (what a summary shows)."""

    __tablename__ = "chain_monthly_products"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    units: Mapped[int] = mapped_column(BigInteger)
    weight_g: Mapped[int] = mapped_column(BigInteger)
    revenue_minor: Mapped[int] = mapped_column(Minor)


class DailyPayment(Base):
    __tablename__ = "daily_payments"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    method: Mapped[str] = mapped_column(String(20), primary_key=True)
    payments: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(Minor)


Index("ix_daily_payments_date", DailyPayment.business_date)


# -- catalogue master -------------------------------------------------------------------------


class CatalogueVersion(Base):
    __tablename__ = "catalogue_versions"

    version: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    note: Mapped[str] = mapped_column(String(500), default="")


class Product(Base):
    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    gtins: Mapped[list[str]] = mapped_column(JSON)
    plu: Mapped[str | None] = mapped_column(String(5), default=None)
    sold_by: Mapped[str] = mapped_column(String(10))
    tax_rate_bp: Mapped[int] = mapped_column(Integer)
    min_age: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)


class Price(Base):
    """A product's price in a scope: ``chain``, ``region:<region>`` or ``store:<store_id>``."""

    __tablename__ = "prices"

    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    price_minor: Mapped[int] = mapped_column(Minor)
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)


class Promotion(Base):
    __tablename__ = "promotions"

    promotion_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(80))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)


# -- transfers --------------------------------------------------------------------------------


class Transfer(Base):
    """Stock asked for by ``to_store_id`` and shipped by ``from_store_id``."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    from_store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"), index=True)
    to_store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # requested | shipped | received | cancelled
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    shipped_lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    received_lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    note: Mapped[str] = mapped_column(String(500), default="")
    requested_at: Mapped[datetime] = mapped_column(TZDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)
    received_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)
