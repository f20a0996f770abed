"""Queries behind the operator commands: article selection, stored-state snapshots, statistics,
duplicate explanations and integrity checks. Reads and counts only; no decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, inspect, literal_column, select, text
from sqlalchemy.orm import Session

from store.models import (
    Article,
    ArticleChange,
    ArticleParagraph,
    ChangeCounter,
    Feed,
    Fetch,
    LshBand,
    RawDocument,
    Removal,
    Source,
)

# --- selecting articles ------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleSelection:
    """Which articles an operator command applies to. Empty filters select everything."""

    feed_id: int | None = None
    source_id: int | None = None
    since: datetime | None = None  # article date (published, else first stored) >= since
    until: datetime | None = None  # article date < until
    article_ids: tuple[int, ...] = ()
    include_deleted: bool = False


def _article_date() -> Any:
    return func.coalesce(Article.published_at, Article.created_at)


def _selection_query(selection: ArticleSelection) -> Select[int, int | None]:
    query = select(Article.id, Article.raw_document_id).order_by(Article.id)
    if selection.feed_id is not None:
        query = query.where(Article.feed_id == selection.feed_id)
    if selection.source_id is not None:
        query = query.where(Article.source_id == selection.source_id)
    if selection.since is not None:
        query = query.where(_article_date() >= selection.since)
    if selection.until is not None:
        query = query.where(_article_date() < selection.until)
    if selection.article_ids:
        query = query.where(Article.id.in_(selection.article_ids))
    if not selection.include_deleted:
        query = query.where(Article.deleted_at.is_(None))
    return query


def select_articles(session: Session, selection: ArticleSelection) -> list[tuple[int, int | None]]:
    """``(article id, raw document id)`` of the selected articles, oldest first."""
    return [(int(a), r) for a, r in session.execute(_selection_query(selection))]


def find_source(session: Session, name: str) -> Source | None:
    return session.scalar(select(Source).where(Source.name == name))


def lock_article(session: Session, article_id: int) -> Article | None:
    """The article, locked until the transaction ends (PostgreSQL; SQLite's writer lock covers it)."""
    return session.scalar(
        select(Article).where(Article.id == article_id).with_for_update().execution_options(populate_existing=True)
    )


# --- snapshots: what a consumer can see of one article ------------------------------------------

_ARTICLE_BOOKKEEPING = {"id", "version", "created_at", "modified_at", "content_hash", "body_shingles"}
_BLOCK_BOOKKEEPING = {"id", "article_id"}


def _value(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, list):
        return tuple(_value(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _value(v)) for k, v in value.items()))
    return value


def _columns(model: type[object], skip: set[str]) -> list[str]:
    return [c.key for c in inspect(model).column_attrs if c.key not in skip]


@dataclass(frozen=True)
class ArticleSnapshot:
    """Every stored value of an article and its blocks, minus bookkeeping (ids, version, times).

    Built from the mapped columns, so columns added later are compared too. Two equal snapshots
    mean a consumer would see no difference.
    """

    fields: tuple[tuple[str, Any], ...]
    paragraphs: tuple[tuple[tuple[str, Any], ...], ...]
    removals: tuple[tuple[tuple[str, Any], ...], ...]

    def field(self, name: str) -> Any:
        return dict(self.fields).get(name)

    def paragraph_dicts(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.paragraphs]

    def removal_dicts(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.removals]


def article_snapshot(session: Session, article: Article) -> ArticleSnapshot:
    session.flush()
    fields = tuple((name, _value(getattr(article, name))) for name in _columns(Article, _ARTICLE_BOOKKEEPING))
    paragraph_columns = _columns(ArticleParagraph, _BLOCK_BOOKKEEPING)
    removal_columns = _columns(Removal, _BLOCK_BOOKKEEPING)
    paragraphs = session.scalars(
        select(ArticleParagraph).where(ArticleParagraph.article_id == article.id).order_by(ArticleParagraph.position)
    ).all()
    removals = session.scalars(
        select(Removal).where(Removal.article_id == article.id).order_by(Removal.block_index, Removal.text)
    ).all()
    return ArticleSnapshot(
        fields=fields,
        paragraphs=tuple(tuple((c, _value(getattr(p, c))) for c in paragraph_columns) for p in paragraphs),
        removals=tuple(tuple((c, _value(getattr(r, c))) for c in removal_columns) for r in removals),
    )


