"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-01-05
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:

    op.create_table('catalogue_versions',
    sa.Column('version', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_catalogue_versions'))
    )
    op.create_table('daily_payments',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('payments', sa.BigInteger(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'business_date', 'method', name=op.f('pk_daily_payments'))
    )
    with op.batch_alter_table('daily_payments', schema=None) as batch_op:
        batch_op.create_index('ix_daily_payments_date', ['business_date'], unique=False)

    op.create_table('daily_products',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('weight_g', sa.BigInteger(), nullable=False),
    sa.Column('revenue_minor', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'business_date', 'sku', name=op.f('pk_daily_products'))
    )
    with op.batch_alter_table('daily_products', schema=None) as batch_op:
        batch_op.create_index('ix_daily_products_date', ['business_date'], unique=False)

    op.create_table('daily_sales',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('transactions', sa.BigInteger(), nullable=False),
    sa.Column('revenue_minor', sa.BigInteger(), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('savings_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'business_date', name=op.f('pk_daily_sales'))
    )
    with op.batch_alter_table('daily_sales', schema=None) as batch_op:
        batch_op.create_index('ix_daily_sales_date', ['business_date'], unique=False)

    op.create_table('products',
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('gtins', sa.JSON(), nullable=False),
    sa.Column('plu', sa.String(length=5), nullable=True),
    sa.Column('sold_by', sa.String(length=10), nullable=False),
    sa.Column('tax_rate_bp', sa.Integer(), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('sku', name=op.f('pk_products'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_version'), ['version'], unique=False)

    op.create_table('promotions',
    sa.Column('promotion_id', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('promotion_id', name=op.f('pk_promotions'))
    )
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promotions_version'), ['version'], unique=False)

    op.create_table('stores',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_batch_id', sa.String(length=64), nullable=True),
    sa.Column('last_batch_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_stores'))
    )
    op.create_table('sync_conflicts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('kiosk_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('kept_hash', sa.String(length=64), nullable=False),
    sa.Column('received_hash', sa.String(length=64), nullable=False),
    sa.Column('received_body', sa.Text(), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflicts'))
    )
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_conflicts_store_id'), ['store_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('enrolment_codes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_enrolment_codes_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_enrolment_codes_code_hash'))
    )
    with op.batch_alter_table('enrolment_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_codes_store_id'), ['store_id'], unique=False)

    op.create_table('prices',
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['sku'], ['products.sku'], name=op.f('fk_prices_sku_products')),
    sa.PrimaryKeyConstraint('sku', 'scope', name=op.f('pk_prices'))
    )
    with op.batch_alter_table('prices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prices_version'), ['version'], unique=False)

    op.create_table('sales',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('kiosk_id', sa.String(length=64), nullable=False),
    sa.Column('sale_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('subtotal_minor', sa.BigInteger(), nullable=False),
    sa.Column('savings_minor', sa.BigInteger(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.String(length=64), nullable=True),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_sales_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales')),
    sa.UniqueConstraint('store_id', 'kiosk_id', 'sale_id', name='uq_sales_key')
    )
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.create_index('ix_sales_store_date', ['store_id', 'business_date'], unique=False)
        batch_op.create_index('ix_sales_store_kiosk_date', ['store_id', 'kiosk_id', 'business_date'], unique=False)

    op.create_table('store_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_store_tokens_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_store_tokens_token_hash'))
    )
    with op.batch_alter_table('store_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_store_tokens_store_id'), ['store_id'], unique=False)

    op.create_table('sync_batches',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('first_received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('times_received', sa.Integer(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_sync_batches_store_id_stores')),
    sa.PrimaryKeyConstraint('store_id', 'batch_id', name=op.f('pk_sync_batches'))
    )
    op.create_table('sync_cursors',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('kiosk_id', sa.String(length=64), nullable=False),
    sa.Column('highest_seq', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_sync_cursors_store_id_stores')),
    sa.PrimaryKeyConstraint('store_id', 'kiosk_id', name=op.f('pk_sync_cursors'))
    )
    op.create_table('sync_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('kiosk_id', sa.String(length=64), nullable=True),
    sa.Column('business_date', sa.Date(), nullable=True),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_sync_events_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_events')),
    sa.UniqueConstraint('store_id', 'kind', 'event_id', name='uq_sync_events_key')
    )
    with op.batch_alter_table('sync_events', schema=None) as batch_op:
        batch_op.create_index('ix_sync_events_store_date', ['store_id', 'business_date'], unique=False)

    op.create_table('transfers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('from_store_id', sa.String(length=64), nullable=False),
    sa.Column('to_store_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('shipped_lines', sa.JSON(), nullable=True),
    sa.Column('received_lines', sa.JSON(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['from_store_id'], ['stores.store_id'], name=op.f('fk_transfers_from_store_id_stores')),
    sa.ForeignKeyConstraint(['to_store_id'], ['stores.store_id'], name=op.f('fk_transfers_to_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers'))
    )
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfers_from_store_id'), ['from_store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfers_to_store_id'), ['to_store_id'], unique=False)

    op.create_table('user_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('user_stores',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_user_stores_store_id_stores')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_stores_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'store_id', name=op.f('pk_user_stores'))
    )
    op.create_table('sale_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sale_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('gross_minor', sa.BigInteger(), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['sale_pk'], ['sales.id'], name=op.f('fk_sale_lines_sale_pk_sales')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sale_lines'))
    )
    with op.batch_alter_table('sale_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sale_lines_sale_pk'), ['sale_pk'], unique=False)
        batch_op.create_index('ix_sale_lines_store_date', ['store_id', 'business_date'], unique=False)

    op.create_table('sale_payments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sale_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['sale_pk'], ['sales.id'], name=op.f('fk_sale_payments_sale_pk_sales')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sale_payments'))
    )
    with op.batch_alter_table('sale_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sale_payments_sale_pk'), ['sale_pk'], unique=False)
        batch_op.create_index('ix_sale_payments_store_date', ['store_id', 'business_date'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('sale_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_sale_payments_store_date')
        batch_op.drop_index(batch_op.f('ix_sale_payments_sale_pk'))

    op.drop_table('sale_payments')
    with op.batch_alter_table('sale_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_sale_lines_store_date')
        batch_op.drop_index(batch_op.f('ix_sale_lines_sale_pk'))

    op.drop_table('sale_lines')
    op.drop_table('user_stores')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))

    op.drop_table('user_sessions')
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfers_to_store_id'))
        batch_op.drop_index(batch_op.f('ix_transfers_from_store_id'))

    op.drop_table('transfers')
    with op.batch_alter_table('sync_events', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_events_store_date')

    op.drop_table('sync_events')
    op.drop_table('sync_cursors')
    op.drop_table('sync_batches')
    with op.batch_alter_table('store_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_store_tokens_store_id'))

    op.drop_table('store_tokens')
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_store_kiosk_date')
        batch_op.drop_index('ix_sales_store_date')

    op.drop_table('sales')
    with op.batch_alter_table('prices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prices_version'))

    op.drop_table('prices')
    with op.batch_alter_table('enrolment_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_codes_store_id'))

    op.drop_table('enrolment_codes')
    op.drop_table('users')
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_conflicts_store_id'))

    op.drop_table('sync_conflicts')
    op.drop_table('stores')
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promotions_version'))

    op.drop_table('promotions')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_version'))

    op.drop_table('products')
    with op.batch_alter_table('daily_sales', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_sales_date')

    op.drop_table('daily_sales')
    with op.batch_alter_table('daily_products', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_products_date')

    op.drop_table('daily_products')
    with op.batch_alter_table('daily_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_payments_date')

    op.drop_table('daily_payments')
    op.drop_table('catalogue_versions')

