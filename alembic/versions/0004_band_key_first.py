"""dedupe speed: lsh_bands primary key led by band_key

Revision ID: 0004_band_key_first
Revises: 0003_fetching
Create Date: 2026-11-26 00:00:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0004_band_key_first'
down_revision: str | None = '0003_fetching'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _primary_key(columns: list[str]) -> None:
    with op.batch_alter_table('lsh_bands', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint('pk_lsh_bands', type_='primary')
        batch_op.create_primary_key('pk_lsh_bands', columns)


def upgrade() -> None:
    _primary_key(['band_key', 'kind', 'article_id', 'position'])


def downgrade() -> None:
    _primary_key(['kind', 'band_key', 'article_id', 'position'])
