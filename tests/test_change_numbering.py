"""Change-log numbers taken at commit (``defer_changes``) keep the log's contract: gap-free, in
order, nothing of a rolled-back savepoint, and the same numbers a transaction without it takes."""

from __future__ import annotations

from sqlalchemy import select

from ingest.app import App
from store import NewArticle, NewParagraph
from store import repository as repo
from store.models import Article, ArticleChange, ChangeCounter


def _record(source_id: int, key: str) -> NewArticle:
    paragraph = NewParagraph(position=0, kind="body", text=f"text of {key}", norm_hash=key.ljust(40, "0"))
    return NewArticle(source_id=source_id, entry_key=key, content_hash=key, paragraphs=[paragraph])


def test_deferred_events_are_numbered_at_commit_without_gaps(app: App) -> None:
    with app.sessions.begin() as session:
        source = repo.source_id(session, "wire")
        repo.create_article(session, _record(source, "first"))  # numbered at once: seq 1
    with app.sessions.begin() as session:
        repo.defer_changes(session)
        kept = repo.create_article(session, _record(source, "kept"))
        assert session.scalar(select(ChangeCounter.value)) == 1  # nothing reserved before the commit
        try:
            with session.begin_nested():
                repo.create_article(session, _record(source, "dropped"))
                raise RuntimeError("entry failed")
        except RuntimeError:
            pass
        # On SQLite the next article takes the rolled-back row's id: its object must have left the session.
        repo.create_article(session, _record(source, "again"))
        repo.set_canonical(session, kept, kept.id - 1)
    with app.sessions.begin() as session:
        repo.create_article(session, _record(source, "last"))  # not deferred: the next number
        log = [
            (seq, key, change)
            for seq, key, change in session.execute(
                select(ArticleChange.seq, Article.entry_key, ArticleChange.change)
                .join(Article, Article.id == ArticleChange.article_id)
                .order_by(ArticleChange.seq)
            )
        ]
        counter = session.scalar(select(ChangeCounter.value))
        keys = set(session.scalars(select(Article.entry_key)))
    assert log == [
        (1, "first", "created"),
        (2, "kept", "created"),
        (3, "again", "created"),
        (4, "kept", "merged"),
        (5, "last", "created"),
    ]
    assert counter == 5 and keys == {"first", "kept", "again", "last"}
