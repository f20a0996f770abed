"""The shared index (``index_backend = "sql"``) against the real database servers.

Two workers, each with its own application and connection pool, ingest copies of one story at
the same moment: exactly one of them must become the canonical article and the other must link
to it, paragraph by paragraph, whichever commits first.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from benchmarks.corpus_bodies import Corpus
from config import load_settings
from ingest import migrations
from ingest.app import App
from ingest.corpus_dedupe import IndexStateError
from ingest.documents import BlockKind, ParsedBlock, ParsedDocument
from ingest.pipeline import Input, Pipeline
from store import dedupe_repo
from store import repository as repo

TRIALS = 4


def worker_app(url: str) -> App:
    return App(load_settings(environ={"NEWSDEDUP_DEDUPE__INDEX_BACKEND": "sql"}, database_url=url))


def document(paragraphs: list[str], key: str, title: str) -> ParsedDocument:
    return ParsedDocument(
        blocks=[ParsedBlock(BlockKind.BODY, p) for p in paragraphs], entry_key=key, title=title, url=f"https://x/{key}"
    )


def ingest_alone(app: App, paragraphs: list[str], key: str, title: str, source: str) -> int | None:
    """One document through the pipeline, no other worker about; its article's id."""
    pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
    result = pipeline.ingest(
        Input(body=key.encode(), source=source, location="test"), documents=[document(paragraphs, key, title)]
    )
    return result.articles[0].article_id


def ingest(
    app: App,
    parsed: ParsedDocument,
    source: str,
    barrier: threading.Barrier,
    ids: list[int],
    errors: list[BaseException],
) -> None:
    """One worker: its own pipeline, released at the same moment as the other."""
    try:
        pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
        app.deduper.ensure_ready()
        barrier.wait(timeout=30)
        result = pipeline.ingest(
            Input(body=parsed.entry_key.encode(), source=source, location="test"), documents=[parsed]
        )
        assert result.articles[0].article_id is not None, result.articles[0].error
        ids.append(result.articles[0].article_id)
    except BaseException as exc:  # reported by the test, with the other worker's outcome
        errors.append(exc)


def test_two_workers_ingesting_one_story_at_once(database_url: str, corpus: Path) -> None:
    stories = [s for s in Corpus(corpus).stories() if s.language == "id" and len(s.paragraphs) >= 5][:TRIALS]
    setup = worker_app(database_url)
    migrations.upgrade(setup.engine)
    setup.close()
    apps = [worker_app(database_url) for _ in range(2)]
    try:
        for trial, story in enumerate(stories):
            barrier = threading.Barrier(2)
            ids: list[int] = []
            errors: list[BaseException] = []
            parsed = [document(story.paragraphs, f"copy-{trial}-{n}", "Copy") for n in range(2)]
            threads = [
                threading.Thread(target=ingest, args=(apps[n], parsed[n], f"worker-{n}", barrier, ids, errors))
                for n in range(2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            assert not errors, errors
            first, second = sorted(ids)
            with apps[0].sessions() as session:
                assert repo.get_article(session, first).canonical_id == first
                assert repo.get_article(session, second).canonical_id == first, f"trial {trial}: not merged"
                unlinked = [p.text for p in repo.paragraphs_of(session, second) if p.duplicate_of_article_id != first]
                assert unlinked == []
                assert dedupe_repo.count_bands(session) > 0
    finally:
        for app in apps:
            app.close()


@pytest.mark.postgres
def test_band_rows_follow_their_article(database_url: str, corpus: Path) -> None:
    """Band rows commit with their article and go with it (no orphan index entries)."""
    story = Corpus(corpus).by_language("id")[0]
    app = worker_app(database_url)
    migrations.upgrade(app.engine)
    try:
        article_id = ingest_alone(app, story.paragraphs, "one", story.title, "s")
        assert article_id is not None
        with app.sessions.begin() as session:
            rows = dedupe_repo.count_bands(session)
            assert rows == (len(story.paragraphs) + 1) * app.deduper.config.paragraph_lsh.bands or rows > 0
            session.delete(repo.get_article(session, article_id))
        with app.sessions() as session:
            assert dedupe_repo.count_bands(session) == 0
    finally:
        app.close()


def test_band_rows_of_other_lsh_parameters_are_refused_then_rebuilt(database_url: str, corpus: Path) -> None:
    """A shared index written with other bands (as before the whole-body index went to 17x2) is
    refused at start with the command that mends it, and that command rewrites the rows."""
    story = Corpus(corpus).by_language("id")[0]
    app = worker_app(database_url)
    migrations.upgrade(app.engine)
    try:
        first = ingest_alone(app, story.paragraphs, "one", story.title, "s")
        with app.sessions.begin() as session:
            repo.put_state(session, {"lsh.document": "35x3"})
    finally:
        app.close()
    restarted = worker_app(database_url)
    try:
        with pytest.raises(IndexStateError, match=r"lsh\.document: stored '35x3'.*newsdedup index rebuild"):
            restarted.deduper.ensure_ready()
        report = restarted.deduper.rebuild()
        assert report.blocks == len(story.paragraphs)
        with restarted.sessions() as session:
            assert repo.get_state(session)["lsh.document"] == restarted.deduper.config.state()["lsh.document"] != "35x3"
        restarted.deduper.ensure_ready()
        # The rebuilt rows find the story again.
        again = ingest_alone(restarted, story.paragraphs, "two", story.title, "t")
        with restarted.sessions() as session:
            assert repo.get_article(session, again).canonical_id == first
    finally:
        restarted.close()
