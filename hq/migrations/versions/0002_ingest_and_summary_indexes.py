"""indexes for fast ingest and summaries

* ``sales``: one covering index ``(store_id, business_date, kiosk_id) INCLUDE (seq,
  total_minor)`` serves reconciliation with an index-only scan and replaces the two indexes
  ``(store_id, business_date)`` and ``(store_id, kiosk_id, business_date)``;
* ``sale_lines`` and ``sale_payments`` lose their ``(store_id, business_date)`` indexes: they are
  reached through their sale (``sale_pk``), and every index costs each of the many line inserts;
* ``daily_products``: ``(business_date, sku, category) INCLUDE (units, weight_g,
  revenue_minor, name)`` replaces ``(business_date)``, so a chain summary reads a period's product
  rollups with an index-only scan. ``INCLUDE`` is PostgreSQL's; SQLite gets the key columns;
* PostgreSQL extended statistics on ``daily_products (sku, category)``: a sku has one category,
  so grouping by both yields about as many groups as skus. Without them the planner multiplies
  the two distinct counts, expects ~40 times too many groups and sorts (spilling to disk)
  instead of hashing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Sequence, Union

from alembic import op

revision: str = "0002"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_sales_store_date_kiosk", "sales", ["store_id", "business_date", "kiosk_id"],
                    postgresql_include=["seq", "total_minor"])
    op.drop_index("ix_sales_store_date", table_name="sales")
    op.drop_index("ix_sales_store_kiosk_date", table_name="sales")
    op.drop_index("ix_sale_lines_store_date", table_name="sale_lines")
    op.drop_index("ix_sale_payments_store_date", table_name="sale_payments")
    op.create_index("ix_daily_products_date_sku", "daily_products", ["business_date", "sku", "category"],
                    postgresql_include=["units", "weight_g", "revenue_minor", "name"])
    op.drop_index("ix_daily_products_date", table_name="daily_products")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE STATISTICS IF NOT EXISTS st_daily_products_sku_category (ndistinct, dependencies) "
                   "ON sku, category FROM daily_products")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_daily_products_sku_category")
    op.create_index("ix_daily_products_date", "daily_products", ["business_date"])
    op.drop_index("ix_daily_products_date_sku", table_name="daily_products")
    op.create_index("ix_sale_payments_store_date", "sale_payments", ["store_id", "business_date"])
    op.create_index("ix_sale_lines_store_date", "sale_lines", ["store_id", "business_date"])
    op.create_index("ix_sales_store_kiosk_date", "sales", ["store_id", "kiosk_id", "business_date"])
    op.create_index("ix_sales_store_date", "sales", ["store_id", "business_date"])
    op.drop_index("ix_sales_store_date_kiosk", table_name="sales")
