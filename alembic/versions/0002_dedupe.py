"""dedupe index and verdict columns

Revision ID: 0002_dedupe
Revises: 0001
Create Date: 2026-11-25 22:03:28.406916
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002_dedupe'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lsh_bands',
    sa.Column('kind', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('band_key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('article_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_lsh_bands_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kind', 'band_key', 'article_id', 'position', name=op.f('pk_lsh_bands'))
    )
    with op.batch_alter_table('lsh_bands', schema=None) as batch_op:
        batch_op.create_index('ix_lsh_bands_article_id', ['article_id'], unique=False)

    with op.batch_alter_table('article_paragraphs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('estimated', sa.Double(), nullable=True))

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_from_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_articles_text_from_id_articles'), 'articles', ['text_from_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('removals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('norm_hash', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('duplicate_tier', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_removals_norm_hash'), ['norm_hash'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('removals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_removals_norm_hash'))
        batch_op.drop_column('duplicate_tier')
        batch_op.drop_column('norm_hash')

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_articles_text_from_id_articles'), type_='foreignkey')
        batch_op.drop_column('text_from_id')

    with op.batch_alter_table('article_paragraphs', schema=None) as batch_op:
        batch_op.drop_column('estimated')

    with op.batch_alter_table('lsh_bands', schema=None) as batch_op:
        batch_op.drop_index('ix_lsh_bands_article_id')

    op.drop_table('lsh_bands')
