"""The dedupe window (``dedupe.window_days``): a near copy links to a paragraph stored within the
window and not to one stored before it, whichever index holds the band entries (in process or
in SQL) and on both databases; either index lets go of what the window has passed. An exact copy
is found by its hash in the store, window or not."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from benchmarks.corpus_bodies import Corpus
from config import load_settings
from ingest import corpus_dedupe, migrations
from ingest.app import App
from ingest.index_backends import MemoryIndex
from store import repository as repo
from store.models import LshBand
from tests.conftest import edit_words, ingest_paragraphs

WINDOW_DAYS = 30


class Clock:
    """The deduper's "now", moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["memory", "sql"])
def windowed(request: pytest.FixtureRequest, database_url: str) -> tuple[App, Clock]:
    environ = {"NEWSDEDUP_DEDUPE__INDEX_BACKEND": request.param, "NEWSDEDUP_DEDUPE__WINDOW_DAYS": str(WINDOW_DAYS)}
    app = App(load_settings(environ=environ, database_url=database_url))
    migrations.upgrade(app.engine)
    clock = Clock()
    app.deduper.clock = clock
    request.addfinalizer(app.close)
    return app, clock


def links(app: App, article_id: int) -> list[tuple[str | None, int | None]]:
    with app.sessions.begin() as session:
        return [(p.duplicate_tier, p.duplicate_of_article_id) for p in repo.paragraphs_of(session, article_id)]


def band_rows(app: App, article_id: int) -> int:
    with app.sessions.begin() as session:
        return int(session.scalar(select(func.count()).where(LshBand.article_id == article_id)) or 0)


def test_near_copies_link_within_the_window_only(
    windowed: tuple[App, Clock], corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, clock = windowed
    monkeypatch.setattr(corpus_dedupe, "BAND_PRUNE_BATCH", 7)  # old band rows go in several batches
    stories = [s for s in Corpus(corpus).by_language("en") if len(s.paragraphs) >= 4][:4]
    wire = [p for p in stories[0].paragraphs if len(p.split()) >= 25][:2]
    assert len(wire) == 2, "the corpus story should hold two long paragraphs"
    original = ingest_paragraphs(app, wire, "wire")
    memory = app.deduper.backend if isinstance(app.deduper.backend, MemoryIndex) else None

    clock.now += timedelta(days=WINDOW_DAYS - 1)
    inside = ingest_paragraphs(app, [*stories[1].paragraphs[:2], edit_words(wire[0], 2, seed=1)], "inside")
    held = len(memory.paragraphs) if memory is not None else 0
    clock.now += timedelta(days=2)  # the wire story is now older than the window
    outside = ingest_paragraphs(app, [*stories[2].paragraphs[:2], edit_words(wire[1], 2, seed=2)], "outside")
    if memory is not None:
        # The first day to pass the window took the original's two blocks out of the in-process
        # index; the three new ones went in.
        assert len(memory.paragraphs) == held - 2 + 3
    else:
        # The shared index deleted the original's band rows; the later articles' stay.
        assert band_rows(app, original) == 0
        assert band_rows(app, inside) > 0
    exact = ingest_paragraphs(app, [*stories[3].paragraphs[:2], wire[1]], "exact")

    assert links(app, inside)[2] == ("near", original)
    assert links(app, outside)[2] == (None, None)
    assert links(app, exact)[2] == ("exact", original)


def test_a_failed_deletion_of_old_band_rows_is_logged_and_the_article_still_stored(
    database_url: str, corpus: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    environ = {"NEWSDEDUP_DEDUPE__INDEX_BACKEND": "sql"}
    app = App(load_settings(environ=environ, database_url=database_url))
    migrations.upgrade(app.engine)
    clock = Clock()
    app.deduper.clock = clock
    stories = [s for s in Corpus(corpus).by_language("en") if len(s.paragraphs) >= 3][:2]
    try:
        original = ingest_paragraphs(app, stories[0].paragraphs, "old")

        def locked(*_: object) -> int:
            raise OperationalError("DELETE FROM lsh_bands", {}, Exception("database is locked"))

        monkeypatch.setattr(corpus_dedupe.dedupe_repo, "delete_bands_before", locked)
        clock.now += timedelta(days=WINDOW_DAYS + 1)
        with caplog.at_level(logging.WARNING, logger="ingest.corpus_dedupe"):
            later = ingest_paragraphs(app, stories[1].paragraphs, "new")
        assert later != original
        assert band_rows(app, original) > 0  # left for the next day
        assert any("band rows before day" in r.getMessage() and "database is locked" in r.getMessage()
                   for r in caplog.records)
    finally:
        app.close()
