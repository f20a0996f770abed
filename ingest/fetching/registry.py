"""The feed registry: ``feeds add``, ``feeds remove``, ``feeds sync`` from a TOML file, URL reverts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from config import ConfigError, FeedSpec
from ingest.errors import InputError
from ingest.fetching.safety import AddressPolicy
from store import feed_repository as feed_repo
from store import repository as repo
from store.errors import ExistsError, NotFoundError
from store.models import Feed

FEED_FORMATS = ("auto", "feed", "nitf", "ninjs")
_SLUG = re.compile(r"[^a-z0-9]+")


def feed_url(text: str, policy: AddressPolicy) -> str:
    """A declared feed location as a URL: http(s) and file URLs as given, plain paths as file URLs."""
    raw = text.strip()
    if not raw:
        raise InputError("empty feed URL")
    if "://" not in raw and not raw.lower().startswith("file:"):
        path = Path(raw).expanduser()
        if not path.exists():
            raise InputError(f"{raw}: no such file or directory (give an http(s) URL or an existing path)")
        raw = path.resolve().as_uri()
    try:
        policy.check_url(raw)
    except Exception as exc:  # UnsafeURLError: shown as an input problem at declaration time
        raise InputError(str(exc)) from exc
    return raw


def default_feed_name(url: str) -> str:
    """``https://www.voaindonesia.com/api/zmgqoe$mqgu`` -> ``voaindonesia-com-api-zmgqoe-mqgu``."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        stem = Path(parts.path).stem or Path(parts.path).name
        return (_SLUG.sub("-", stem.lower()).strip("-") or "feed")[:80]
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    path = parts.path.strip("/")
    for suffix in (".xml", ".rss", ".atom", ".json"):
        path = path.removesuffix(suffix)
    slug = _SLUG.sub("-", f"{host} {path}".lower()).strip("-")
    return (slug or "feed")[:80]


def check_format(value: str) -> str:
    if value not in FEED_FORMATS:
        raise InputError(f"unknown feed format {value!r}: use {', '.join(FEED_FORMATS)}")
    return value


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class FeedRegistry:
    def __init__(self, sessions: sessionmaker[Session], policy: AddressPolicy) -> None:
        self.sessions = sessions
        self.policy = policy

    def add(
        self,
        url: str,
        *,
        name: str | None = None,
        source: str | None = None,
        interval_seconds: int | None = None,
        fetch_pages: bool = False,
        format: str = "auto",
        language: str | None = None,
    ) -> Feed:
        location = feed_url(url, self.policy)
        feed_name = (name or default_feed_name(location)).strip()
        if not feed_name:
            raise InputError("empty feed name")
        with self.sessions.begin() as session:
            source_id = repo.get_or_create_source(session, source or feed_name).id
            try:
                return feed_repo.add_feed(
                    session,
                    name=feed_name,
                    url=location,
                    source_id=source_id,
                    interval_seconds=interval_seconds,
                    fetch_pages=fetch_pages,
                    format=check_format(format),
                    language=language,
                )
            except ExistsError as exc:
                raise InputError(f"a feed named {feed_name!r} already exists (use --name to choose another)") from exc

    def remove(self, name: str) -> Feed:
        with self.sessions.begin() as session:
            try:
                return feed_repo.remove_feed(session, name)
            except NotFoundError as exc:
                raise InputError(f"no feed named {name!r} (see `newsdedup feeds list`)") from exc

    def sync(self, specs: list[FeedSpec], prune: bool = False) -> SyncReport:
        """Register every declared feed; update changed declarations; with ``prune``, remove the rest.

        Everything is checked before anything is written, in one transaction.
        """
        report = SyncReport()
        checked = []
        for spec in specs:
            try:
                checked.append((spec, feed_url(spec.url, self.policy), check_format(spec.format)))
            except InputError as exc:
                raise ConfigError(f"feed {spec.name!r}: {exc}") from exc
        with self.sessions.begin() as session:
            stored = {feed.name: feed for feed in feed_repo.active_feeds(session, include_paused=True)}
            for spec, url, fmt in checked:
                source_id = repo.get_or_create_source(session, spec.source).id
                feed = stored.get(spec.name)
                if feed is None:
                    feed_repo.add_feed(
                        session,
                        name=spec.name,
                        url=url,
                        source_id=source_id,
                        interval_seconds=spec.interval_seconds,
                        fetch_pages=spec.fetch_pages,
                        format=fmt,
                        language=spec.language,
                    )
                    report.added.append(spec.name)
                    continue
                changed = feed_repo.declare_feed(
                    session,
                    feed,
                    url=url,
                    source_id=source_id,
                    interval_seconds=spec.interval_seconds,
                    fetch_pages=spec.fetch_pages,
                    format=fmt,
                    language=spec.language,
                )
                (report.updated if changed else report.unchanged).append(spec.name)
            if prune:
                declared = {spec.name for spec in specs}
                for name, feed in sorted(stored.items()):
                    if name not in declared and feed.removed_at is None:
                        feed_repo.remove_feed(session, name)
                        report.removed.append(name)
        return report

    def revert_url(self, name: str) -> tuple[str, str]:
        """Undo the last URL change of a feed (a permanent redirect we followed); (from, to)."""
        with self.sessions.begin() as session:
            try:
                feed = feed_repo.feeds_named(session, [name])[0]
            except NotFoundError as exc:
                raise InputError(f"no feed named {name!r} (see `newsdedup feeds list`)") from exc
            changes = feed_repo.url_changes(session, feed.id)
            if not changes:
                raise InputError(f"feed {name!r} never changed its URL: nothing to revert")
            previous = changes[-1].old_url
            current = feed.url
            feed_repo.change_feed_url(session, feed, previous, reason="revert")
            feed.etag = None
            feed.last_modified = None
            return current, previous