def change_counter_value(session: Session) -> int:
    return int(session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0)


def changes_after(session: Session, seq: int, limit: int | None = None) -> list[ArticleChange]:
    """Change-log rows with ``seq`` greater than ``seq``, in order, at most ``limit`` of them."""
    query = select(ArticleChange).where(ArticleChange.seq > seq).order_by(ArticleChange.seq)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


# --- statistics --------------------------------------------------------------------------------


@dataclass
class Stats:
    feeds: dict[str, int] = field(default_factory=dict)
    articles: dict[str, int] = field(default_factory=dict)
    articles_by_source: dict[str, int] = field(default_factory=dict)
    clusters: dict[str, int] = field(default_factory=dict)
    paragraphs_by_tier: dict[str, int] = field(default_factory=dict)
    removals_by_reason: dict[str, int] = field(default_factory=dict)
    removal_groups: list[tuple[str, str, int]] = field(default_factory=list)  # reason, detail start, count
    index: dict[str, int] = field(default_factory=dict)
    raw_documents: dict[str, int] = field(default_factory=dict)
    fetches_by_outcome: dict[str, int] = field(default_factory=dict)
    change_log: dict[str, int] = field(default_factory=dict)


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(query) or 0)


def feed_health(session: Session) -> dict[str, int]:
    """Feeds by health: removed, paused, failing (errors in a row), never fetched, ok."""
    health = {"total": 0, "ok": 0, "failing": 0, "paused": 0, "never_fetched": 0, "removed": 0}
    rows = session.execute(
        select(Feed.removed_at.is_not(None), Feed.paused, Feed.consecutive_errors > 0, Feed.last_fetch_at.is_(None))
    )
    for removed, paused, failing, never in rows:
        if removed:
            health["removed"] += 1
            continue
        health["total"] += 1
        if paused:
            health["paused"] += 1
        elif failing:
            health["failing"] += 1
        elif never:
            health["never_fetched"] += 1
        else:
            health["ok"] += 1
    return health


def collect_stats(session: Session) -> Stats:
    stats = Stats()
    stats.feeds = feed_health(session)

    live = Article.deleted_at.is_(None)
    total = _count(session, select(func.count()).select_from(Article).where(live))
    deleted = _count(session, select(func.count()).select_from(Article).where(Article.deleted_at.is_not(None)))
    canonical = _count(
        session,
        select(func.count())
        .select_from(Article)
        .where(live, (Article.canonical_id == Article.id) | Article.canonical_id.is_(None)),
    )
    stats.articles = {"total": total, "canonical": canonical, "merged": total - canonical, "deleted": deleted}
    stats.articles_by_source = {
        name: int(n)
        for name, n in session.execute(
            select(Source.name, func.count(Article.id))
            .join(Article, Article.source_id == Source.id)
            .where(live)
            .group_by(Source.name)
            .order_by(Source.name)
        )
    }

    members = (
        select(Article.canonical_id.label("canonical_id"), func.count().label("size"))
        .where(live, Article.canonical_id.is_not(None))
        .group_by(Article.canonical_id)
        .subquery()
    )
    multi = _count(session, select(func.count()).select_from(members).where(members.c.size > 1))
    largest = _count(session, select(func.max(members.c.size)))
    stats.clusters = {"canonical": canonical, "with_duplicates": multi, "largest": largest}

    tiers = session.execute(
        select(ArticleParagraph.duplicate_tier, func.count())
        .join(Article, Article.id == ArticleParagraph.article_id)
        .where(live)
        .group_by(ArticleParagraph.duplicate_tier)
    )
    stats.paragraphs_by_tier = dict(sorted((str(tier or "original"), int(n)) for tier, n in tiers))
    reasons = session.execute(
        select(Removal.reason, func.count()).join(Article, Article.id == Removal.article_id).where(live)
        .group_by(Removal.reason)
    )
    stats.removals_by_reason = {str(reason): int(n) for reason, n in sorted(reasons)}
    # One detail per (reason, detail) would be too many groups: the leading word ("exact", "near")
    # is all the tier needs.
    # Inline literals: PostgreSQL only matches the GROUP BY expression when no bound parameter is in it.
    leading = func.substr(func.coalesce(Removal.detail, literal_column("''")), literal_column("1"), literal_column("5"))
    stats.removal_groups = [
        (str(reason), str(lead), int(n))
        for reason, lead, n in session.execute(
            select(Removal.reason, leading, func.count()).join(Article, Article.id == Removal.article_id)
            .where(live).group_by(Removal.reason, leading)
        )
    ]

    signatures = _count(
        session,
        select(func.count())
        .select_from(ArticleParagraph)
        .join(Article, Article.id == ArticleParagraph.article_id)
        .where(live, ArticleParagraph.signature.is_not(None)),
    )
    originals = _count(
        session,
        select(func.count())
        .select_from(ArticleParagraph)
        .join(Article, Article.id == ArticleParagraph.article_id)
        .where(live, ArticleParagraph.signature.is_not(None), ArticleParagraph.duplicate_of_article_id.is_(None)),
    )
    stats.index = {
        "signatures": signatures,
        "original_paragraphs": originals,
        # Rows of the shared SQL index (dedupe.index_backend = "sql"); the memory index has none.
        "band_rows": _count(session, select(func.count()).select_from(LshBand)),
    }

    raw = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(RawDocument.size), 0),
            func.coalesce(func.sum(func.length(RawDocument.body)), 0),
        )
    ).one()
    stats.raw_documents = {"count": int(raw[0]), "bytes": int(raw[1]), "stored_bytes": int(raw[2])}
    stats.fetches_by_outcome = {
        str(outcome): int(n)
        for outcome, n in sorted(session.execute(select(Fetch.outcome, func.count()).group_by(Fetch.outcome)))
    }
    stats.change_log = {
        "events": _count(session, select(func.count()).select_from(ArticleChange)),
        "last_seq": _count(session, select(func.max(ArticleChange.seq))),
    }
    return stats


