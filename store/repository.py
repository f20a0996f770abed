"""Repositories: every query the application needs, and nothing that decides anything.

All functions take a ``Session`` that the caller owns; the caller decides the transaction
boundaries (one transaction per article in the pipeline).

The write path of an article (its row, blocks and change-log events) is plain Core INSERTs,
executemany where there are several rows: the ORM's unit of work cost more than the SQL itself.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, event, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached

from store import direct
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
# Raw bytes are written once and read back only by re-ingest: level 1 costs a third of level 6's
# CPU for about a sixth more bytes.
RAW_COMPRESSION_LEVEL = 1

_ARTICLES = cast(Table, Article.__table__)
_PARAGRAPHS = cast(Table, ArticleParagraph.__table__)
_REMOVALS = cast(Table, Removal.__table__)
_CHANGES = cast(Table, ArticleChange.__table__)
_COUNTER = cast(Table, ChangeCounter.__table__)
_FETCHES = cast(Table, Fetch.__table__)
_RAW = cast(Table, RawDocument.__table__)
_SOURCES = cast(Table, Source.__table__)

# The statements of the write path, built once: building a statement and its cache key on every
# call cost more than running it.
_INSERT_CHANGES = insert(_CHANGES)
_INSERT_FETCH = insert(_FETCHES).returning(_FETCHES.c.id)
_RESERVE_SEQ = (
    update(_COUNTER)
    .where(_COUNTER.c.id == CHANGE_COUNTER_ID)
    .values(value=_COUNTER.c.value + bindparam("count"))
    .returning(_COUNTER.c.value)
)
_INSERT_COUNTER = insert(_COUNTER).values(id=CHANGE_COUNTER_ID)
_ARTICLE_ID_BY_KEY = select(_ARTICLES.c.id).where(
    _ARTICLES.c.source_id == bindparam("source_id"), _ARTICLES.c.entry_key == bindparam("entry_key")
)
_ARTICLES_BY_KEYS = select(Article).where(
    Article.source_id == bindparam("source_id"), Article.entry_key.in_(bindparam("entry_keys", expanding=True))
)
_ID_BY_KEY = {
    (table.name, key): select(table.c.id).where(table.c[key] == bindparam("key"))
    for table, key in ((_SOURCES, "name"), (_RAW, "content_hash"))
}
_INSERT_IF_NEW = {
    (dialect, table.name, key): dml(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c.id)
    for dialect, dml in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
    for table, key in ((_SOURCES, "name"), (_RAW, "content_hash"))
}


# --- sources and feeds -------------------------------------------------------------------------


def source_id(session: Session, name: str) -> int:
    """The id of the source called ``name``, created when new (one query when it exists)."""
    found = _find_id(session, _SOURCES, "name", name)
    return found if found is not None else _create_id(session, _SOURCES, "name", {"name": name, "created_at": utcnow()})


def get_or_create_source(session: Session, name: str) -> Source:
    return get_source(session, source_id(session, name))


def _find_id(session: Session, table: Table, key: str, value: Any) -> int | None:
    found = session.connection().execute(_ID_BY_KEY[table.name, key], {"key": value}).scalar()
    return None if found is None else int(found)


def _create_id(session: Session, table: Table, key: str, values: dict[str, Any]) -> int:
    """INSERT ... ON CONFLICT (key) DO NOTHING, then the id of the row with that key.

    Two workers creating the same row at once must both succeed: the loser waits for the
    winner's commit (PostgreSQL) or its write lock (SQLite), then finds the row.
    """
    connection = session.connection()
    found = connection.execute(_INSERT_IF_NEW[connection.dialect.name, table.name, key], values).scalar()
    if found is None:  # another writer's row, committed while this INSERT waited
        found = connection.execute(_ID_BY_KEY[table.name, key], {"key": values[key]}).scalar_one()
    return int(found)


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
) -> int:
    """Store the exact bytes once per content hash: the id of the new row, or of the existing one."""
    existing = _find_id(session, _RAW, "content_hash", content_hash)
    if existing is not None:
        return existing
    values = {
        "content_hash": content_hash,
        "url": url,
        "media_type": media_type,
        "format": format,
        "size": len(body),
        "compression": "zlib",
        "body": zlib.compress(body, RAW_COMPRESSION_LEVEL),
        "headers": headers,
        "created_at": utcnow(),
    }
    return _create_id(session, _RAW, "content_hash", values)


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
) -> int:
    """One fetch row, as one INSERT without an ORM object: the new row's id."""
    values = {
        "feed_id": feed_id,
        "url": url,
        "started_at": started_at,
        "finished_at": utcnow(),
        "outcome": outcome,
        "http_status": http_status,
        "bytes": size,
        "raw_document_id": raw_document_id,
        "error": error,
        "warning": warning,
        "articles_created": articles_created,
        "articles_updated": articles_updated,
    }
    return int(session.connection().execute(_INSERT_FETCH, values).scalar_one())


