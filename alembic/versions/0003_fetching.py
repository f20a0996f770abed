"""fetching: feed URL history, host slow-downs, feed entry identity

Revision ID: 0003_fetching
Revises: 0002_dedupe
Create Date: 2026-11-26 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003_fetching'
down_revision: str | None = '0002_dedupe'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('feed_url_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('feed_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('old_url', sa.Text(), nullable=False),
    sa.Column('new_url', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['feed_id'], ['feeds.id'], name=op.f('fk_feed_url_changes_feed_id_feeds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_url_changes'))
    )
    with op.batch_alter_table('feed_url_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_url_changes_feed_id'), ['feed_id'], unique=False)

    op.create_table('host_limits',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('host', name=op.f('pk_host_limits'))
    )
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entry_identity', sa.String(length=10), server_default='guid', nullable=False))
        batch_op.add_column(sa.Column('ttl_seconds', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_column('ttl_seconds')
        batch_op.drop_column('entry_identity')

    op.drop_table('host_limits')
    with op.batch_alter_table('feed_url_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_url_changes_feed_id'))

    op.drop_table('feed_url_changes')
