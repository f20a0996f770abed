"""The stored-block lookups behind the exact and near tiers return what their plain definitions
do, on a store holding exact copies, a long line every article of a source carries, a near copy
whose own exact copies point at it, and a deleted article."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from benchmarks.corpus_bodies import Corpus
from ingest.app import App
from ingest.pipeline import Input, Pipeline
from store import dedupe_repo
from store.models import Article, ArticleParagraph, utcnow
from tests.conftest import edit_words


def ingest(pipeline: Pipeline, key: str, title: str, blocks: list[str], source: str) -> int:
    body = "\n\n".join([title, *blocks]) + "\n"
    result = pipeline.ingest(
        Input(body=body.encode(), source=source, location=key, entry_key=key, format="text")
    )
    assert result.error is None, result.error
    [article] = result.articles
    assert article.article_id is not None
    return article.article_id


@pytest.fixture
def store(app: App, corpus: Path) -> list[int]:
    """Articles whose blocks repeat in every way the exact tier distinguishes."""
    stories = Corpus(corpus).by_language("en")
    pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
    # Long enough never to be a template line: every article of the source keeps a copy.
    sign_off = " ".join(stories[0].paragraphs[0].split()[:40])
    ids = []
    for i, story in enumerate(stories[1:9]):
        ids.append(ingest(pipeline, f"s{i}", story.title, [*story.paragraphs[:5], sign_off], "wire"))
    # The same stories again elsewhere: exact copies of every block.
    for i, story in enumerate(stories[1:4]):
        ids.append(ingest(pipeline, f"c{i}", story.title, story.paragraphs[:5], "copies"))
    # A near copy of a paragraph, then exact copies of that near copy.
    paragraph = next(p for p in stories[9].paragraphs if len(p.split()) >= 25)
    edited = edit_words(paragraph, 2, seed=3)
    ids.append(ingest(pipeline, "n0", stories[10].title, [*stories[10].paragraphs[:3], edited], "near"))
    ids.append(ingest(pipeline, "n1", stories[9].title, stories[9].paragraphs[:6], "near"))
    ids.append(ingest(pipeline, "n2", stories[11].title, [*stories[11].paragraphs[:3], edited], "near"))
    ids.append(ingest(pipeline, "n3", stories[12].title, [edited, *stories[12].paragraphs[:3]], "other"))
    with app.sessions.begin() as session:
        # An original whose article is deleted (its rows kept, to exercise the live-article test).
        session.execute(update(Article).where(Article.id == ids[0]).values(deleted_at=utcnow()))
        # Several non-exact blocks per hash, as an article's own earlier copy or a relink leaves
        # them: copies of the second wire story and every other sign-off line lose their tier.
        session.execute(
            update(ArticleParagraph)
            .where(ArticleParagraph.article_id.in_([ids[9], ids[3], ids[5], ids[7]]))
            .values(duplicate_tier=None)
        )
    return ids


def first_non_exact(session: Session, exclude: int | None) -> dict[str, tuple[int, int]]:
    """The definition: every live block in (article, position) order, the first non-exact one per hash."""
    rows = session.execute(
        select(
            ArticleParagraph.norm_hash,
            ArticleParagraph.article_id,
            ArticleParagraph.position,
            ArticleParagraph.duplicate_tier,
        )
        .join(Article, Article.id == ArticleParagraph.article_id)
        .where(Article.deleted_at.is_(None))
        .order_by(ArticleParagraph.article_id, ArticleParagraph.position)
    ).all()
    found: dict[str, tuple[int, int]] = {}
    for norm_hash, article_id, position, tier in rows:
        if tier != "exact" and article_id != exclude:
            found.setdefault(norm_hash, (article_id, position))
    return found


def test_earliest_by_hash_is_the_first_live_non_exact_block(app: App, store: list[int]) -> None:
    with app.sessions() as session:
        paragraphs = session.execute(
            select(ArticleParagraph.norm_hash, ArticleParagraph.duplicate_tier, ArticleParagraph.text)
        ).all()
        hashes = [*sorted({h for h, _, _ in paragraphs}), "#not-stored"]
        tiers = {tier for _, tier, _ in paragraphs}
        assert {"exact", "near", None} <= tiers  # the store holds every case
        for exclude in (None, store[0], store[1], store[2], store[-3], store[-1]):
            expected = first_non_exact(session, exclude)
            # More hashes than one statement takes, in an order unlike their places.
            found = dedupe_repo.earliest_by_hash(session, reversed(hashes), exclude)
            assert {h: (b.article_id, b.position) for h, b in found.items()} == expected
            for norm_hash, block in found.items():
                assert block.norm_hash == norm_hash and block.duplicate_tier != "exact"
                assert isinstance(block.signature, bytes) and block.text
        assert len(hashes) > 50  # more than one statement's worth
        assert dedupe_repo.earliest_by_hash(session, []) == {}


def test_blocks_at_reads_exactly_the_live_places(app: App, store: list[int]) -> None:
    with app.sessions() as session:
        rows = session.execute(
            select(ArticleParagraph.article_id, ArticleParagraph.position, ArticleParagraph.text, Article.deleted_at)
            .join(Article, Article.id == ArticleParagraph.article_id)
        ).all()
        live = {(a, p): text for a, p, text, deleted in rows if deleted is None}
        # Every place, the deleted article's among them, and places nothing holds: more than one
        # statement's worth, spread over many articles and positions.
        places = [(a, p) for a, p, _, _ in rows] + [(store[1], 999), (10**9, 0)]
        assert len(places) > 70 and (store[0], 0) in places
        found = dedupe_repo.blocks_at(session, reversed(places))
        assert {place: block.text for place, block in found.items()} == {p: live[p] for p in places if p in live}
        assert (store[0], 0) not in found
        for (article_id, position), block in found.items():
            assert (block.article_id, block.position) == (article_id, position)
        assert dedupe_repo.blocks_at(session, []) == {}


def test_article_texts_are_the_kinds_and_texts_of_article_blocks(app: App, store: list[int]) -> None:
    with app.sessions() as session:
        texts = dedupe_repo.article_texts(session, [*store, 10**9])
        blocks = dedupe_repo.article_blocks(session, store)
    assert store[0] not in texts  # deleted
    assert texts == {a: [(b.kind, b.text) for b in found] for a, found in blocks.items()}
    assert len(texts) == len(store) - 1
