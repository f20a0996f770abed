"""canonical_articles gains photo_credits

Revision ID: 0008_view_photo_credits
Revises: 0007_norm_hash_place
Create Date: 2026-11-26

``photo_credits`` (a JSON list) is what ``articles show --json`` gives: the credits of the shown
text's photos that came without a caption, kept in ``articles.extra``; ``[]`` when there are none.
The view is dropped and created again from 0005's definition with the one column added, so the
two stay the same view apart from it.
"""
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op


revision: str = '0008_view_photo_credits'
down_revision: str | None = '0007_norm_hash_place'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHOWN_EXTRA = "CASE WHEN t.id IS NULL THEN a.extra ELSE t.extra END"
PHOTO_CREDITS = {
    "sqlite": f"\n    coalesce(json_extract({SHOWN_EXTRA}, '$.photo_credits'), '[]') AS photo_credits,",
    "postgresql": f"\n    coalesce(({SHOWN_EXTRA}) -> 'photo_credits', '[]'::json) AS photo_credits,",
}


def _view_0005() -> ModuleType:
    path = Path(__file__).with_name("0005_admin_canonical_view.py")
    spec = importlib.util.spec_from_file_location("newsdedup_migration_0005", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _create_view(with_photo_credits: bool) -> None:
    view = _view_0005()
    dialect = op.get_bind().dialect.name
    blocks = view.SQLITE_BLOCKS if dialect == "sqlite" else view.POSTGRESQL_BLOCKS
    extra = PHOTO_CREDITS["sqlite" if dialect == "sqlite" else "postgresql"] if with_photo_credits else ""
    op.execute("CREATE VIEW canonical_articles AS SELECT" + view.COMMON_COLUMNS + blocks + extra + view.COMMON_TAIL)


def upgrade() -> None:
    op.execute("DROP VIEW canonical_articles")
    _create_view(with_photo_credits=True)


def downgrade() -> None:
    op.execute("DROP VIEW canonical_articles")
    _create_view(with_photo_credits=False)
