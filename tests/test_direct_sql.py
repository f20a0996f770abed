"""Statements run on the driver's cursor: same rows as SQLAlchemy's execution, inside its transaction."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select, text

from ingest.app import App
from store import direct
from store.models import ArticleParagraph, Source
from store.records import NewArticle
from store.repository import create_article

PARAGRAPHS = cast(Table, ArticleParagraph.__table__)


def _article(app: App) -> int:
    with app.sessions.begin() as session:
        session.add(Source(name="direct"))
        session.flush()
        source_id = session.scalars(select(Source.id).where(Source.name == "direct")).one()
        record = NewArticle(source_id=source_id, entry_key="k", content_hash="h", title="T")
        return create_article(session, record).id


def test_insert_rows_in_any_column_order_then_fetch(app: App) -> None:
    article_id = _article(app)
    # Columns in an order unlike the table's: each value must still land in its own column.
    columns = ("text", "position", "article_id", "norm_hash", "kind", "signature", "similarity")
    rows = [
        ("First paragraph.", 0, article_id, "a" * 40, "body", b"\x00\x01", None),
        ("A caption.", 1, article_id, "b" * 40, "caption", None, 0.5),
    ]
    with app.sessions.begin() as session:
        direct.insert_rows(session, PARAGRAPHS, columns, rows)
        direct.insert_rows(session, PARAGRAPHS, columns, [])  # nothing to write: no statement
    query = text(
        "SELECT position, kind, text, norm_hash, signature, similarity FROM article_paragraphs"
        " WHERE article_id = :article AND position >= :first ORDER BY position"
    )
    with app.sessions.begin() as session:
        fetched = direct.fetch(session, query, {"article": article_id, "first": 0})
        through_sqlalchemy = [tuple(row) for row in session.execute(query, {"article": article_id, "first": 0})]
    assert [(p, k, t, h, bytes(s) if s is not None else None, sim) for p, k, t, h, s, sim in fetched] == [
        (0, "body", "First paragraph.", "a" * 40, b"\x00\x01", None),
        (1, "caption", "A caption.", "b" * 40, None, 0.5),
    ]
    assert [tuple(row) for row in fetched] == through_sqlalchemy


def test_rows_roll_back_with_the_session(app: App) -> None:
    article_id = _article(app)
    columns = ("article_id", "position", "kind", "text", "norm_hash")
    try:
        with app.sessions.begin() as session:
            direct.insert_rows(session, PARAGRAPHS, columns, [(article_id, 0, "body", "Kept?", "c" * 40)])
            raise RuntimeError("abandon the transaction")
    except RuntimeError:
        pass
    with app.sessions.begin() as session:
        count = session.execute(
            text("SELECT COUNT(*) FROM article_paragraphs WHERE article_id = :a"), {"a": article_id}
        ).scalar_one()
    assert count == 0