# --- explaining duplicates ---------------------------------------------------------------------


def paragraph_at(session: Session, article_id: int, position: int) -> ArticleParagraph | None:
    return session.scalar(
        select(ArticleParagraph).where(ArticleParagraph.article_id == article_id, ArticleParagraph.position == position)
    )


def copies_of(session: Session, article_id: int) -> dict[int, list[tuple[int, int]]]:
    """For each position of the article, the ``(article id, position)`` places that link to it."""
    rows = session.execute(
        select(ArticleParagraph.duplicate_of_position, ArticleParagraph.article_id, ArticleParagraph.position)
        .join(Article, Article.id == ArticleParagraph.article_id)
        .where(ArticleParagraph.duplicate_of_article_id == article_id, Article.deleted_at.is_(None))
        .order_by(ArticleParagraph.article_id, ArticleParagraph.position)
    )
    copies: dict[int, list[tuple[int, int]]] = {}
    for target, other_article, other_position in rows:
        if target is not None:
            copies.setdefault(int(target), []).append((int(other_article), int(other_position)))
    return copies


def cluster_members(session: Session, canonical_id: int) -> list[int]:
    return [
        int(i)
        for i in session.scalars(
            select(Article.id)
            .where(Article.canonical_id == canonical_id, Article.id != canonical_id, Article.deleted_at.is_(None))
            .order_by(Article.id)
        )
    ]


def articles_linking_to(session: Session, article_id: int) -> list[int]:
    """Live articles other than ``article_id`` whose paragraphs, removals or canonical point at it."""
    linked = select(ArticleParagraph.article_id).where(ArticleParagraph.duplicate_of_article_id == article_id)
    removed = select(Removal.article_id).where(Removal.duplicate_of_article_id == article_id)
    merged = select(Article.id).where(Article.canonical_id == article_id)
    ids = set(session.scalars(linked)) | set(session.scalars(removed)) | set(session.scalars(merged))
    ids.discard(article_id)
    if not ids:
        return []
    return [
        int(i)
        for i in session.scalars(
            select(Article.id).where(Article.id.in_(ids), Article.deleted_at.is_(None)).order_by(Article.id)
        )
    ]


# --- integrity checks --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeLogShape:
    events: int
    first_seq: int | None
    last_seq: int | None
    counter: int


def change_log_shape(session: Session) -> ChangeLogShape:
    events, first, last = session.execute(
        select(func.count(), func.min(ArticleChange.seq), func.max(ArticleChange.seq))
    ).one()
    return ChangeLogShape(
        int(events), None if first is None else int(first), None if last is None else int(last),
        change_counter_value(session),
    )


