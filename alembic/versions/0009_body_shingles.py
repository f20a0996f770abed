"""articles gain body_shingles

Revision ID: 0009_body_shingles
Revises: 0008_view_photo_credits
Create Date: 2026-11-26

``body_shingles``: how many distinct body shingles the article's ``document_signature`` was made
from. With both counts and the signatures, story matching can tell that a candidate cannot be the
same story without reading and shingling its body. Articles stored before this revision keep it
null, and are compared by their text as before.
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0009_body_shingles'
down_revision: str | None = '0008_view_photo_credits'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('articles', sa.Column('body_shingles', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('articles') as batch:
        batch.drop_column('body_shingles')
