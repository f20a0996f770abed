"""Plain data handed to the repositories. Callers build these; the store only persists them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class NewParagraph:
    position: int
    kind: str
    text: str
    norm_hash: str
    signature: bytes | None = None
    photo_credit: str | None = None
    duplicate_of_article_id: int | None = None
    duplicate_of_position: int | None = None
    duplicate_tier: str | None = None
    similarity: float | None = None
    estimated: float | None = None


@dataclass(frozen=True)
class NewRemoval:
    block_index: int
    text: str
    reason: str
    detail: str | None = None
    duplicate_of_article_id: int | None = None
    duplicate_of_position: int | None = None
    similarity: float | None = None
    norm_hash: str | None = None
    duplicate_tier: str | None = None


@dataclass(frozen=True)
class NewArticle:
    source_id: int
    entry_key: str
    content_hash: str
    feed_id: int | None = None
    raw_document_id: int | None = None
    url: str | None = None
    title: str | None = None
    subtitle: str | None = None
    byline: str | None = None
    credit: str | None = None
    agencies: list[str] = field(default_factory=list)
    language: str | None = None
    published_at: datetime | None = None
    source_updated_at: datetime | None = None
    document_signature: bytes | None = None
    body_shingles: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    paragraphs: list[NewParagraph] = field(default_factory=list)
    removals: list[NewRemoval] = field(default_factory=list)
