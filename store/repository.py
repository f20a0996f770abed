"""Repositories: every query the application needs, and nothing that decides anything.

All functions take a ``Session`` that the caller owns; the caller decides the transaction
boundaries (one transaction per article in the pipeline).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.errors import NotFoundError
from store.models import (
    Article,
    ArticleChange,
    ArticleParagraph,
    ChangeCounter,
    DedupeState,
    Feed,
    Fetch,
    RawDocument,
    Removal,
    Source,
    utcnow,
)
from store.records import NewArticle

CHANGE_COUNTER_ID = 1


# --- sources and feeds -------------------------------------------------------------------------


def _insert_ignoring_conflict(session: Session, model: type[Any], key: str, values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT (key) DO NOTHING, on SQLite and PostgreSQL.

    Two workers creating the same row at once must both succeed: the loser waits for the
    winner's commit (PostgreSQL) or its write lock (SQLite), then finds the row.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=[key]))


def get_or_create_source(session: Session, name: str) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        _insert_ignoring_conflict(session, Source, "name", {"name": name, "created_at": utcnow()})
        source = session.scalars(select(Source).where(Source.name == name)).one()
    return source


def get_source(session: Session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise NotFoundError("source", source_id)
    return source


def find_feed(session: Session, name: str) -> Feed | None:
    return session.scalar(select(Feed).where(Feed.name == name))


def get_feed(session: Session, name: str) -> Feed:
    feed = find_feed(session, name)
    if feed is None:
        raise NotFoundError("feed", name)
    return feed


def list_feeds(session: Session, include_removed: bool = False) -> list[Feed]:
    query = select(Feed).order_by(Feed.name)
    if not include_removed:
        query = query.where(Feed.removed_at.is_(None))
    return list(session.scalars(query))


# --- raw documents and fetches -----------------------------------------------------------------


def store_raw_document(
    session: Session,
    content_hash: str,
    body: bytes,
    *,
    url: str | None,
    media_type: str | None,
    format: str,
    headers: dict[str, str] | None = None,
) -> RawDocument:
    """Store the exact bytes once per content hash; return the existing row when known."""
    existing = session.scalar(select(RawDocument).where(RawDocument.content_hash == content_hash))
    if existing is not None:
        return existing
    values = {
        "content_hash": content_hash,
        "url": url,
        "media_type": media_type,
        "format": format,
        "size": len(body),
        "compression": "zlib",
        "body": zlib.compress(body, 6),
        "headers": headers,
        "created_at": utcnow(),
    }
    _insert_ignoring_conflict(session, RawDocument, "content_hash", values)
    return session.scalars(select(RawDocument).where(RawDocument.content_hash == content_hash)).one()


def raw_document_bytes(document: RawDocument) -> bytes:
    if document.compression == "zlib":
        return zlib.decompress(document.body)
    if document.compression == "none":
        return document.body
    raise ValueError(f"raw document {document.id}: unknown compression {document.compression!r}")


def get_raw_document(session: Session, document_id: int) -> RawDocument:
    document = session.get(RawDocument, document_id)
    if document is None:
        raise NotFoundError("raw document", document_id)
    return document


def record_fetch(
    session: Session,
    *,
    url: str,
    outcome: str,
    started_at: datetime,
    feed_id: int | None = None,
    http_status: int | None = None,
    size: int | None = None,
    raw_document_id: int | None = None,
    error: str | None = None,
    warning: str | None = None,
    articles_created: int = 0,
    articles_updated: int = 0,
) -> Fetch:
    fetch = Fetch(
        feed_id=feed_id,
        url=url,
        started_at=started_at,
        finished_at=utcnow(),
        outcome=outcome,
        http_status=http_status,
        bytes=size,
        raw_document_id=raw_document_id,
        error=error,
        warning=warning,
        articles_created=articles_created,
        articles_updated=articles_updated,
    )
    session.add(fetch)
    session.flush()
    return fetch


# --- articles ----------------------------------------------------------------------------------


def find_article_by_key(session: Session, source_id: int, entry_key: str) -> Article | None:
    return session.scalar(
        select(Article).where(Article.source_id == source_id, Article.entry_key == entry_key)
    )


def get_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise NotFoundError("article", article_id)
    return article


def next_change_seq(session: Session) -> int:
    """Reserve the next change-log number.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite) that is held until the
    transaction ends, so sequence numbers commit in order.
    """
    result = session.execute(
        update(ChangeCounter)
        .where(ChangeCounter.id == CHANGE_COUNTER_ID)
        .values(value=ChangeCounter.value + 1)
        .returning(ChangeCounter.value)
    ).scalar_one_or_none()
    if result is None:
        session.add(ChangeCounter(id=CHANGE_COUNTER_ID, value=1))
        session.flush()
        return 1
    return int(result)


def append_change(session: Session, article: Article, change: str) -> ArticleChange:
    entry = ArticleChange(
        seq=next_change_seq(session), article_id=article.id, change=change, version=article.version
    )
    session.add(entry)
    session.flush()
    return entry


def _apply(article: Article, record: NewArticle) -> None:
    article.feed_id = record.feed_id
    article.raw_document_id = record.raw_document_id
    article.url = record.url
    article.title = record.title
    article.subtitle = record.subtitle
    article.byline = record.byline
    article.credit = record.credit
    article.agencies = list(record.agencies)
    article.language = record.language
    article.published_at = record.published_at
    article.source_updated_at = record.source_updated_at
    article.content_hash = record.content_hash
    article.document_signature = record.document_signature
    article.extra = dict(record.extra)


def _replace_blocks(session: Session, article_id: int, record: NewArticle) -> None:
    session.execute(delete(ArticleParagraph).where(ArticleParagraph.article_id == article_id))
    session.execute(delete(Removal).where(Removal.article_id == article_id))
    session.add_all(
        ArticleParagraph(
            article_id=article_id,
            position=p.position,
            kind=p.kind,
            text=p.text,
            norm_hash=p.norm_hash,
            signature=p.signature,
            photo_credit=p.photo_credit,
            duplicate_of_article_id=p.duplicate_of_article_id,
            duplicate_of_position=p.duplicate_of_position,
            duplicate_tier=p.duplicate_tier,
            similarity=p.similarity,
            estimated=p.estimated,
        )
        for p in record.paragraphs
    )
    session.add_all(
        Removal(
            article_id=article_id,
            block_index=r.block_index,
            text=r.text,
            reason=r.reason,
            detail=r.detail,
            duplicate_of_article_id=r.duplicate_of_article_id,
            duplicate_of_position=r.duplicate_of_position,
            similarity=r.similarity,
            norm_hash=r.norm_hash,
            duplicate_tier=r.duplicate_tier,
        )
        for r in record.removals
    )


def create_article(session: Session, record: NewArticle, canonical_id: int | None = None) -> Article:
    article = Article(source_id=record.source_id, entry_key=record.entry_key, version=1)
    _apply(article, record)
    session.add(article)
    session.flush()
    article.canonical_id = canonical_id if canonical_id is not None else article.id
    _replace_blocks(session, article.id, record)
    session.flush()
    append_change(session, article, "created")
    return article


def update_article(session: Session, article: Article, record: NewArticle, change: str = "updated") -> Article:
    _apply(article, record)
    article.version += 1
    article.modified_at = utcnow()
    _replace_blocks(session, article.id, record)
    session.flush()
    append_change(session, article, change)
    return article


def set_canonical(session: Session, article: Article, canonical_id: int) -> None:
    if article.canonical_id == canonical_id:
        return
    article.canonical_id = canonical_id
    article.modified_at = utcnow()
    session.flush()
    append_change(session, article, "merged")


def tombstone_article(session: Session, article: Article) -> None:
    article.deleted_at = utcnow()
    article.version += 1
    session.execute(delete(ArticleParagraph).where(ArticleParagraph.article_id == article.id))
    session.execute(delete(Removal).where(Removal.article_id == article.id))
    session.flush()
    append_change(session, article, "deleted")


def paragraphs_of(session: Session, article_id: int) -> list[ArticleParagraph]:
    return list(
        session.scalars(
            select(ArticleParagraph)
            .where(ArticleParagraph.article_id == article_id)
            .order_by(ArticleParagraph.position)
        )
    )


def removals_of(session: Session, article_id: int) -> list[Removal]:
    return list(
        session.scalars(select(Removal).where(Removal.article_id == article_id).order_by(Removal.block_index))
    )


@dataclass(frozen=True)
class ParagraphPlace:
    article_id: int
    position: int
    kind: str
    norm_hash: str


def first_places_by_hash(
    session: Session, norm_hashes: Iterable[str], exclude_article_id: int | None = None
) -> dict[str, ParagraphPlace]:
    """For each hash, the earliest stored paragraph (lowest article id, then position) with it.

    Only paragraphs that are themselves first occurrences are returned, so links always point
    at the original and never chain.
    """
    wanted = sorted(set(norm_hashes))
    if not wanted:
        return {}
    places: dict[str, ParagraphPlace] = {}
    query = (
        select(
            ArticleParagraph.norm_hash,
            ArticleParagraph.article_id,
            ArticleParagraph.position,
            ArticleParagraph.kind,
        )
        .join(Article, Article.id == ArticleParagraph.article_id)
        .where(
            ArticleParagraph.norm_hash.in_(wanted),
            ArticleParagraph.duplicate_of_article_id.is_(None),
            Article.deleted_at.is_(None),
        )
        .order_by(ArticleParagraph.article_id, ArticleParagraph.position)
    )
    if exclude_article_id is not None:
        query = query.where(ArticleParagraph.article_id != exclude_article_id)
    for norm_hash, article_id, position, kind in session.execute(query):
        places.setdefault(norm_hash, ParagraphPlace(article_id, position, kind, norm_hash))
    return places


def list_articles(
    session: Session, source_name: str | None = None, include_deleted: bool = False, limit: int | None = None
) -> list[tuple[Article, str]]:
    query = select(Article, Source.name).join(Source, Source.id == Article.source_id).order_by(Article.id)
    if source_name is not None:
        query = query.where(Source.name == source_name)
    if not include_deleted:
        query = query.where(Article.deleted_at.is_(None))
    if limit is not None:
        query = query.limit(limit)
    return [(row[0], row[1]) for row in session.execute(query)]


def changes_since(session: Session, since_seq: int, batch_size: int = 500) -> Iterator[ArticleChange]:
    """Change-log rows with ``seq > since_seq`` in order, read in batches."""
    last = since_seq
    while True:
        rows: Sequence[ArticleChange] = session.scalars(
            select(ArticleChange).where(ArticleChange.seq > last).order_by(ArticleChange.seq).limit(batch_size)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def count_rows(session: Session, model: type[object]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def get_state(session: Session) -> dict[str, str]:
    return {row.key: row.value for row in session.scalars(select(DedupeState))}


def put_state(session: Session, values: dict[str, str]) -> None:
    for key, value in values.items():
        row = session.get(DedupeState, key)
        if row is None:
            session.add(DedupeState(key=key, value=value))
        else:
            row.value = value
    session.flush()
