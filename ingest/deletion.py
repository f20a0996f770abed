"""Deleting an article on an operator's request: a tombstone, and a consistent cluster after it.

The row stays (``deleted_at`` set, blocks gone) so the entry is never resurrected by the next
fetch; a ``deleted`` event goes to the change log. Articles merged into the deleted one get the
oldest remaining member as their canonical article, in the same transaction, and the cluster's
text is chosen again among the members left (``CorpusDeduper.refresh_text``). Articles whose
paragraphs were linked to the deleted one are then re-processed from their raw documents, so
their links point at a live copy again (or they become the original).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from ingest.pipeline import Pipeline
from ingest.reingest import Reingester, ReingestOutcome
from store import NotFoundError, admin
from store import repository as repo


@dataclass
class DeleteOutcome:
    article_id: int
    title: str | None
    already_deleted: bool = False
    new_canonical: int | None = None
    moved: list[int] = field(default_factory=list)
    relinked: list[ReingestOutcome] = field(default_factory=list)


def delete_article(pipeline: Pipeline, read_sessions: sessionmaker[Session], article_id: int) -> DeleteOutcome:
    deduper = pipeline.deduper
    pipeline.ready()
    committed = False
    try:
        with pipeline.sessions.begin() as session:
            article = admin.lock_article(session, article_id)
            if article is None:
                raise NotFoundError("article", article_id)
            outcome = DeleteOutcome(article_id, article.title)
            if article.deleted_at is not None:
                outcome.already_deleted = True
                return outcome
            story = article.canonical_id if article.canonical_id is not None else article.id
            members = admin.cluster_members(session, article.id)
            article.text_from_id = None  # a tombstone carries no text, not even a member's
            repo.tombstone_article(session, article)
            deduper.backend.forget_article(session, article.id)
            if members:
                story = outcome.new_canonical = members[0]
                for member_id in members:
                    repo.set_canonical(session, repo.get_article(session, member_id), members[0])
                outcome.moved = members
            if story != article.id:
                # The cluster's text may have been the deleted article's: choose again among the rest.
                deduper.refresh_text(session, story)
            dependents = admin.articles_linking_to(session, article.id)
        committed = True
    finally:
        pipeline.finished(committed)
    reingester = Reingester(pipeline, read_sessions)
    outcome.relinked = [reingester.run_one(dependent) for dependent in dependents]
    return outcome


__all__ = ["DeleteOutcome", "delete_article"]
