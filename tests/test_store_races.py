"""Rows that several workers create at the same moment: every writer succeeds, one row results."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from ingest.app import App
from store import repository as repo
from store.models import RawDocument, Source


def test_racing_writers_of_one_raw_document_and_source(app: App) -> None:
    body = b"<rss><channel><item><title>same wire story</title></item></channel></rss>"
    barrier = threading.Barrier(6)
    ids: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def writer() -> None:
        barrier.wait()
        try:
            with app.sessions.begin() as session:
                source = repo.get_or_create_source(session, "wire")
                raw_id = repo.store_raw_document(session, "1abc", body, url=None, media_type=None, format="feed")
                ids.append((source.id, raw_id))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 1 and len(ids) == 6
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RawDocument)) == 1
        assert session.scalar(select(func.count()).select_from(Source)) == 1
        stored = session.scalars(select(RawDocument)).one()
        assert repo.raw_document_bytes(stored) == body
