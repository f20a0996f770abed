"""Every real page and feed in the corpus ingests without a crash: articles, or a recorded error."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ingest.app import App
from ingest.pipeline import Input, Pipeline
from store.models import Article, Fetch


def corpus_inputs(corpus: Path) -> list[Path]:
    pages = sorted(p for p in (corpus / "pages").glob("*.html") if ".expected" not in p.name)
    feeds = sorted(
        p
        for folder in (corpus / "feeds", corpus / "feeds" / "edge")
        for p in folder.iterdir()
        if p.is_file() and not p.name.endswith(".json")
    )
    return pages + feeds


def test_every_corpus_file_ingests_or_records_a_clear_error(app: App, corpus: Path) -> None:
    paths = corpus_inputs(corpus)
    assert len(paths) >= 146 + 43 - 8  # the README's counts, less the expected-output JSON files
    pipeline = Pipeline(app.sessions, app.cleaner, app.signer)
    failures: dict[str, str] = {}
    empty: list[str] = []
    produced = 0
    for path in paths:
        result = pipeline.ingest(Input(body=path.read_bytes(), source="corpus", location=str(path),
                                       entry_key=path.resolve().as_uri()))
        assert result.fetch_id is not None, path
        ok = [a for a in result.articles if a.status in ("created", "updated", "unchanged")]
        produced += len(ok)
        if not ok:
            if result.error is None:
                # A well-formed feed with no items is not an error, but it says so.
                assert result.warnings == [f"{path}: feed has no entries"], path
                empty.append(path.name)
                continue
            failures[path.name] = result.error
    # Errors name the file they are about, in one line.
    for name, error in failures.items():
        assert name in error, error
        assert "\n" not in error
    # Nearly everything is real news that must come out as articles.
    # The rest are feedparser's synthetic edge cases with no readable item, and one page with no text.
    assert len(failures) + len(empty) <= 10, (failures, empty)
    assert produced > 1000
    with app.sessions() as session:
        fetches = session.scalars(select(Fetch)).all()
        assert len(fetches) == len(paths)
        assert {f.outcome for f in fetches} <= {"ok", "error"}
        errors = [f for f in fetches if f.outcome == "error"]
        assert len(errors) == len(failures)
        assert all(f.error for f in errors)
        # No article without text: nothing half-written.
        for article in session.scalars(select(Article)):
            assert article.title or article.content_hash
