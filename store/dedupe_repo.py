"""Queries behind cross-article dedupe: stored blocks, per-source counts, clusters, LSH band rows.

Persistence only: callers decide what is a duplicate, a template or a story; these functions
read and write what they are told. All take a ``Session`` the caller owns.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Executable,
    Row,
    TextClause,
    TextualSelect,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from store import direct
from store.models import Article, ArticleParagraph, LshBand, Removal, utcnow
from store.repository import append_change

TEMPLATE_REASON = "template"
# PostgreSQL advisory-lock namespace for dedupe keys (first argument of the two-key form).
_LOCK_NAMESPACE = 0x6E64  # "nd"
_LOCK_BUCKETS = 1 << 16


@dataclass(frozen=True)
class StoredBlock:
    article_id: int
    position: int
    kind: str
    text: str
    norm_hash: str
    duplicate_tier: str | None
    signature: bytes | None


def _block(row: Row[int, int, str, str, str, str | None, bytes | None] | tuple[Any, ...]) -> StoredBlock:
    article_id, position, kind, text_, norm_hash, tier, signature = row
    return StoredBlock(article_id, position, kind, text_, norm_hash, tier, signature)


# The per-article lookups as plain SQL text: building a Core statement and its cache key on
# every call cost several times what SQLite takes to run it.
_LIVE_BLOCKS_SQL = (
    "SELECT p.article_id, p.position, p.kind, p.text, p.norm_hash, p.duplicate_tier, p.signature"
    " FROM article_paragraphs p JOIN articles a ON a.id = p.article_id WHERE a.deleted_at IS NULL"
)
_BLOCK_COLUMNS = (
    ArticleParagraph.article_id,
    ArticleParagraph.position,
    ArticleParagraph.kind,
    ArticleParagraph.text,
    ArticleParagraph.norm_hash,
    ArticleParagraph.duplicate_tier,
    ArticleParagraph.signature,
)


def _blocks_sql(where: str, *lists: str) -> TextualSelect:
    statement = text(f"{_LIVE_BLOCKS_SQL} AND {where}")
    return statement.bindparams(*(bindparam(name, expanding=True) for name in lists)).columns(*_BLOCK_COLUMNS)


_ARTICLE_BLOCKS_SQL = _blocks_sql("p.article_id IN :articles ORDER BY p.article_id, p.position", "articles")


def _run(session: Session, statement: Executable, params: dict[str, object]) -> Sequence[Any]:
    # A text statement does not autoflush the session as an ORM one does.
    session.flush()
    return session.execute(statement, params).all()


def _fetch(session: Session, statement: TextClause | TextualSelect, params: dict[str, object]) -> list[tuple[Any, ...]]:
    """``_run`` on the driver's cursor (``store.direct``): for the per-article lookups whose
    parameters and columns are plain integers, text and bytes."""
    session.flush()
    return direct.fetch(session, statement, params)


def earliest_by_hash(
    session: Session, norm_hashes: Iterable[str], exclude_article_id: int | None = None
) -> dict[str, StoredBlock]:
    """For each hash, the earliest stored block with it that is not itself an exact copy.

    Exact links therefore never chain; a block that is a near copy of an older one can be the
    exact original of a later one.
    """
    wanted = sorted(set(norm_hashes))
    found: dict[str, StoredBlock] = {}
    for start in range(0, len(wanted), 50):
        chunk = wanted[start : start + 50]
        params: dict[str, object] = {f"h{i}": h for i, h in enumerate(chunk)}
        if exclude_article_id is not None:
            params["exclude"] = exclude_article_id
        for row in _fetch(session, _earliest_sql(len(chunk), exclude_article_id is not None), params):
            block = _block(row)
            found[block.norm_hash] = block
    return found


@functools.lru_cache(maxsize=128)
def _earliest_sql(count: int, excluding: bool) -> TextualSelect:
    """One ``ORDER BY ... LIMIT 1`` subquery per hash, joined by ``UNION ALL``.

    The (norm_hash, article_id, position) index yields a hash's rows in order, so each subquery
    stops at the first live non-exact one: a line every article of a source carries, and all its
    exact copies, are not read (reading every row of the hashes and keeping the first per hash
    cost more as the store grew).
    """
    part = (
        "SELECT * FROM (SELECT p.article_id, p.position, p.kind, p.text, p.norm_hash, p.duplicate_tier,"
        " p.signature FROM article_paragraphs p JOIN articles a ON a.id = p.article_id"
        " WHERE p.norm_hash = :h{i} AND (p.duplicate_tier IS NULL OR p.duplicate_tier != 'exact')"
        " AND a.deleted_at IS NULL{exclude} ORDER BY p.article_id, p.position LIMIT 1) AS t{i}"
    )
    exclude = " AND p.article_id != :exclude" if excluding else ""
    statement = " UNION ALL ".join(part.format(i=i, exclude=exclude) for i in range(count))
    return text(statement).columns(*_BLOCK_COLUMNS)


def blocks_at(session: Session, places: Iterable[tuple[int, int]]) -> dict[tuple[int, int], StoredBlock]:
    """The live stored blocks at these (article id, position) places."""
    wanted = sorted(set(places))
    found: dict[tuple[int, int], StoredBlock] = {}
    for start in range(0, len(wanted), _PLACES_PER_STATEMENT):
        chunk = wanted[start : start + _PLACES_PER_STATEMENT]
        # Padded with its last place to a multiple of 8: a few statement shapes, each compiled once.
        chunk += chunk[-1:] * (-len(chunk) % 8)
        params: dict[str, object] = {}
        for i, (article_id, position) in enumerate(chunk):
            params[f"a{i}"], params[f"p{i}"] = article_id, position
        for row in _fetch(session, _blocks_at_sql(len(chunk)), params):
            block = _block(row)
            found[block.article_id, block.position] = block
    return found


_PLACES_PER_STATEMENT = 64


@functools.lru_cache(maxsize=16)
def _blocks_at_sql(count: int) -> TextualSelect:
    """Exactly the places, one index probe each on both databases.

    Near candidates are single blocks of many different articles: ``article_id IN (...) AND
    position IN (...)`` probed every pair of the two lists and read every block found there,
    mostly other blocks of the candidates' articles, and more of them as candidates grew with the
    store.
    """
    places = " OR ".join(f"(p.article_id = :a{i} AND p.position = :p{i})" for i in range(count))
    return text(f"{_LIVE_BLOCKS_SQL} AND ({places})").columns(*_BLOCK_COLUMNS)


def article_blocks(session: Session, article_ids: Iterable[int]) -> dict[int, list[StoredBlock]]:
    """Every live block of these articles, in order."""
    ids = sorted(set(article_ids))
    found: dict[int, list[StoredBlock]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        for row in _run(session, _ARTICLE_BLOCKS_SQL, {"articles": ids[start : start + 500]}):
            found[row.article_id].append(_block(row))
    return dict(found)


_ARTICLE_TEXTS_SQL = (
    text(
        "SELECT p.article_id, p.kind, p.text FROM article_paragraphs p JOIN articles a ON a.id = p.article_id"
        " WHERE a.deleted_at IS NULL AND p.article_id IN :articles ORDER BY p.article_id, p.position"
    )
    .bindparams(bindparam("articles", expanding=True))
    .columns(ArticleParagraph.article_id, ArticleParagraph.kind, ArticleParagraph.text)
)


def article_texts(session: Session, article_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """(kind, text) of every live block of these articles, in order: ``article_blocks`` without
    the signatures and hashes that comparing bodies does not read."""
    ids = sorted(set(article_ids))
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        for article_id, kind, text_ in _run(session, _ARTICLE_TEXTS_SQL, {"articles": ids[start : start + 500]}):
            found[article_id].append((kind, text_))
    return dict(found)


def _of_source(source_id: int) -> ColumnElement[bool]:
    """``articles.source_id = :id`` written so that no index on ``source_id`` can serve it.

    Joined with a block hash, the hash index finds a handful of rows; SQLite, without
    statistics, preferred the source index instead and read every article of the source with
    all its blocks (a cost that grew with the store: 14 ms per article at 3,000 articles).
    """
    return (Article.source_id + literal_column("0")) == source_id


def source_story_counts(
    session: Session,
    source_id: int,
    norm_hashes: Iterable[str],
    exclude_story_id: int | None = None,
    cap: int | None = None,
) -> dict[str, int]:
    """For each hash: how many distinct stories (canonical ids) of the source hold the block,
    kept or already removed as template.

    ``cap``: count at most this many stories per hash among the template removals. Once a block
    is a template, it is removed from every story the source prints, so an uncapped count reads
    a row per story the source ever printed it in and each new article costs more than the last;
    capped, each hash is its own ``DISTINCT ... LIMIT`` subquery that stops reading early. (Kept
    copies stay few: a block kept in ``min_stories`` stories becomes a template.)
    """
    wanted = sorted(set(norm_hashes))
    if not wanted:
        return {}
    if cap is not None:
        rows: Iterable[tuple[str, int]] = _capped_story_rows(session, source_id, wanted, cap + 1)
    else:
        rows = session.execute(_uncapped_story_query(source_id, wanted))
    stories: dict[str, set[int]] = defaultdict(set)
    for norm_hash, story_id in rows:
        if story_id != exclude_story_id:
            stories[norm_hash].add(story_id)
    return {norm_hash: len(ids) if cap is None else min(cap, len(ids)) for norm_hash, ids in stories.items()}


def _uncapped_story_query(source_id: int, wanted: list[str]) -> CompoundSelect[str, int]:
    story = func.coalesce(Article.canonical_id, Article.id)
    kept = (
        select(ArticleParagraph.norm_hash, story)
        .join(Article, Article.id == ArticleParagraph.article_id)
        .where(_of_source(source_id), Article.deleted_at.is_(None), ArticleParagraph.norm_hash.in_(wanted))
    )
    removed = (
        select(Removal.norm_hash, story)
        .join(Article, Article.id == Removal.article_id)
        .where(
            Article.source_id == source_id,
            Article.deleted_at.is_(None),
            Removal.reason == TEMPLATE_REASON,
            Removal.norm_hash.in_(wanted),
        )
    )
    return kept.union(removed)


@functools.lru_cache(maxsize=64)
def _capped_story_sql(count: int) -> TextClause:
    """Kept copies of the hashes in the source, then the template removals capped per hash.

    Plain SQL text, one statement: building and compiling Core statements per call cost more
    than running them. The kept part is ``source_story_counts``'s uncapped query (``+ 0``: see
    ``_of_source``); each removal part is its own ``DISTINCT ... LIMIT`` subquery.
    """
    hashes = ", ".join(f":h{i}" for i in range(count))
    kept = (
        "SELECT p.norm_hash, COALESCE(a.canonical_id, a.id) AS story"
        " FROM article_paragraphs p JOIN articles a ON a.id = p.article_id"
        f" WHERE a.source_id + 0 = :source AND a.deleted_at IS NULL AND p.norm_hash IN ({hashes})"
    )
    part = (
        "SELECT * FROM (SELECT DISTINCT r.norm_hash, COALESCE(a.canonical_id, a.id) AS story"
        " FROM removals r JOIN articles a ON a.id = r.article_id"
        " WHERE r.norm_hash = :h{i} AND r.reason = :reason AND a.source_id = :source AND a.deleted_at IS NULL"
        " LIMIT :cap) AS t{i}"
    )
    return text(" UNION ALL ".join([kept, *(part.format(i=i) for i in range(count))]))


def _capped_story_rows(session: Session, source_id: int, hashes: Sequence[str], cap: int) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for start in range(0, len(hashes), 50):
        chunk = hashes[start : start + 50]
        params: dict[str, object] = {f"h{i}": h for i, h in enumerate(chunk)}
        params.update(reason=TEMPLATE_REASON, source=source_id, cap=cap)
        found.extend((h, int(story)) for h, story in _fetch(session, _capped_story_sql(len(chunk)), params))
    return found


def source_blocks_with_hash(session: Session, source_id: int, norm_hash: str) -> list[ArticleParagraph]:
    return list(
        session.scalars(
            select(ArticleParagraph)
            .join(Article, Article.id == ArticleParagraph.article_id)
            .where(
                _of_source(source_id),
                Article.deleted_at.is_(None),
                ArticleParagraph.norm_hash == norm_hash,
            )
            .order_by(ArticleParagraph.article_id, ArticleParagraph.position)
        )
    )


def remove_blocks(
    session: Session, paragraphs: Sequence[ArticleParagraph], reason: str, detail: str, tier: str | None
) -> list[Article]:
    """Move stored blocks to removals; each touched article gets a new version and a change."""
    touched: dict[int, Article] = {}
    for paragraph in paragraphs:
        session.add(
            Removal(
                article_id=paragraph.article_id,
                block_index=paragraph.position,
                text=paragraph.text,
                reason=reason,
                detail=detail,
                norm_hash=paragraph.norm_hash,
                duplicate_tier=tier,
            )
        )
        session.delete(paragraph)
        article = touched.get(paragraph.article_id) or session.get(Article, paragraph.article_id)
        if article is not None:
            touched[article.id] = article
    session.flush()
    for article in touched.values():
        article.version += 1
        article.modified_at = utcnow()
        session.flush()
        append_change(session, article, "updated")
    return list(touched.values())


def links_into(session: Session, article_id: int) -> list[ArticleParagraph]:
    """Blocks of other articles whose ``duplicate_of`` points into this article."""
    return list(
        session.scalars(
            select(ArticleParagraph)
            .where(
                ArticleParagraph.duplicate_of_article_id == article_id,
                ArticleParagraph.article_id != article_id,
            )
            .order_by(ArticleParagraph.article_id, ArticleParagraph.position)
        )
    )


def story_members(session: Session, canonical_id: int) -> list[Article]:
    return list(
        session.scalars(
            select(Article)
            .where(
                or_(Article.canonical_id == canonical_id, Article.id == canonical_id),
                Article.deleted_at.is_(None),
            )
            .order_by(Article.id)
        )
    )


@dataclass(frozen=True)
class MemberRow:
    id: int
    stamp: ArticleStamp
    when: datetime  # the source's update or publication time, else when it was stored
    text_from_id: int | None


_MEMBERS_SQL = text(
    "SELECT id, COALESCE(canonical_id, id) AS story, version, modified_at,"
    " COALESCE(source_updated_at, published_at, created_at) AS at, text_from_id FROM articles"
    " WHERE (canonical_id = :story OR id = :story) AND deleted_at IS NULL ORDER BY id"
).columns(
    Article.id, Article.canonical_id, Article.version, Article.modified_at, Article.created_at, Article.text_from_id
)


def story_member_rows(session: Session, canonical_id: int) -> list[MemberRow]:
    """``story_members`` as plain rows: what choosing the story's text needs."""
    return [
        MemberRow(article_id, ArticleStamp(story, version, modified), at, text_from)
        for article_id, story, version, modified, at, text_from in _run(session, _MEMBERS_SQL, {"story": canonical_id})
    ]


