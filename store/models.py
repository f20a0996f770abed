"""SQLAlchemy 2.x models. Persistence only: no thresholds and no duplicate decisions here.

Datetimes are timezone-aware UTC everywhere (``UtcDateTime`` normalises SQLite's naive values).
Every constraint is named through the metadata naming convention so that Alembic names them the
same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC values")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# BIGINT on PostgreSQL, INTEGER (the rowid alias that autoincrements) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


class Source(Base):
    """Who published: "voa-id", "reuters", a site. Feeds and articles belong to a source."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text)
    # The URL as first declared; a permanent redirect changes ``url`` but never this.
    original_url: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(20), default="auto")
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    fetch_pages: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str | None] = mapped_column(String(20))
    paused: Mapped[bool] = mapped_column(default=False)
    removed_at: Mapped[datetime | None] = mapped_column()
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_body_hash: Mapped[str | None] = mapped_column(String(80))
    last_fetch_at: Mapped[datetime | None] = mapped_column()
    last_success_at: Mapped[datetime | None] = mapped_column()
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "guid", or "link" once the feed has shown that its GUIDs change between fetches.
    entry_identity: Mapped[str] = mapped_column(String(10), default="guid", server_default="guid")
    # The feed's own <ttl> (or sy:updatePeriod) from its last full fetch; a 304 keeps honouring it.
    ttl_seconds: Mapped[int | None] = mapped_column(Integer)


class FeedUrlChange(Base):
    """Every change of a feed's URL (permanent redirect, operator revert): the history to undo it."""

    __tablename__ = "feed_url_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    old_url: Mapped[str] = mapped_column(Text)
    new_url: Mapped[str] = mapped_column(Text)
    # permanent_redirect | revert
    reason: Mapped[str] = mapped_column(String(40))
    http_status: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class HostLimit(Base):
    """A host that asked us to slow down (429, 503 with Retry-After): no request before ``not_before``."""

    __tablename__ = "host_limits"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    not_before: Mapped[datetime] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RawDocument(Base):
    """The exact bytes we were given, zlib-compressed, addressed by content hash.

    Re-ingest reads these and never the network.
    """

    __tablename__ = "raw_documents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(80), unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    media_type: Mapped[str | None] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(BigInteger)
    compression: Mapped[str] = mapped_column(String(20), default="zlib")
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Fetch(Base):
    """One row per attempt to read a feed, a page or a file: when, outcome, bytes, error."""

    __tablename__ = "fetches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"), index=True)
    url: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column()
    # ok | not_modified | unchanged | error
    outcome: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    raw_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("raw_documents.id", ondelete="SET NULL"), index=True
    )
    error: Mapped[str | None] = mapped_column(Text)
    # Problems that did not stop the fetch (malformed feed with entries recovered, an empty feed).
    warning: Mapped[str | None] = mapped_column(Text)
    articles_created: Mapped[int] = mapped_column(Integer, default=0)
    articles_updated: Mapped[int] = mapped_column(Integer, default=0)


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("source_id", "entry_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"), index=True)
    # Stable identity within the source: feed guid, canonical URL, file URI or content hash.
    entry_key: Mapped[str] = mapped_column(String(500))
    canonical_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    raw_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("raw_documents.id", ondelete="SET NULL"), index=True
    )
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    subtitle: Mapped[str | None] = mapped_column(Text)
    byline: Mapped[str | None] = mapped_column(Text)
    credit: Mapped[str | None] = mapped_column(Text)
    agencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(20))
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    source_updated_at: Mapped[datetime | None] = mapped_column()
    content_hash: Mapped[str] = mapped_column(String(80))
    document_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    # How many distinct body shingles ``document_signature`` was made from (null: stored before
    # the column).
    body_shingles: Mapped[int | None] = mapped_column(Integer)
    # On a canonical article: the cluster member whose text it carries (the most complete and
    # most recent); null when that is its own.
    text_from_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when an operator deletes the article: the row stays as a tombstone so that the entry
    # is not resurrected by the next fetch.
    deleted_at: Mapped[datetime | None] = mapped_column()


class ArticleParagraph(Base):
    """A kept block of an article: body paragraph or caption, in document order."""

    __tablename__ = "article_paragraphs"
    __table_args__ = (
        UniqueConstraint("article_id", "position"),
        # By hash, then in (article, position) order: the earliest block with a hash is the
        # first index entry that qualifies, not a sort of every copy.
        Index("ix_article_paragraphs_norm_hash_place", "norm_hash", "article_id", "position"),
        # Links into an article are looked up (relinking, deletes setting them NULL) by target.
        Index("ix_article_paragraphs_duplicate_of_article_id", "duplicate_of_article_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    norm_hash: Mapped[str] = mapped_column(String(40))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_credit: Mapped[str | None] = mapped_column(Text)
    duplicate_of_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )
    duplicate_of_position: Mapped[int | None] = mapped_column(Integer)
    # exact | near | None
    duplicate_tier: Mapped[str | None] = mapped_column(String(20))
    # Exact Jaccard of the two blocks' shingles (1.0 for exact), and the MinHash estimate that
    # made the pair a candidate (near tier only).
    similarity: Mapped[float | None] = mapped_column()
    estimated: Mapped[float | None] = mapped_column()


class Removal(Base):
    """A block that was dropped from an article, and why."""

    __tablename__ = "removals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    # Index of the block in the parsed document, so the order of removals can be shown.
    block_index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)
    duplicate_of_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    duplicate_of_position: Mapped[int | None] = mapped_column(Integer)
    similarity: Mapped[float | None] = mapped_column()
    # Normalised hash of the removed text (template blocks are counted by it) and the tier of
    # the verdict that removed it (exact | near | template).
    norm_hash: Mapped[str | None] = mapped_column(String(40), index=True)
    duplicate_tier: Mapped[str | None] = mapped_column(String(20))


class ArticleChange(Base):
    """The change log downstream consumers follow: one row per create/update/merge/delete.

    ``seq`` comes from ``change_counter`` under a row lock held until commit, so sequence
    numbers become visible in order and ``export --since-seq`` never skips one.
    """

    __tablename__ = "article_changes"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    # created | updated | merged | deleted
    change: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ChangeCounter(Base):
    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class LshBand(Base):
    """LSH band keys in SQL: the index shared by several workers (``index_backend = "sql"``).

    ``kind`` 1 = paragraph or caption, 2 = whole article body. A worker looks up and inserts
    band keys in the article's own transaction, so an index entry exists exactly when its
    article committed. Derived state: ``newsdedup index rebuild`` recomputes it from signatures.
    """

    __tablename__ = "lsh_bands"
    # The key leads the primary key: a lookup is ``band_key = ANY(...)``, and with ``kind``
    # first (two values) PostgreSQL scanned every row of the kind and filtered the keys.
    __table_args__ = (
        PrimaryKeyConstraint("band_key", "kind", "article_id", "position"),
        Index("ix_lsh_bands_article_id", "article_id"),
        # Rows older than the window are deleted by day.
        Index("ix_lsh_bands_day", "day"),
    )

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(Integer)


class DedupeState(Base):
    """Key/value facts the dedupe state depends on (num_perm, seed, shingle scheme, library)."""

    __tablename__ = "dedupe_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