# --- articles ----------------------------------------------------------------------------------


def find_article_by_key(session: Session, source_id: int, entry_key: str) -> Article | None:
    # The id first, in Core: most keys are new, and the ORM query costs several times as much.
    session.flush()
    article_id = session.connection().execute(
        _ARTICLE_ID_BY_KEY, {"source_id": source_id, "entry_key": entry_key}
    ).scalar()
    return None if article_id is None else session.get(Article, article_id)


def find_articles_by_keys(
    session: Session, source_id: int, entry_keys: Iterable[str]
) -> dict[str, Article | None]:
    """Each entry key with the source's article of that key, or None: one query for them all."""
    found: dict[str, Article | None] = dict.fromkeys(sorted(set(entry_keys)))
    if found:
        rows = session.scalars(_ARTICLES_BY_KEYS, {"source_id": source_id, "entry_keys": list(found)})
        found.update((article.entry_key, article) for article in rows)
    return found


def get_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise NotFoundError("article", article_id)
    return article


# --- the change log ----------------------------------------------------------------------------
#
# ``seq`` is reserved from the one ``change_counter`` row by an UPDATE, whose row lock (PostgreSQL)
# or write lock (SQLite) is held until the transaction ends: numbers commit in order, no gaps.
# A transaction that calls ``defer_changes`` keeps its events in memory and numbers them all with
# one UPDATE just before it commits (events of a savepoint that rolls back are dropped with it);
# the counter is then locked only for that last moment.

_DEFERRED = "newsdedup.deferred_changes"
_ATTACHED = "newsdedup.attached_articles"
_Tagged = tuple[SessionTransaction, Any]


def next_change_seq(session: Session, count: int = 1) -> int:
    """Reserve ``count`` change-log numbers; return the last (the first is ``last - count + 1``)."""
    result = session.connection().execute(_RESERVE_SEQ, {"count": count}).scalar_one_or_none()
    if result is None:
        session.connection().execute(_INSERT_COUNTER, {"value": count})
        return count
    return int(result)


def defer_changes(session: Session) -> None:
    """Number this transaction's change-log events at commit, with one counter update.

    For writers that do not read the change log back before they commit (the pipeline); lasts
    until the session's outermost transaction ends.
    """
    session.info.setdefault(_DEFERRED, [])


def append_change(session: Session, article: Article, change: str) -> None:
    row = {"article_id": article.id, "change": change, "version": article.version, "at": utcnow()}
    deferred: list[_Tagged] | None = session.info.get(_DEFERRED)
    if deferred is not None:
        deferred.append((_current_transaction(session), row))
        return
    row["seq"] = next_change_seq(session)
    session.connection().execute(_INSERT_CHANGES, row)


def _current_transaction(session: Session) -> SessionTransaction:
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        raise RuntimeError("change-log event outside a transaction")
    return transaction


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "before_commit")
def _write_deferred_changes(session: Session) -> None:
    deferred: list[_Tagged] | None = session.info.get(_DEFERRED)
    if not deferred or session.get_nested_transaction() is not None:
        return  # nothing waiting, or a savepoint being released
    session.flush()
    last = next_change_seq(session, len(deferred))
    first = last - len(deferred) + 1
    rows = [{**row, "seq": first + offset} for offset, (_, row) in enumerate(deferred)]
    deferred.clear()
    session.connection().execute(_INSERT_CHANGES, rows)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    deferred: list[_Tagged] | None = session.info.get(_DEFERRED)
    if deferred:
        deferred[:] = [(t, row) for t, row in deferred if not _within(t, previous)]
    attached: list[_Tagged] | None = session.info.get(_ATTACHED)
    if attached:
        # Rows inserted without the unit of work: their objects leave the session as the ORM's
        # own pending objects do when the transaction that added them rolls back.
        kept = []
        for transaction, article in attached:
            if not _within(transaction, previous):
                kept.append((transaction, article))
            elif article in session:
                session.expunge(article)
        attached[:] = kept


@event.listens_for(Session, "after_transaction_end")
def _end_of_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_DEFERRED, None)
        session.info.pop(_ATTACHED, None)


# --- writing articles --------------------------------------------------------------------------


def _columns(record: NewArticle) -> dict[str, Any]:
    return {
        "source_id": record.source_id,
        "entry_key": record.entry_key,
        "feed_id": record.feed_id,
        "raw_document_id": record.raw_document_id,
        "url": record.url,
        "title": record.title,
        "subtitle": record.subtitle,
        "byline": record.byline,
        "credit": record.credit,
        "agencies": list(record.agencies),
        "language": record.language,
        "published_at": record.published_at,
        "source_updated_at": record.source_updated_at,
        "content_hash": record.content_hash,
        "document_signature": record.document_signature,
        "body_shingles": record.body_shingles,
        "extra": dict(record.extra),
    }


