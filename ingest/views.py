"""The JSON shape of an article, shared by ``articles show --json`` and ``export``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from store import dedupe_repo
from store import repository as repo
from store.models import Article


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def canonical_json(session: Session, article: Article) -> dict[str, Any]:
    """The article's story cluster: its canonical article, members, and every source and URL."""
    canonical_id = article.canonical_id if article.canonical_id is not None else article.id
    members = dedupe_repo.story_members(session, canonical_id)
    canonical = next((m for m in members if m.id == canonical_id), None)
    sources: list[str] = []
    urls: list[str] = []
    for member in members:
        name = repo.get_source(session, member.source_id).name
        if name not in sources:
            sources.append(name)
        if member.url and member.url not in urls:
            urls.append(member.url)
    return {
        "id": canonical_id,
        "text_from": (canonical.text_from_id or canonical.id) if canonical is not None else canonical_id,
        "members": [m.id for m in members],
        "sources": sources,
        "urls": urls,
    }


def article_json(session: Session, article: Article) -> dict[str, Any]:
    source = repo.get_source(session, article.source_id)
    # A canonical article carries its cluster's most complete and most recent text.
    text_from = article.text_from_id if article.canonical_id in (None, article.id) else None
    text_article = session.get(Article, text_from) if text_from is not None else None
    shown = text_article if text_article is not None and text_article.deleted_at is None else article
    paragraphs = repo.paragraphs_of(session, shown.id)
    removals = repo.removals_of(session, article.id)
    cluster = canonical_json(session, article)
    stories = dedupe_repo.canonical_ids(
        session, {p.duplicate_of_article_id for p in paragraphs if p.duplicate_of_article_id is not None}
    )

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
        # Credits of the shown text's photos that have no caption (a caption's credit is on its paragraph).
        "photo_credits": list((shown.extra or {}).get("photo_credits") or []),
        "removed": [
            {
                "text": r.text,
                "reason": r.reason,
                "detail": r.detail,
                "duplicate_of": duplicate_of(r.duplicate_of_article_id, r.duplicate_of_position),
                "duplicate_tier": r.duplicate_tier,
                "similarity": r.similarity,
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
                "estimated": p.estimated,
                # A caption first printed under another story: a reused (stock) photo.
                "reused": p.kind == "caption"
                and p.duplicate_of_article_id is not None
                and stories.get(p.duplicate_of_article_id) != cluster["id"],
            }
            for p in paragraphs
        ],
        "text_from": shown.id,
        "canonical": cluster,
        "story": (article.extra or {}).get("story"),
        "version": article.version,
        "deleted": article.deleted_at is not None,
        "created_at": _iso(article.created_at),
        "modified_at": _iso(article.modified_at),
    }
