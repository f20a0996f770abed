"""shared band rows indexed by day

Revision ID: 0010_band_days
Revises: 0009_body_shingles
Create Date: 2026-11-27

The shared SQL index (``index_backend = "sql"``) stamps each band row with the day it was
written and consults only the window's days. Rows older than the window are now deleted once a
day, a batch at a time; the day index finds them without reading the table. Days only grow, so
new rows land at the index's end.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0010_band_days'
down_revision: str | None = '0009_body_shingles'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_lsh_bands_day', 'lsh_bands', ['day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_lsh_bands_day', table_name='lsh_bands')
