"""Queries for feeds and fetching: the feed registry, URL history, host slow-downs, entry lookups.

Like ``store.repository`` these take a ``Session`` the caller owns and decide nothing: the
fetching code in ``ingest`` computes schedules and identities, this module persists them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from store.errors import ExistsError, NotFoundError
from store.models import Article, Feed, FeedUrlChange, Fetch, HostLimit, RawDocument, utcnow

# --- the registry ------------------------------------------------------------------------------


def add_feed(
    session: Session,
    *,
    name: str,
    url: str,
    source_id: int,
    interval_seconds: int | None = None,
    fetch_pages: bool = False,
    format: str = "auto",
    language: str | None = None,
) -> Feed:
    """Create a feed, or bring back a removed one of the same name (its history is kept)."""
    feed = session.scalar(select(Feed).where(Feed.name == name))
    if feed is not None and feed.removed_at is None:
        raise ExistsError("feed", name)
    if feed is None:
        feed = Feed(name=name, url=url, original_url=url, source_id=source_id)
        session.add(feed)
    else:
        feed.removed_at = None
        if url != feed.original_url:
            feed.url = url
            feed.original_url = url
        feed.source_id = source_id
        feed.next_poll_at = None
    feed.interval_seconds = interval_seconds
    feed.fetch_pages = fetch_pages
    feed.format = format
    feed.language = language
    session.flush()
    return feed


def declare_feed(
    session: Session,
    feed: Feed,
    *,
    url: str,
    source_id: int,
    interval_seconds: int | None,
    fetch_pages: bool,
    format: str,
    language: str | None,
) -> bool:
    """Apply a (possibly changed) declaration to a stored feed; True when anything changed.

    The declared URL is compared with ``original_url``: a feed moved by a permanent redirect keeps
    its new URL for as long as the declaration itself is unchanged.
    """
    changed = False
    if url != feed.original_url:
        change_feed_url(session, feed, url, reason="declared")
        feed.original_url = url
        changed = True
    values = {
        "source_id": source_id,
        "interval_seconds": interval_seconds,
        "fetch_pages": fetch_pages,
        "format": format,
        "language": language,
    }
    for key, value in values.items():
        if getattr(feed, key) != value:
            setattr(feed, key, value)
            changed = True
    if feed.removed_at is not None:
        feed.removed_at = None
        changed = True
    session.flush()
    return changed


def remove_feed(session: Session, name: str) -> Feed:
    """Stop following a feed. Its articles, fetches and history stay; ``add`` brings it back."""
    feed = session.scalar(select(Feed).where(Feed.name == name, Feed.removed_at.is_(None)))
    if feed is None:
        raise NotFoundError("feed", name)
    feed.removed_at = utcnow()
    feed.lease_owner = None
    feed.lease_expires_at = None
    session.flush()
    return feed


def feeds_named(session: Session, names: Iterable[str]) -> list[Feed]:
    """The named feeds, in the order given; NotFoundError names the first unknown one."""
    wanted = list(dict.fromkeys(names))
    found = {
        feed.name: feed
        for feed in session.scalars(select(Feed).where(Feed.name.in_(wanted), Feed.removed_at.is_(None)))
    }
    for name in wanted:
        if name not in found:
            raise NotFoundError("feed", name)
    return [found[name] for name in wanted]


def active_feeds(session: Session, include_paused: bool = False) -> list[Feed]:
    query = select(Feed).where(Feed.removed_at.is_(None)).order_by(Feed.name)
    if not include_paused:
        query = query.where(Feed.paused.is_(False))
    return list(session.scalars(query))


def due_feeds(session: Session, now: datetime) -> list[Feed]:
    """Active, unpaused feeds never polled or whose next poll time has come."""
    query = (
        select(Feed)
        .where(
            Feed.removed_at.is_(None),
            Feed.paused.is_(False),
            or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now),
        )
        .order_by(Feed.next_poll_at.is_not(None), Feed.next_poll_at, Feed.name)
    )
    return list(session.scalars(query))


def get_feed_by_id(session: Session, feed_id: int) -> Feed:
    feed = session.get(Feed, feed_id)
    if feed is None:
        raise NotFoundError("feed", feed_id)
    return feed


# --- URL history -------------------------------------------------------------------------------


def change_feed_url(
    session: Session, feed: Feed, new_url: str, *, reason: str, http_status: int | None = None
) -> FeedUrlChange:
    change = FeedUrlChange(
        feed_id=feed.id, old_url=feed.url, new_url=new_url, reason=reason, http_status=http_status
    )
    session.add(change)
    feed.url = new_url
    session.flush()
    return change


def url_changes(session: Session, feed_id: int) -> list[FeedUrlChange]:
    return list(
        session.scalars(
            select(FeedUrlChange).where(FeedUrlChange.feed_id == feed_id).order_by(FeedUrlChange.id)
        )
    )


# --- hosts that asked us to slow down ------------------------------------------------------------


def host_limits(session: Session, now: datetime) -> list[HostLimit]:
    return list(session.scalars(select(HostLimit).where(HostLimit.not_before > now).order_by(HostLimit.host)))


def limit_host(session: Session, host: str, not_before: datetime, reason: str) -> HostLimit:
    """Record that ``host`` takes no request before ``not_before``; an existing later limit stays."""
    limit = session.get(HostLimit, host)
    if limit is None:
        limit = HostLimit(host=host, not_before=not_before, reason=reason)
        session.add(limit)
    elif not_before >= limit.not_before:
        limit.not_before = not_before
        limit.reason = reason
        limit.updated_at = utcnow()
    session.flush()
    return limit


def postpone_feeds(session: Session, feed_ids: Collection[int], not_before: datetime) -> None:
    """Move the next poll of these feeds to ``not_before`` unless it is already later."""
    if not feed_ids:
        return
    session.execute(
        update(Feed)
        .where(Feed.id.in_(list(feed_ids)), or_(Feed.next_poll_at.is_(None), Feed.next_poll_at < not_before))
        .values(next_poll_at=not_before)
    )
    session.flush()


# --- what the store already knows about a feed's entries ---------------------------------------


def articles_by_keys(session: Session, source_id: int, entry_keys: Iterable[str]) -> dict[str, Article]:
    wanted = sorted(set(entry_keys))
    found: dict[str, Article] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for article in session.scalars(
            select(Article).where(Article.source_id == source_id, Article.entry_key.in_(chunk))
        ):
            found[article.entry_key] = article
    return found


def articles_by_urls(session: Session, source_id: int, urls: Iterable[str]) -> list[Article]:
    wanted = sorted(set(urls))
    found: list[Article] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.extend(
            session.scalars(
                select(Article)
                .where(Article.source_id == source_id, Article.url.in_(chunk))
                .order_by(Article.id)
            )
        )
    return found


def raw_document_formats(session: Session, document_ids: Iterable[int]) -> dict[int, str]:
    """The format (feed, html, ...) each raw document was stored as."""
    wanted = sorted(set(document_ids))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for document_id, fmt in session.execute(
            select(RawDocument.id, RawDocument.format).where(RawDocument.id.in_(chunk))
        ):
            found[document_id] = fmt
    return found


def raw_document_by_hash(session: Session, content_hash: str) -> RawDocument | None:
    return session.scalar(select(RawDocument).where(RawDocument.content_hash == content_hash))


def hashes_fetched_for_feed(session: Session, feed_id: int, content_hashes: Iterable[str]) -> set[str]:
    """Which of these raw documents were already fetched for this feed (a directory feed's files)."""
    wanted = sorted(set(content_hashes))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            session.scalars(
                select(RawDocument.content_hash)
                .join(Fetch, Fetch.raw_document_id == RawDocument.id)
                .where(Fetch.feed_id == feed_id, RawDocument.content_hash.in_(chunk))
                .distinct()
            )
        )
    return found


def fetches_of_feed(session: Session, feed_id: int, limit: int | None = None) -> list[Fetch]:
    query = select(Fetch).where(Fetch.feed_id == feed_id).order_by(Fetch.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
