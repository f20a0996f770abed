"""block hash index in (article, position) order

Revision ID: 0007_norm_hash_place
Revises: 0006_link_indexes
Create Date: 2026-11-26

``ix_article_paragraphs_norm_hash`` becomes ``(norm_hash, article_id, position)``. The exact tier
asks for the earliest non-exact block with each hash; with the hash alone indexed that read
every stored copy of the hash and sorted them, a cost that grew with the store. Ordered by
place, each hash's lookup stops at its first qualifying entry. Lookups by hash alone use the
leading column as before, so the old index is dropped rather than kept beside it.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0007_norm_hash_place'
down_revision: str | None = '0006_link_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_article_paragraphs_norm_hash_place',
        'article_paragraphs',
        ['norm_hash', 'article_id', 'position'],
        unique=False,
    )
    op.drop_index('ix_article_paragraphs_norm_hash', table_name='article_paragraphs')


def downgrade() -> None:
    op.create_index('ix_article_paragraphs_norm_hash', 'article_paragraphs', ['norm_hash'], unique=False)
    op.drop_index('ix_article_paragraphs_norm_hash_place', table_name='article_paragraphs')