def _apply(article: Article, record: NewArticle) -> None:
    for name, value in _columns(record).items():
        if name not in ("source_id", "entry_key"):
            setattr(article, name, value)


_PARAGRAPH_COLUMNS = (
    "article_id",
    "position",
    "kind",
    "text",
    "norm_hash",
    "signature",
    "photo_credit",
    "duplicate_of_article_id",
    "duplicate_of_position",
    "duplicate_tier",
    "similarity",
    "estimated",
)
_REMOVAL_COLUMNS = (
    "article_id",
    "block_index",
    "text",
    "reason",
    "detail",
    "duplicate_of_article_id",
    "duplicate_of_position",
    "similarity",
    "norm_hash",
    "duplicate_tier",
)


def _insert_blocks(session: Session, article_id: int, record: NewArticle) -> None:
    # On the driver's cursor (``store.direct``): every value is an integer, text, bytes or a float.
    direct.insert_rows(
        session,
        _PARAGRAPHS,
        _PARAGRAPH_COLUMNS,
        [
            (
                article_id,
                p.position,
                p.kind,
                p.text,
                p.norm_hash,
                p.signature,
                p.photo_credit,
                p.duplicate_of_article_id,
                p.duplicate_of_position,
                p.duplicate_tier,
                p.similarity,
                p.estimated,
            )
            for p in record.paragraphs
        ],
    )
    direct.insert_rows(
        session,
        _REMOVALS,
        _REMOVAL_COLUMNS,
        [
            (
                article_id,
                r.block_index,
                r.text,
                r.reason,
                r.detail,
                r.duplicate_of_article_id,
                r.duplicate_of_position,
                r.similarity,
                r.norm_hash,
                r.duplicate_tier,
            )
            for r in record.removals
        ],
    )


def _delete_blocks(session: Session, article_id: int) -> None:
    # ORM-enabled: paragraph objects already loaded into the session are marked deleted too.
    session.execute(delete(ArticleParagraph).where(ArticleParagraph.article_id == article_id))
    session.execute(delete(Removal).where(Removal.article_id == article_id))


# SQLite gives a new row max(rowid) + 1 (the table has no AUTOINCREMENT): taking that number in the
# INSERT itself lets a new article be its own canonical without a second statement. Writers hold
# the database's write lock, so no other row can take the number in between.
_NEXT_ARTICLE_ID = select(func.coalesce(func.max(_ARTICLES.c.id), 0) + 1).scalar_subquery()
_INSERT_OWN_CANONICAL_SQLITE = insert(_ARTICLES).values(id=_NEXT_ARTICLE_ID, canonical_id=_NEXT_ARTICLE_ID)
_INSERT_ARTICLE = insert(_ARTICLES)
_NEXTVAL_ARTICLE_ID = select(func.nextval(func.pg_get_serial_sequence(_ARTICLES.name, "id")))


def _insert_article(session: Session, values: dict[str, Any], canonical_id: int | None) -> tuple[int, int]:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        if canonical_id is None:
            article_id = connection.execute(_INSERT_OWN_CANONICAL_SQLITE, values).lastrowid
            return article_id, article_id
        return connection.execute(_INSERT_ARTICLE, {**values, "canonical_id": canonical_id}).lastrowid, canonical_id
    # PostgreSQL: the id from the sequence first, so that the row is written once (an UPDATE right
    # after the INSERT would leave a dead row version behind).
    article_id = int(connection.execute(_NEXTVAL_ARTICLE_ID).scalar_one())
    canonical = canonical_id if canonical_id is not None else article_id
    connection.execute(_INSERT_ARTICLE, {**values, "id": article_id, "canonical_id": canonical})
    return article_id, canonical


def create_article(session: Session, record: NewArticle, canonical_id: int | None = None) -> Article:
    """INSERT the article, its blocks and its "created" event; return it as a session object."""
    now = utcnow()
    values = {**_columns(record), "version": 1, "created_at": now, "modified_at": now}
    article_id, canonical = _insert_article(session, values, canonical_id)
    # Every column is known, so the object joins the session as loaded and never reads its row.
    article = Article(id=article_id, canonical_id=canonical, text_from_id=None, deleted_at=None, **values)
    make_transient_to_detached(article)
    session.add(article)
    session.info.setdefault(_ATTACHED, []).append((_current_transaction(session), article))
    _insert_blocks(session, article_id, record)
    append_change(session, article, "created")
    return article


def update_article(session: Session, article: Article, record: NewArticle, change: str = "updated") -> Article:
    _apply(article, record)
    article.version += 1
    article.modified_at = utcnow()
    _delete_blocks(session, article.id)
    session.flush()
    _insert_blocks(session, article.id, record)
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
    _delete_blocks(session, article.id)
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