def dangling_canonical(session: Session, limit: int = 20) -> list[int]:
    """Live articles whose canonical article is missing, deleted, or itself merged elsewhere."""
    target = Article.__table__.alias("target")
    query = (
        select(Article.id)
        .join(target, target.c.id == Article.canonical_id, isouter=True)
        .where(
            Article.deleted_at.is_(None),
            Article.canonical_id.is_not(None),
            Article.canonical_id != Article.id,
            (target.c.id.is_(None)) | target.c.deleted_at.is_not(None) | (target.c.canonical_id != target.c.id),
        )
        .order_by(Article.id)
        .limit(limit)
    )
    return [int(i) for i in session.scalars(query)]


def dangling_paragraph_links(session: Session, limit: int = 20) -> list[tuple[int, int]]:
    """``(article id, position)`` of live paragraphs linked to a paragraph that is gone or deleted."""
    target = ArticleParagraph.__table__.alias("target")
    owner = Article.__table__.alias("owner")
    query = (
        select(ArticleParagraph.article_id, ArticleParagraph.position)
        .join(Article, Article.id == ArticleParagraph.article_id)
        .join(
            target,
            (target.c.article_id == ArticleParagraph.duplicate_of_article_id)
            & (target.c.position == ArticleParagraph.duplicate_of_position),
            isouter=True,
        )
        .join(owner, owner.c.id == ArticleParagraph.duplicate_of_article_id, isouter=True)
        .where(
            Article.deleted_at.is_(None),
            ArticleParagraph.duplicate_of_article_id.is_not(None),
            target.c.id.is_(None) | owner.c.deleted_at.is_not(None),
        )
        .order_by(ArticleParagraph.article_id, ArticleParagraph.position)
        .limit(limit)
    )
    return [(int(a), int(p)) for a, p in session.execute(query)]


def signature_sizes(session: Session) -> dict[int, int]:
    """Stored signature byte lengths and how many signatures have each."""
    rows = session.execute(
        select(func.length(ArticleParagraph.signature), func.count())
        .where(ArticleParagraph.signature.is_not(None))
        .group_by(func.length(ArticleParagraph.signature))
    )
    return {int(size): int(n) for size, n in rows}


def articles_without_raw_document(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Article)
            .where(Article.deleted_at.is_(None), Article.raw_document_id.is_(None))
        )
        or 0
    )


def sqlite_integrity(session: Session) -> list[str]:
    """SQLite's own checks: page structure (quick_check) and foreign keys. Empty when sound."""
    problems = [str(row[0]) for row in session.execute(text("PRAGMA quick_check")) if row[0] != "ok"]
    for table, rowid, parent, _fk in session.execute(text("PRAGMA foreign_key_check")):
        problems.append(f"{table} row {rowid}: missing {parent} row")
    return problems


__all__: Sequence[str] = [
    "ArticleSelection",
    "ArticleSnapshot",
    "ChangeLogShape",
    "Stats",
    "article_snapshot",
    "articles_linking_to",
    "articles_without_raw_document",
    "change_counter_value",
    "change_log_shape",
    "changes_after",
    "cluster_members",
    "collect_stats",
    "copies_of",
    "dangling_canonical",
    "dangling_paragraph_links",
    "feed_health",
    "find_source",
    "lock_article",
    "paragraph_at",
    "reset_feed_errors",
    "select_articles",
    "set_feed_paused",
    "signature_sizes",
    "sqlite_integrity",
]


# --- operator changes to feeds -----------------------------------------------------------------


def reset_feed_errors(session: Session, feed: Feed, now: datetime) -> int:
    """Forget the feed's error streak and make it due now. Returns the streak that was cleared."""
    cleared = feed.consecutive_errors
    feed.consecutive_errors = 0
    feed.last_error = None
    feed.next_poll_at = now
    session.flush()
    return cleared


def set_feed_paused(session: Session, feed: Feed, paused: bool, now: datetime) -> bool:
    """Pause or resume; a resumed feed is due now. Returns False when it already was in that state."""
    if feed.paused == paused:
        return False
    feed.paused = paused
    if not paused:
        feed.next_poll_at = now
    session.flush()
    return True
