"""Feed entries saved several to a transaction: each entry is still all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from benchmarks.workload import Workload
from ingest import pipeline as pipeline_module
from ingest.app import App
from ingest.index_backends import MemoryIndex
from ingest.pipeline import Input, Pipeline
from store.models import Article, ArticleChange, ArticleParagraph, ChangeCounter


def _feed(corpus: Path, entries: int) -> Input:
    item = next(Workload(corpus).feed_items(entries, per_feed=entries))
    return Input(body=item.body, source=item.source, location=item.url, url=item.url, format="feed")


def test_a_failing_entry_rolls_back_alone(sqlite_app: App, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert pipeline_module.ENTRIES_PER_TRANSACTION < 60  # the feed spans several transactions
    pipeline = Pipeline(sqlite_app.sessions, sqlite_app.cleaner, sqlite_app.signer, deduper=sqlite_app.deduper)
    assert sqlite_app.deduper.batches_writes
    save = pipeline._save
    failing = "id:wire-0-7"

    def failing_save(session: Any, clean: Any, *args: Any, **kwargs: Any) -> Any:
        outcome = save(session, clean, *args, **kwargs)  # written, then the entry fails
        if clean.document.entry_key == failing:
            raise RuntimeError("disk on fire")
        return outcome

    monkeypatch.setattr(pipeline, "_save", failing_save)
    result = pipeline.ingest(_feed(corpus, 60))
    errors = [a for a in result.articles if a.status == "error"]
    assert [a.entry_key for a in errors] == [failing] and "disk on fire" in (errors[0].error or "")
    assert result.created == 59
    with sqlite_app.sessions() as session:
        articles = session.scalars(select(Article)).all()
        keys = {a.entry_key for a in articles}
        changes = {(c.article_id, c.change) for c in session.scalars(select(ArticleChange))}
        paragraph_owners = set(session.scalars(select(ArticleParagraph.article_id)))
    assert len(articles) == 59 and failing not in keys
    assert all((a.id, "created") in changes for a in articles)  # every stored article with its event
    assert paragraph_owners <= {a.id for a in articles}  # nothing of the failed entry left behind
    with sqlite_app.sessions() as session:
        seqs = list(session.scalars(select(ArticleChange.seq).order_by(ArticleChange.seq)))
        counter = session.scalar(select(ChangeCounter.value))
    # The failed entry's events went with its savepoint: numbers stay 1..N with the counter at N.
    assert seqs == list(range(1, len(seqs) + 1)) and counter == len(seqs)
    # The batch was first tried whole and rolled back: the index holds no entry of that attempt,
    # exactly what a rebuild from the stored signatures holds.
    index = sqlite_app.deduper.backend
    assert isinstance(index, MemoryIndex)
    held = (len(index.paragraphs), len(index.documents))
    sqlite_app.deduper.rebuild()
    assert held == (len(index.paragraphs), len(index.documents)) and held[1] == 59


def test_entries_of_one_batch_dedupe_against_each_other(sqlite_app: App, corpus: Path) -> None:
    pipeline = Pipeline(sqlite_app.sessions, sqlite_app.cleaner, sqlite_app.signer, deduper=sqlite_app.deduper)
    single = _feed(corpus, 20)
    # The first entry again at the end, edited: a word changed all through, so its blocks are near
    # copies that only the index finds (exact copies would be found in SQL).
    first_item = single.body[single.body.index(b"<item>") : single.body.index(b"</item>") + len(b"</item>")]
    edited = first_item.replace(b"wire-0-0<", b"wire-0-copy<").replace(b"story/0<", b"story/copy<")
    edited = edited.replace(b" the ", b" that ")
    assert edited.count(b" that ") > first_item.count(b" that ") + 5
    body = single.body.replace(b"</channel>", edited + b"</channel>")
    result = pipeline.ingest(Input(body=body, source=single.source, location=single.location, format="feed"))
    assert result.created == 21
    with sqlite_app.sessions() as session:
        copy = session.scalars(select(Article).where(Article.entry_key == "id:wire-0-copy")).one()
        first = session.scalars(select(Article).where(Article.entry_key == "id:wire-0-0")).one()
        links = session.execute(
            select(ArticleParagraph.duplicate_of_article_id, ArticleParagraph.duplicate_tier).where(
                ArticleParagraph.article_id == copy.id
            )
        ).all()
    assert copy.canonical_id == first.id  # the copy found the earlier entry of its own transaction
    assert (first.id, "near") in {(a, t) for a, t in links}