def canonical_ids(session: Session, article_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(article_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Article.id, func.coalesce(Article.canonical_id, Article.id)).where(
            Article.id.in_(ids), Article.deleted_at.is_(None)
        )
    )
    return {article_id: canonical for article_id, canonical in rows}


@dataclass(frozen=True)
class ArticleStamp:
    """What identifies an article's stored blocks: every change to them bumps ``version`` and
    sets ``modified_at``, so (id, version, modified_at) names one content even across a rollback."""

    canonical_id: int
    version: int
    modified_at: datetime


@dataclass(frozen=True)
class StoryCandidateRow:
    """A live article as a story comparison first sees it: its stamp and what was stored of its
    body's signature."""

    stamp: ArticleStamp
    document_signature: bytes | None
    body_shingles: int | None


_STORY_CANDIDATES_SQL = (
    text(
        "SELECT id, COALESCE(canonical_id, id) AS story, version, modified_at, document_signature, body_shingles"
        " FROM articles WHERE id IN :articles AND deleted_at IS NULL"
    )
    .bindparams(bindparam("articles", expanding=True))
    .columns(
        Article.id, Article.canonical_id, Article.version, Article.modified_at, Article.document_signature,
        Article.body_shingles,
    )
)


def story_candidate_rows(session: Session, article_ids: Iterable[int]) -> dict[int, StoryCandidateRow]:
    """Live articles among these: their story, the stamp of their current blocks, and their stored
    body signature and shingle count."""
    ids = sorted(set(article_ids))
    if not ids:
        return {}
    rows = _run(session, _STORY_CANDIDATES_SQL, {"articles": ids})
    return {
        article_id: StoryCandidateRow(ArticleStamp(canonical, version, modified), signature, shingles)
        for article_id, canonical, version, modified, signature, shingles in rows
    }


