"""The ``canonical_articles`` view: current canonical articles with body and captions, for
consumers who read SQL; it survives later migrations that recreate the tables it reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from clitools import REPO, cli_json, export_lines, ingest_copies, run_cli
from sqlalchemy import func, select, text

from ingest import migrations
from ingest.app import App
from store import repository as repo
from store.models import ArticleParagraph

NPR = "feeds/fastfeedparser__npr-world.xml"
GUARDIAN = "feeds/rss-parser__guardian-us.rss"  # every entry's photo has a credit and no caption


def view_rows(app: App) -> dict[int, dict[str, object]]:
    with app.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM canonical_articles ORDER BY id")).mappings().all()
    return {int(row["id"]): dict(row) for row in rows}


def test_view_lists_live_canonical_articles_with_body_and_captions(
    app: App, corpus: Path, seed_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = app.database_url
    ingest_copies(capsys, url, seed_file, tmp_path, ["voa-id", "mirror"])
    assert run_cli(capsys, "--database-url", url, "ingest", str(corpus / NPR), "--source", "npr")[0] == 0
    assert run_cli(capsys, "--database-url", url, "ingest", str(corpus / GUARDIAN), "--source", "guardian")[0] == 0
    with app.sessions.begin() as session:  # the copy merged into the original, as cross-article dedupe does
        repo.set_canonical(session, repo.get_article(session, 2), 1)
    assert run_cli(capsys, "--database-url", url, "articles", "delete", "3")[0] == 0

    events = export_lines(capsys, url)
    ids = sorted({line["id"] for line in events})
    articles = {i: cli_json(capsys, url, "articles", "show", str(i), "--json") for i in ids}
    expected = sorted(i for i, a in articles.items() if not a["deleted"] and a["canonical_id"] == i)
    rows = view_rows(app)
    assert sorted(rows) == expected
    assert 2 not in rows and 3 not in rows and 1 in rows
    for article_id, row in rows.items():
        article = articles[article_id]
        assert row["source"] == article["source"]
        assert row["title"] == article["title"]
        assert row["url"] == article["url"]
        assert row["body"] == "\n\n".join(article["body"])
        assert row["captions"] == "\n".join(article["captions"])
        assert row["paragraph_count"] == len(article["body"])
        assert row["caption_count"] == len(article["captions"])
        assert row["version"] == article["version"]
        credits = row["photo_credits"]  # JSON: text on SQLite, decoded by the PostgreSQL driver
        assert (json.loads(credits) if isinstance(credits, str) else credits) == article["photo_credits"]
        assert row["last_seq"] == max(e["seq"] for e in events if e["id"] == article_id)
    assert rows[1]["duplicate_count"] == 1
    assert all(row["duplicate_count"] == 0 for i, row in rows.items() if i != 1)
    seed_body = articles[1]["body"]
    assert str(rows[1]["body"]).split("\n\n") == seed_body and len(seed_body) == 23
    assert sum(1 for a in articles.values() if a["source"] == "guardian" and a["photo_credits"]) > 40


def test_view_survives_a_migration_that_recreates_its_tables(
    sqlite_app: App, seed_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SQLite batch migrations copy, drop and rename a table: the drop must not cascade into the
    paragraphs, and the rename must not trip over the view that names the table."""
    app = sqlite_app
    run_cli(capsys, "--database-url", app.database_url, "ingest", str(seed_file), "--format", "text")
    before = view_rows(app)
    with app.sessions() as session:
        paragraphs = session.scalar(select(func.count()).select_from(ArticleParagraph))

    scripts = tmp_path / "alembic"
    shutil.copytree(REPO / "alembic", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = migrations.head_revision(app.engine)
    (scripts / "versions" / "9999_recreate.py").write_text(
        f'''"""a later migration that recreates the articles table"""
import sqlalchemy as sa
from alembic import op

revision = "9999_recreate"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles", recreate="always") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles", recreate="always") as batch:
        batch.drop_column("note")
''',
        encoding="utf-8",
    )
    monkeypatch.setenv("NEWSDEDUP_ALEMBIC_DIR", str(scripts))
    migrations.upgrade(app.engine)

    assert view_rows(app) == before
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ArticleParagraph)) == paragraphs
    with app.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA legacy_alter_table").scalar() == 0
