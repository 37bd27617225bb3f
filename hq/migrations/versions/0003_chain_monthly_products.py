"""chain_monthly_products: the chain's product rollup per month

A chain-month summary grouped every store's ``daily_products`` rows of two months (some 300,000
rows for 100 stores); this table holds them summed per ``(month, sku, category)``, a few
thousand rows a month. Ingest keeps it in step with ``daily_products``; here it is filled from
the daily rows already stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "chain_monthly_products",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("weight_g", sa.BigInteger(), nullable=False),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "sku", "category", name=op.f("pk_chain_monthly_products")),
    )
    month = ("date_trunc('month', business_date)::date" if op.get_bind().dialect.name == "postgresql"
             else "date(business_date, 'start of month')")
    op.execute(
        "INSERT INTO chain_monthly_products (month, sku, category, name, units, weight_g, revenue_minor) "
        f"SELECT {month}, sku, category, max(name), sum(units), sum(weight_g), sum(revenue_minor) "
        f"FROM daily_products GROUP BY {month}, sku, category"
    )


def downgrade() -> None:
    op.drop_table("chain_monthly_products")
