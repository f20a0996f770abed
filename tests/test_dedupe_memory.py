"""What the deduper keeps in memory: the filter of stored block hashes (memory index), whose
lookups are skipped only for hashes no stored block holds, whether stored before the process
started or by it; and stored bodies, which must follow every change of an article's blocks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy.orm import Session

from benchmarks.corpus_bodies import Corpus
from dedupe import norm_hash
from ingest.app import App
from ingest.index_backends import PARAGRAPH, KnownHashes, MemoryIndex
from store import dedupe_repo
from store import repository as repo
from tests.conftest import edit_words, ingest_paragraphs, make_app


def test_held_hashes_survive_merges(corpus: Path) -> None:
    paragraphs = [p for story in Corpus(corpus).stories() for p in story.paragraphs]
    hashes = sorted({norm_hash(p) for p in paragraphs})
    known = KnownHashes(min_recent=64)
    assert len(hashes) > 20 * known.min_recent
    known.load(hashes[:100])
    half = len(hashes) // 2
    for start in range(100, half, 37):  # past several merges of recent keys
        known.add(hashes[start : min(start + 37, half)])
    stored = hashes[:half]
    assert known.held(hashes) == set(stored)
    assert len(known) == len(stored)


def links(session: Session, article_id: int) -> list[tuple[str | None, int | None]]:
    return [(p.duplicate_tier, p.duplicate_of_article_id) for p in repo.paragraphs_of(session, article_id)]


def test_exact_copies_found_before_and_after_a_restart(sqlite_url: str, corpus: Path) -> None:
    first, second, third = [s for s in Corpus(corpus).by_language("en") if len(s.paragraphs) >= 4][:3]
    app = make_app(sqlite_url)
    try:
        original = ingest_paragraphs(app, first.paragraphs, "a")
        copy = ingest_paragraphs(app, [*second.paragraphs[:3], first.paragraphs[1]], "b")  # stored by this process
    finally:
        app.close()
    restarted = make_app(sqlite_url)
    try:
        later = ingest_paragraphs(restarted, [*third.paragraphs[:3], second.paragraphs[2]], "c")  # stored before it
        assert restarted.deduper.known is not None
        with restarted.sessions.begin() as session:
            linked = {
                article_id: links(session, article_id)
                for article_id in (copy, later)
            }
    finally:
        restarted.close()
    assert linked[copy][3] == ("exact", original)
    assert linked[later][3] == ("exact", copy)
    assert all(tier is None for tier, _ in linked[later][:3])


class Rollback(Exception):
    pass


def test_stored_bodies_follow_changes_and_rollbacks(sqlite_url: str, corpus: Path) -> None:
    story = next(s for s in Corpus(corpus).by_language("en") if len(s.paragraphs) >= 6)
    app = make_app(sqlite_url)
    try:
        article_id = ingest_paragraphs(app, story.paragraphs, "a")
        deduper = app.deduper

        def body(session: Session) -> list[str]:
            stamps = dedupe_repo.article_stamps(session, [article_id])
            return list(deduper.stored_bodies(session, stamps)[article_id].body)

        def remove(session: Session, position: int) -> None:
            [paragraph] = [p for p in repo.paragraphs_of(session, article_id) if p.position == position]
            dedupe_repo.remove_blocks(session, [paragraph], "template", "test", "template")

        with app.sessions.begin() as session:
            assert body(session) == story.paragraphs
        with pytest.raises(Rollback), app.sessions.begin() as session:
            remove(session, 1)
            assert body(session) == [story.paragraphs[0], *story.paragraphs[2:]]
            raise Rollback
        with app.sessions.begin() as session:
            assert body(session) == story.paragraphs
            remove(session, 2)  # the same version number as the rolled-back change
            assert body(session) == [*story.paragraphs[:2], *story.paragraphs[3:]]
    finally:
        app.close()


def _signatures(app: App, texts: list[str]) -> npt.NDArray[np.uint32]:
    return app.signer.signatures(texts)


def test_staged_entries_are_found_until_rolled_back_and_join_at_commit(sqlite_app: App, corpus: Path) -> None:
    paragraphs = [p for story in Corpus(corpus).stories() for p in story.paragraphs if len(p.split()) > 20][:60]
    older, newer = paragraphs[:40], paragraphs[40:]
    # Queries: every block itself (an exact hit in whichever index holds it) and an edited copy.
    queries = _signatures(sqlite_app, [*paragraphs, *(edit_words(p, 3, seed=i) for i, p in enumerate(paragraphs))])
    params = sqlite_app.deduper.config.paragraph_lsh, sqlite_app.deduper.config.document_lsh

    def index_with(*groups: tuple[list[str], int, str]) -> MemoryIndex:
        index = MemoryIndex(*params)
        for texts, first_ref, then in groups:
            refs = list(range(first_ref, first_ref + len(texts)))
            index.add(None, PARAGRAPH, _signatures(sqlite_app, texts), refs, 1)  # type: ignore[arg-type]
            getattr(index, then)()
        return index

    def found(index: MemoryIndex) -> list[tuple[int, int, float]]:
        hits = index.candidates(None, PARAGRAPH, queries, 0, 0.0)  # type: ignore[arg-type]
        return list(zip(hits.query.tolist(), hits.ref.tolist(), hits.estimate.tolist(), strict=True))

    one_index = found(index_with((older, 0, "committed"), (newer, 40, "committed")))
    staged = index_with((older, 0, "committed"), (newer, 40, "stage"))
    assert found(staged) == one_index  # the same hits, in the same order, as one index holding both
    assert {ref for _, ref, _ in found(staged)} >= set(range(40, 60))
    staged.rolled_back()
    assert found(staged) == found(index_with((older, 0, "committed")))
    staged = index_with((older, 0, "committed"), (newer, 40, "stage"))
    staged.committed()
    assert found(staged) == one_index and len(staged.paragraphs) == 60