def article_stamps(session: Session, article_ids: Iterable[int]) -> dict[int, ArticleStamp]:
    """Live articles among these: their story and the stamp of their current blocks."""
    return {article_id: row.stamp for article_id, row in story_candidate_rows(session, article_ids).items()}


def set_text_from(session: Session, canonical: Article, member_id: int | None) -> bool:
    """Record which member's text a canonical article carries: a new version when it changes."""
    if canonical.text_from_id == member_id:
        return False
    canonical.text_from_id = member_id
    canonical.version += 1
    canonical.modified_at = utcnow()
    session.flush()
    append_change(session, canonical, "updated")
    return True


# --- LSH band rows (the shared index) ---------------------------------------------------------


def lock_keys(session: Session, keys: Iterable[int]) -> None:
    """Serialise workers that touch the same dedupe keys, until the transaction ends.

    PostgreSQL: transaction-level advisory locks on the keys' buckets, taken in order (no
    deadlock). SQLite needs nothing: every write transaction begins IMMEDIATE and holds the
    database's one write lock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    buckets = sorted({int(key) % _LOCK_BUCKETS for key in keys})
    if not buckets:
        return
    session.execute(
        text("SELECT count(pg_advisory_xact_lock(:namespace, b)) FROM unnest(CAST(:buckets AS integer[])) AS b"),
        {"namespace": _LOCK_NAMESPACE, "buckets": buckets},
    )


def insert_bands(session: Session, kind: int, rows: Sequence[tuple[int, int, int, int]]) -> None:
    """Rows of (band key as signed 64-bit, article id, position, day)."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        # Columns as arrays: one statement and five parameters for an article's few hundred rows.
        keys, article_ids, positions, days = (list(column) for column in zip(*rows, strict=True))
        session.execute(
            text(
                "INSERT INTO lsh_bands (band_key, kind, article_id, position, day)"
                " SELECT k, :kind, a, p, d FROM unnest(CAST(:keys AS bigint[]), CAST(:article_ids AS bigint[]),"
                " CAST(:positions AS integer[]), CAST(:days AS integer[])) AS t(k, a, p, d)"
            ),
            {"kind": kind, "keys": keys, "article_ids": article_ids, "positions": positions, "days": days},
        )
        return
    session.execute(
        insert(LshBand),
        [
            {"kind": kind, "band_key": key, "article_id": article_id, "position": position, "day": day}
            for key, article_id, position, day in rows
        ],
    )


