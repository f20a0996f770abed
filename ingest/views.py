"""The JSON shape of an article, shared by ``articles show --json`` and ``export``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from store import repository as repo
from store.models import Article


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def article_json(session: Session, article: Article) -> dict[str, Any]:
    source = repo.get_source(session, article.source_id)
    paragraphs = repo.paragraphs_of(session, article.id)
    removals = repo.removals_of(session, article.id)

    def duplicate_of(article_id: int | None, position: int | None) -> dict[str, int] | None:
        if article_id is None or position is None:
            return None
        return {"article_id": article_id, "position": position}

    return {
        "id": article.id,
        "canonical_id": article.canonical_id if article.canonical_id is not None else article.id,
        "source": source.name,
        "url": article.url,
        "title": article.title,
        "published_at": _iso(article.published_at),
        "updated_at": _iso(article.source_updated_at),
        "byline": article.byline,
        "language": article.language,
        "body": [p.text for p in paragraphs if p.kind == "body"],
        "captions": [p.text for p in paragraphs if p.kind == "caption"],
        "credit": article.credit,
        "agencies": list(article.agencies or []),
        "removed": [
            {
                "text": r.text,
                "reason": r.reason,
                "detail": r.detail,
                "duplicate_of": duplicate_of(r.duplicate_of_article_id, r.duplicate_of_position),
            }
            for r in removals
        ],
        "paragraphs": [
            {
                "position": p.position,
                "text": p.text,
                "kind": p.kind,
                "photo_credit": p.photo_credit,
                "duplicate_of": duplicate_of(p.duplicate_of_article_id, p.duplicate_of_position),
                "duplicate_tier": p.duplicate_tier,
                "similarity": p.similarity,
            }
            for p in paragraphs
        ],
        "version": article.version,
        "deleted": article.deleted_at is not None,
        "created_at": _iso(article.created_at),
        "modified_at": _iso(article.modified_at),
    }
