"""canonical_articles view for SQL consumers; seed the change counter

Revision ID: 0005_admin
Revises: 0004_band_key_first
Create Date: 2026-11-26

``canonical_articles`` has one row per live canonical article with its body (paragraphs in
order, separated by a blank line) and captions (one per line). Like ``export``, a canonical
article shows its cluster's chosen text (``text_from_id``) when that member is live. Autogenerate does not compare
views, so ``alembic check`` is unaffected. A later migration that changes a column this view
reads must drop the view first and create it again after (PostgreSQL refuses otherwise); on
SQLite, table-recreating batch migrations keep working because ``ingest.migrations`` runs them
with ``legacy_alter_table`` on.

The change counter row is created here so that the first two concurrent writers never race
to insert it.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0005_admin'
down_revision: str | None = '0004_band_key_first'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMON_COLUMNS = """
    a.id,
    s.name AS source,
    a.feed_id,
    a.url,
    a.title,
    a.subtitle,
    a.byline,
    a.credit,
    a.agencies,
    a.language,
    a.published_at,
    a.source_updated_at AS updated_at,
    a.created_at,
    a.modified_at,
    a.version,
    coalesce(t.id, a.id) AS text_from_id,
"""

COMMON_TAIL = """
    (SELECT count(*) FROM article_paragraphs p WHERE p.article_id = coalesce(t.id, a.id) AND p.kind = 'body') AS paragraph_count,
    (SELECT count(*) FROM article_paragraphs p WHERE p.article_id = coalesce(t.id, a.id) AND p.kind = 'caption') AS caption_count,
    (SELECT count(*) FROM articles m
      WHERE m.canonical_id = a.id AND m.id <> a.id AND m.deleted_at IS NULL) AS duplicate_count,
    (SELECT max(c.seq) FROM article_changes c WHERE c.article_id = a.id) AS last_seq
FROM articles a
JOIN sources s ON s.id = a.source_id
LEFT JOIN articles t ON t.id = a.text_from_id AND t.deleted_at IS NULL
WHERE a.deleted_at IS NULL AND (a.canonical_id IS NULL OR a.canonical_id = a.id)
"""

POSTGRESQL_BLOCKS = """
    coalesce((SELECT string_agg(p.text, E'\\n\\n' ORDER BY p.position) FROM article_paragraphs p
              WHERE p.article_id = coalesce(t.id, a.id) AND p.kind = 'body'), '') AS body,
    coalesce((SELECT string_agg(p.text, E'\\n' ORDER BY p.position) FROM article_paragraphs p
              WHERE p.article_id = coalesce(t.id, a.id) AND p.kind = 'caption'), '') AS captions,
"""

# SQLite before 3.44 has no ORDER BY inside an aggregate; as a window function over an ordered
# frame, group_concat concatenates in that order.
SQLITE_BLOCKS = """
    coalesce((SELECT w.joined FROM (
        SELECT group_concat(p.text, char(10) || char(10)) OVER (
            ORDER BY p.position ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS joined
        FROM article_paragraphs p WHERE p.article_id = coalesce(t.id, a.id) AND p.kind = 'body') w LIMIT 1), '') AS body,
    coalesce((SELECT w.joined FROM (
        SELECT group_concat(p.text, char(10)) OVER (
            ORDER BY p.position ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS joined
        FROM article_paragraphs p WHERE p.article_id = coalesce(t.id, a.id) AND p.kind = 'caption') w LIMIT 1), '') AS captions,
"""


def upgrade() -> None:
    blocks = SQLITE_BLOCKS if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_BLOCKS
    op.execute("CREATE VIEW canonical_articles AS SELECT" + COMMON_COLUMNS + blocks + COMMON_TAIL)
    op.execute(
        "INSERT INTO change_counter (id, value) "
        "SELECT 1, coalesce((SELECT max(seq) FROM article_changes), 0) "
        "WHERE NOT EXISTS (SELECT 1 FROM change_counter WHERE id = 1)"
    )


def downgrade() -> None:
    op.execute("DROP VIEW canonical_articles")