def lookup_bands(session: Session, kind: int, keys: Sequence[int], min_day: int) -> list[tuple[int, int, int]]:
    """(band key, article id, position) of stored rows with these keys, ``day >= min_day``.

    PostgreSQL gets the keys as one array parameter (``band_key = ANY(:keys)``): one statement
    to parse and plan whatever the number of keys, instead of hundreds of bind parameters.
    """
    unique = sorted(set(keys))
    if not unique:
        return []
    columns = select(LshBand.band_key, LshBand.article_id, LshBand.position).where(
        LshBand.kind == kind, LshBand.day >= min_day
    )
    if session.get_bind().dialect.name == "postgresql":
        array = bindparam("band_keys", unique, type_=postgresql.ARRAY(BigInteger))
        return [(k, a, p) for k, a, p in session.execute(columns.where(LshBand.band_key == any_(array)))]
    found: list[tuple[int, int, int]] = []
    for start in range(0, len(unique), 5000):
        rows = session.execute(columns.where(LshBand.band_key.in_(unique[start : start + 5000])))
        found.extend((key, article_id, position) for key, article_id, position in rows)
    return found


def block_signatures(session: Session, places: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Stored signatures of the live blocks at exactly these (article id, position) places."""
    return {place: block.signature for place, block in blocks_at(session, places).items() if block.signature}


def delete_bands(session: Session, article_id: int, kind: int | None = None) -> None:
    query = delete(LshBand).where(LshBand.article_id == article_id)
    if kind is not None:
        query = query.where(LshBand.kind == kind)
    session.execute(query)


def delete_bands_before(session: Session, min_day: int, limit: int) -> int:
    """Delete up to ``limit`` band rows written before ``min_day``; returns how many went.

    A batch at a time, so that a day's worth of old rows never holds SQLite's write lock for long.
    """
    if session.get_bind().dialect.name == "postgresql":
        statement = text(
            "DELETE FROM lsh_bands WHERE ctid = ANY(ARRAY("
            "SELECT ctid FROM lsh_bands WHERE day < :min_day LIMIT :limit))"
        )
    else:
        statement = text(
            "DELETE FROM lsh_bands WHERE rowid IN (SELECT rowid FROM lsh_bands WHERE day < :min_day LIMIT :limit)"
        )
    result = session.execute(statement, {"min_day": min_day, "limit": limit})
    return int(result.rowcount)  # type: ignore[attr-defined]


def clear_bands(session: Session) -> None:
    session.execute(delete(LshBand))


def count_bands(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(LshBand)) or 0)


# --- bulk reads for rebuilds --------------------------------------------------------------------


def iter_stored_hashes(session: Session, batch_size: int = 50_000) -> Iterator[list[str]]:
    """Hashes of every stored block and template removal (deleted articles' too), in batches."""
    for query in (
        select(ArticleParagraph.norm_hash),
        select(Removal.norm_hash).where(Removal.reason == TEMPLATE_REASON, Removal.norm_hash.is_not(None)),
    ):
        result = session.execute(query, execution_options={"yield_per": batch_size})
        for batch in result.scalars().partitions():
            yield [h for h in batch if h]


@dataclass(frozen=True)
class SignatureRow:
    article_id: int
    position: int
    signature: bytes
    created_at: datetime


def iter_block_signatures(
    session: Session, since: datetime | None, batch_size: int = 50_000
) -> Iterator[list[SignatureRow]]:
    """Stored block signatures of live articles created since ``since``, except exact copies
    (the exact tier finds those by hash), in batches, in (article, position) order."""
    last = (-1, -1)
    while True:
        query = (
            select(
                ArticleParagraph.article_id,
                ArticleParagraph.position,
                ArticleParagraph.signature,
                Article.created_at,
            )
            .join(Article, Article.id == ArticleParagraph.article_id)
            .where(
                Article.deleted_at.is_(None),
                ArticleParagraph.signature.is_not(None),
                or_(ArticleParagraph.duplicate_tier.is_(None), ArticleParagraph.duplicate_tier != "exact"),
                or_(
                    ArticleParagraph.article_id > last[0],
                    (ArticleParagraph.article_id == last[0]) & (ArticleParagraph.position > last[1]),
                ),
            )
            .order_by(ArticleParagraph.article_id, ArticleParagraph.position)
            .limit(batch_size)
        )
        if since is not None:
            query = query.where(Article.created_at >= since)
        rows = [SignatureRow(a, p, sig or b"", created) for a, p, sig, created in session.execute(query)]
        if not rows:
            return
        yield rows
        last = (rows[-1].article_id, rows[-1].position)


def iter_document_signatures(
    session: Session, since: datetime | None, batch_size: int = 50_000
) -> Iterator[list[SignatureRow]]:
    last = -1
    while True:
        query = (
            select(Article.id, Article.document_signature, Article.created_at)
            .where(Article.deleted_at.is_(None), Article.document_signature.is_not(None), Article.id > last)
            .order_by(Article.id)
            .limit(batch_size)
        )
        if since is not None:
            query = query.where(Article.created_at >= since)
        rows = [
            SignatureRow(article_id, 0, signature or b"", created)
            for article_id, signature, created in session.execute(query)
        ]
        if not rows:
            return
        yield rows
        last = rows[-1].article_id


def document_signatures(session: Session, article_ids: Iterable[int]) -> dict[int, bytes]:
    ids = sorted(set(article_ids))
    found: dict[int, bytes] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Article.id, Article.document_signature).where(
                Article.id.in_(ids[start : start + 500]),
                Article.deleted_at.is_(None),
                Article.document_signature.is_not(None),
            )
        )
        found.update({article_id: signature for article_id, signature in rows if signature})
    return found
