"""One fetch cycle over a set of feeds: retrieve in parallel, then store one feed at a time.

Stage 1, in a thread pool (network I/O): conditional GET through the shared client, body-hash
check, parsing, entry identity against the store (reads only) and article pages for
summary-only entries. Stage 2, in the calling thread, as each feed's retrieval completes: the
pipeline (raw bytes, fetch row, one transaction per article) and the feed's health and schedule.
Keeping stage 2 in one thread means cleaning and dedupe never run concurrently, whatever state
they keep; their cost is CPU-bound anyway.

Errors are values: every feed gets a ``FeedResult``; one bad feed never stops the cycle, and
every attempt that reached the network (or the disk) leaves a fetch row.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from config import FetchSettings
from ingest.documents import ParsedDocument
from ingest.errors import FetchError, NewsdedupError
from ingest.fetching.charset import effective_media_type
from ingest.fetching.client import PAGE_ACCEPT, FetchedResponse, HttpClient, Validators
from ingest.fetching.errors import HostDeferred, HTTPStatusError, NotAFeedError
from ingest.fetching.files import list_directory, path_of_file_url, read_capped
from ingest.fetching.hints import ServerHints
from ingest.fetching.hosts import HostGate, host_of
from ingest.fetching.identity import (
    LINK_IDENTITY,
    KnownEntry,
    Resolution,
    candidate_keys,
    guids_unstable,
    resolve_entry_keys,
)
from ingest.fetching.schedule import SchedulePolicy
from ingest.formats import detect_format, parse_feed
from ingest.pipeline import ArticleOutcome, IngestResult, Input, Pipeline, content_hash
from store import feed_repository as feed_repo
from store import repository as repo
from store.models import Article, Feed, utcnow

log = logging.getLogger(__name__)

_HTML_START = re.compile(
    rb"^(?:\s|<!--.*?-->|<\?xml[^>]*\?>)*<(?:!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL
)
WIRE_FORMATS = ("nitf", "ninjs")


# --- what goes in, what comes out -----------------------------------------------------------------


@dataclass(frozen=True)
class FeedTarget:
    """A snapshot of a stored feed taken before fetching; worker threads never share ORM rows."""

    id: int
    name: str
    url: str
    source: str
    source_id: int
    format: str = "auto"
    fetch_pages: bool = False
    interval_seconds: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_body_hash: str | None = None
    consecutive_errors: int = 0
    entry_identity: str = "guid"
    ttl_seconds: int | None = None
    language: str | None = None

    @classmethod
    def of(cls, feed: Feed, source: str) -> FeedTarget:
        return cls(
            id=feed.id,
            name=feed.name,
            url=feed.url,
            source=source,
            source_id=feed.source_id,
            format=feed.format,
            fetch_pages=feed.fetch_pages,
            interval_seconds=feed.interval_seconds,
            etag=feed.etag,
            last_modified=feed.last_modified,
            last_body_hash=feed.last_body_hash,
            consecutive_errors=feed.consecutive_errors,
            entry_identity=feed.entry_identity,
            ttl_seconds=feed.ttl_seconds,
            language=feed.language,
        )


@dataclass
class FeedResult:
    feed: str
    url: str
    status: str = "unchanged"  # new | updated | unchanged | not_modified | error | deferred
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    entry_errors: int = 0
    pages_fetched: int = 0
    pages_failed: int = 0
    pages_deferred: int = 0
    http_status: int | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    moved_to: str | None = None
    next_poll_at: datetime | None = None
    fetch_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcomes: Iterable[ArticleOutcome]) -> None:
        for outcome in outcomes:
            if outcome.status == "created":
                self.created += 1
            elif outcome.status == "updated":
                self.updated += 1
            elif outcome.status == "deleted":
                self.deleted += 1
            elif outcome.status == "error":
                self.entry_errors += 1
            else:
                self.unchanged += 1

    def settle(self) -> None:
        if self.status in ("error", "deferred", "not_modified"):
            return
        self.status = "new" if self.created else "updated" if self.updated else "unchanged"

    def line(self) -> str:
        """One line for the operator: new/updated/unchanged counts, not modified, or the error."""
        if self.status == "error":
            text = f"error: {self.error}"
        elif self.status == "deferred":
            text = f"deferred: {self.error}"
        elif self.status == "not_modified":
            text = "not modified"
        elif self.created or self.updated or self.deleted or self.entry_errors or self.unchanged:
            parts = [f"{self.created} new", f"{self.updated} updated", f"{self.unchanged} unchanged"]
            if self.deleted:
                parts.append(f"{self.deleted} deleted by an operator, not restored")
            if self.entry_errors:
                parts.append(f"{self.entry_errors} entry errors")
            text = ", ".join(parts)
        else:
            text = "unchanged"
        extras = []
        if self.pages_fetched or self.pages_failed:
            failed = f", {self.pages_failed} failed" if self.pages_failed else ""
            extras.append(f"{self.pages_fetched} pages fetched{failed}")
        if self.pages_deferred:
            extras.append(f"{self.pages_deferred} pages left for the next cycle")
        if self.moved_to:
            extras.append(f"moved permanently to {self.moved_to}")
        if self.warnings:
            extras.append(f"{len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''}")
        return f"{self.feed}: {text}" + (f" ({'; '.join(extras)})" if extras else "")

    def as_json(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "url": self.url,
            "status": self.status,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "entry_errors": self.entry_errors,
            "pages_fetched": self.pages_fetched,
            "pages_failed": self.pages_failed,
            "pages_deferred": self.pages_deferred,
            "http_status": self.http_status,
            "error": self.error,
            "warnings": self.warnings,
            "moved_to": self.moved_to,
            "next_poll_at": self.next_poll_at.isoformat() if self.next_poll_at else None,
            "fetch_ids": self.fetch_ids,
        }


# --- stage 1 products ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Body:
    url: str
    final_url: str
    status: int | None  # None for files
    headers: Mapping[str, str]
    body: bytes
    size: int
    response: FetchedResponse | None = None

    @property
    def media_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass
class _Page:
    document: ParsedDocument
    started_at: datetime
    known: bool
    response: FetchedResponse | None = None
    error: FetchError | None = None


@dataclass
class _DirectoryFile:
    url: str
    started_at: datetime
    body: bytes | None = None
    error: FetchError | None = None


@dataclass
class _Retrieved:
    target: FeedTarget
    started_at: datetime
    body: _Body | None = None
    error: FetchError | None = None
    deferred: HostDeferred | None = None
    host_block: tuple[str, datetime, str] | None = None
    unchanged: bool = False
    body_hash: str | None = None
    media_type: str | None = None
    format: str = "feed"
    documents: list[ParsedDocument] | None = None
    warnings: list[str] = field(default_factory=list)
    parse_error: str | None = None
    ttl_seconds: int | None = None
    resolution: Resolution | None = None
    pages: list[_Page] = field(default_factory=list)
    pages_deferred: int = 0
    skipped_known: int = 0
    directory: list[_DirectoryFile] | None = None
    directory_hash: str | None = None
    stopped: bool = False  # not started: the fetcher was asked to stop


# --- the fetcher ---------------------------------------------------------------------------------


class FeedFetcher:
    """Fetches feeds for the CLI and the daemon. Build once, use for many cycles, then ``close``."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        pipeline: Pipeline,
        settings: FetchSettings,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.pipeline = pipeline
        self.settings = settings
        self.gate = HostGate(settings.per_host_concurrency, settings.per_host_delay_seconds)
        self.http = HttpClient(settings, self.gate)
        self.policy = self.http.policy
        self.schedule = SchedulePolicy.from_settings(settings)
        self.rng = rng or random.Random()
        # Storing is serialised even when the daemon polls several feeds from its own threads.
        self._store_lock = threading.Lock()

    def close(self) -> None:
        self.http.close()
        self.pipeline.close()

    def __enter__(self) -> FeedFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- choosing feeds -----------------------------------------------------------------------

    def targets(self, names: Sequence[str] = (), every: bool = False, now: datetime | None = None) -> list[FeedTarget]:
        """Named feeds (paused ones too), or every active feed, or the feeds due now."""
        with self.sessions() as session:
            if names:
                feeds = feed_repo.feeds_named(session, names)
            elif every:
                feeds = feed_repo.active_feeds(session)
            else:
                feeds = feed_repo.due_feeds(session, now or utcnow())
            return [FeedTarget.of(feed, repo.get_source(session, feed.source_id).name) for feed in feeds]

    def target(self, feed_id: int) -> FeedTarget:
        with self.sessions() as session:
            feed = feed_repo.get_feed_by_id(session, feed_id)
            return FeedTarget.of(feed, repo.get_source(session, feed.source_id).name)

    # --- the cycle ----------------------------------------------------------------------------

    def run(
        self, targets: Sequence[FeedTarget], force: bool = False, stop: threading.Event | None = None
    ) -> Iterator[FeedResult]:
        """Fetch every target; yield each feed's result once it is stored.

        Once ``stop`` is set, feeds not yet started are not fetched and pending page fetches wait
        for the next cycle; what was retrieved is still stored.
        """
        stop = stop or threading.Event()
        self._load_host_limits()
        ordered = _interleave_by_host(targets)
        workers = max(1, min(self.settings.max_concurrency, len(ordered)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            pending: set[Future[_Retrieved]] = {
                pool.submit(self._retrieve_safely, target, force, stop) for target in ordered
            }
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield self._store_safely(future.result())

    def fetch_one(self, feed_id: int, force: bool = False, stop: threading.Event | None = None) -> FeedResult:
        """One feed now, in this thread (the daemon's per-feed job); safe to call from several threads."""
        self._load_host_limits()
        return self._store_safely(self._retrieve_safely(self.target(feed_id), force, stop or threading.Event()))

    # --- stage 1: network and parsing ----------------------------------------------------------

    def _retrieve_safely(self, target: FeedTarget, force: bool, stop: threading.Event) -> _Retrieved:
        started = utcnow()
        if stop.is_set():
            retrieved = _Retrieved(target, started)
            retrieved.stopped = True
            return retrieved
        try:
            return self._retrieve(target, force, started, stop)
        except Exception as exc:  # a bug must cost one feed, not the cycle
            log.exception("fetching feed %s failed unexpectedly", target.name)
            retrieved = _Retrieved(target, started)
            retrieved.error = FetchError(target.url, f"internal error: {type(exc).__name__}: {exc}")
            return retrieved

    def _retrieve(self, target: FeedTarget, force: bool, started: datetime, stop: threading.Event) -> _Retrieved:
        retrieved = _Retrieved(target, started)
        try:
            scheme = self.policy.check_url(target.url)
            if scheme == "file":
                path = path_of_file_url(target.url)
                if path.is_dir():
                    self._read_directory(retrieved, path, force, stop)
                    return retrieved
                data = read_capped(path, self.settings.max_body_bytes, target.url)
                retrieved.body = _Body(target.url, target.url, None, {}, data, len(data))
            else:
                validators = None if force else Validators(target.etag, target.last_modified)
                response = self.http.get(target.url, validators=validators)
                retrieved.body = _Body(
                    target.url, response.final_url, response.status, response.headers, response.body,
                    response.wire_bytes, response,
                )
                if response.status == 304:
                    return retrieved
        except HostDeferred as exc:
            retrieved.deferred = exc
            return retrieved
        except FetchError as exc:
            retrieved.error = exc
            self._slow_host_down(retrieved, exc)
            return retrieved
        body = retrieved.body
        retrieved.body_hash = content_hash(body.body)
        if not force and retrieved.body_hash == target.last_body_hash:
            retrieved.unchanged = True
            return retrieved
        retrieved.media_type = effective_media_type(body.media_type, body.body)
        retrieved.format = self._format_of(target, body.body, retrieved.media_type)
        if retrieved.format == "feed":
            self._parse_feed(retrieved, stop)
        return retrieved

    def _slow_host_down(self, retrieved: _Retrieved, exc: FetchError) -> None:
        if not isinstance(exc, HTTPStatusError):
            return
        if exc.status != 429 and not (exc.status == 503 and exc.retry_after is not None):
            return
        now = utcnow()
        until = exc.retry_after or now + timedelta(seconds=self.schedule.min_interval)
        until = min(until, now + timedelta(seconds=self.schedule.max_retry_after))
        host = host_of(exc.url)
        reason = f"asked to slow down (HTTP {exc.status})"
        self.gate.block(host, until, reason)
        retrieved.host_block = (host, until, reason)

    @staticmethod
    def _format_of(target: FeedTarget, body: bytes, media_type: str | None) -> str:
        if target.format != "auto":
            return target.format
        detected = detect_format(body, "", None)
        return detected if detected in WIRE_FORMATS else "feed"

    def _parse_feed(self, retrieved: _Retrieved, stop: threading.Event) -> None:
        body = retrieved.body
        assert body is not None
        if _HTML_START.match(body.body[:4096]):
            shown = retrieved.media_type or "no Content-Type"
            error = NotAFeedError(body.final_url, f"served an HTML page ({shown}), not a feed")
            retrieved.parse_error = str(error)
            return
        # Files and sloppy servers give no Content-Type; feedparser would call that malformed.
        headers = {"content-location": body.final_url, "content-type": retrieved.media_type or "application/xml"}
        try:
            parsed = parse_feed(body.body, body.final_url, headers)
        except NewsdedupError as exc:
            retrieved.parse_error = str(exc)
            return
        retrieved.warnings = [*parsed.warnings, *parsed.entry_errors]
        retrieved.ttl_seconds = parsed.ttl_seconds
        if not parsed.documents and not parsed.entry_errors:
            retrieved.warnings.append(f"{body.final_url}: feed has no entries")
        for document in parsed.documents:
            document.language = document.language or parsed.language or retrieved.target.language
        retrieved.resolution = self._resolve(retrieved.target, parsed.documents)
        retrieved.documents = retrieved.resolution.documents
        if retrieved.target.fetch_pages:
            self._fetch_pages(retrieved, stop)

    def _resolve(self, target: FeedTarget, documents: list[ParsedDocument]) -> Resolution:
        urls = [d.url for d in documents if d.url]
        with self.sessions() as session:
            by_key = feed_repo.articles_by_keys(session, target.source_id, candidate_keys(documents))
            by_url = feed_repo.articles_by_urls(session, target.source_id, urls)
            raw_ids = {a.raw_document_id for a in [*by_key.values(), *by_url] if a.raw_document_id}
            formats = feed_repo.raw_document_formats(session, raw_ids)
        known_by_key = {key: _known(article, formats) for key, article in by_key.items()}
        known_by_url: dict[str, list[KnownEntry]] = {}
        for article in by_url:
            if article.url:
                known_by_url.setdefault(article.url, []).append(_known(article, formats))
        return resolve_entry_keys(documents, known_by_key, known_by_url, target.entry_identity)

    def _fetch_pages(self, retrieved: _Retrieved, stop: threading.Event) -> None:
        """Article pages for entries that carry only a summary: new entries, or updated ones."""
        assert retrieved.documents is not None and retrieved.resolution is not None
        keep: list[ParsedDocument] = []
        wanted: list[tuple[ParsedDocument, bool]] = []
        for document in retrieved.documents:
            known = retrieved.resolution.known.get(document.entry_key)
            fetchable = document.from_summary and bool(document.url) and str(document.url).startswith(("http://", "https://"))
            if not fetchable or (known is not None and known.deleted):
                keep.append(document)
            elif known is None:
                wanted.append((document, False))
            elif known.from_page:
                updated = document.updated_at and known.modified_at and document.updated_at > known.modified_at
                if updated:
                    wanted.append((document, True))
                else:
                    # Stored from its page: the summary must not overwrite the full text.
                    retrieved.skipped_known += 1
            else:
                keep.append(document)
        budget = max(0, self.settings.max_pages_per_feed)
        for index, (document, known_entry) in enumerate(wanted):
            if index >= budget or stop.is_set():
                retrieved.pages_deferred += 1
                continue
            page = _Page(document, utcnow(), known_entry)
            try:
                page.response = self.http.get(str(document.url), accept=PAGE_ACCEPT)
            except HostDeferred:
                retrieved.pages_deferred += 1
                continue
            except FetchError as exc:
                page.error = exc
                self._slow_host_down(retrieved, exc)
                if not known_entry:
                    keep.append(document)  # the summary, rather than nothing
            retrieved.pages.append(page)
        retrieved.documents = keep

    def _read_directory(self, retrieved: _Retrieved, path: Path, force: bool, stop: threading.Event) -> None:
        target = retrieved.target
        entries = list_directory(path, target.url, self.settings.max_directory_files)
        files: list[_DirectoryFile] = []
        for entry in entries:
            if stop.is_set():
                break  # the manifest then differs next time, and the files not read yet are new
            item = _DirectoryFile(entry.url, utcnow())
            try:
                item.body = read_capped(entry.path, self.settings.max_body_bytes, entry.url)
            except FetchError as exc:
                item.error = exc
            files.append(item)
        manifest = "\n".join(
            f"{f.url}\t{content_hash(f.body) if f.body is not None else 'error'}" for f in files
        ).encode("utf-8")
        retrieved.directory_hash = content_hash(manifest)
        if not force and retrieved.directory_hash == target.last_body_hash:
            retrieved.unchanged = True
            retrieved.body_hash = retrieved.directory_hash
            return
        if not force:
            with self.sessions() as session:
                seen = feed_repo.hashes_fetched_for_feed(
                    session, target.id, [content_hash(f.body) for f in files if f.body is not None]
                )
            files = [f for f in files if f.body is None or content_hash(f.body) not in seen]
        retrieved.directory = files

    # --- stage 2: storing ------------------------------------------------------------------------

    def _store_safely(self, retrieved: _Retrieved) -> FeedResult:
        began = time.monotonic()
        target = retrieved.target
        try:
            with self._store_lock:
                result = self._store(retrieved)
        except Exception as exc:
            log.exception("storing feed %s failed", target.name)
            result = FeedResult(target.name, target.url, status="error", error=f"{type(exc).__name__}: {exc}")
            try:
                self._record_error(retrieved, result.error or "", None)
            except Exception:
                log.exception("could not record the failure of feed %s", target.name)
        result.settle()
        result.seconds = time.monotonic() - began
        return result

    def _store(self, retrieved: _Retrieved) -> FeedResult:
        target = retrieved.target
        result = FeedResult(target.name, target.url)
        now = utcnow()
        if retrieved.stopped:
            result.status = "deferred"
            result.error = "not fetched: stopping"
            return result
        if retrieved.deferred is not None:
            deferred = retrieved.deferred
            result.status = "deferred"
            after = deferred.until.isoformat(timespec="seconds")
            result.error = f"{deferred.host} {deferred.reason}; next try after {after}"
            with self.sessions.begin() as session:
                feed_repo.postpone_feeds(session, [target.id], retrieved.deferred.until)
            result.next_poll_at = retrieved.deferred.until
            return result
        if retrieved.error is not None:
            return self._store_error(retrieved, result, retrieved.error)
        if retrieved.directory_hash is not None:
            if not retrieved.unchanged:
                return self._store_directory(retrieved, result)
            result.fetch_ids.append(self._record(retrieved, outcome="unchanged", url=target.url))
            self._success(retrieved, result, now, validators=None)
            return result
        body = retrieved.body
        assert body is not None
        result.http_status = body.status
        if body.status == 304:
            result.status = "not_modified"
            result.fetch_ids.append(self._record(retrieved, outcome="not_modified", url=body.final_url))
            self._success(retrieved, result, now, validators=body.response.validators if body.response else None)
            return result
        if retrieved.unchanged:
            with self.sessions() as session:
                raw = feed_repo.raw_document_by_hash(session, retrieved.body_hash or "")
                raw_id = raw.id if raw is not None else None
            result.fetch_ids.append(
                self._record(retrieved, outcome="unchanged", url=body.final_url, raw_document_id=raw_id)
            )
            self._success(retrieved, result, now, validators=_validators(body), body_hash=retrieved.body_hash)
            return result
        if retrieved.parse_error is not None:
            with self.sessions.begin() as session:
                raw_id = repo.store_raw_document(
                    session, retrieved.body_hash or content_hash(body.body), body.body, url=body.final_url,
                    media_type=retrieved.media_type, format=retrieved.format, headers=dict(body.headers) or None,
                )
                fetch_id = repo.record_fetch(
                    session, url=body.final_url, outcome="error", started_at=retrieved.started_at,
                    feed_id=target.id, http_status=body.status, size=body.size, raw_document_id=raw_id,
                    error=retrieved.parse_error,
                )
                result.fetch_ids.append(fetch_id)
            return self._failure(retrieved, result, retrieved.parse_error, None)
        return self._store_body(retrieved, result, now)

    def _input(self, retrieved: _Retrieved, body: bytes, **values: Any) -> Input:
        target = retrieved.target
        return Input(body=body, source=target.source, feed_id=target.id, **values)

    def _store_body(self, retrieved: _Retrieved, result: FeedResult, now: datetime) -> FeedResult:
        body = retrieved.body
        assert body is not None
        common = {
            "location": body.final_url,
            "url": body.final_url,
            "format": retrieved.format,
            "media_type": retrieved.media_type,
            "headers": dict(body.headers) or None,
            "http_status": body.status,
            "started_at": retrieved.started_at,
        }
        if retrieved.documents is not None:
            ingested = self.pipeline.ingest(
                self._input(retrieved, body.body, documents=retrieved.documents, warnings=retrieved.warnings, **common)
            )
        else:
            ingested = self.pipeline.ingest(self._input(retrieved, body.body, **common))
        self._absorb(result, ingested)
        result.unchanged += retrieved.skipped_known
        fallbacks = self._store_pages(retrieved, result)
        if fallbacks:
            again = self.pipeline.ingest(
                self._input(retrieved, body.body, documents=fallbacks, warnings=(), **common)
            )
            self._absorb(result, again)
        self._persist_host_block(retrieved)
        complete = retrieved.pages_deferred == 0 and not fallbacks
        if ingested.error is not None:
            return self._failure(retrieved, result, ingested.error, None)
        # Work left for the next cycle: neither a 304 nor the body hash may let it skip this body.
        self._success(
            retrieved, result, now, validators=_validators(body) if complete else Validators(),
            body_hash=retrieved.body_hash if complete else None, keep_hash=not complete,
        )
        return result

    def _absorb(self, result: FeedResult, ingested: IngestResult) -> None:
        result.count(ingested.articles)
        result.warnings.extend(ingested.warnings)
        if ingested.fetch_id is not None:
            result.fetch_ids.append(ingested.fetch_id)

    def _store_pages(self, retrieved: _Retrieved, result: FeedResult) -> list[ParsedDocument]:
        """Ingest fetched pages; record failed ones. Returns summaries to use where a page failed."""
        target = retrieved.target
        fallbacks: list[ParsedDocument] = []
        result.pages_deferred = retrieved.pages_deferred
        for page in retrieved.pages:
            document = page.document
            if page.error is not None:
                result.pages_failed += 1
                with self.sessions.begin() as session:
                    fetch_id = repo.record_fetch(
                        session, url=str(document.url), outcome="error", started_at=page.started_at,
                        feed_id=target.id, http_status=page.error.status, error=str(page.error),
                    )
                    result.fetch_ids.append(fetch_id)
                continue
            response = page.response
            assert response is not None
            result.pages_fetched += 1
            ingested = self.pipeline.ingest(
                self._input(
                    retrieved, response.body, location=response.final_url, url=document.url,
                    entry_key=document.entry_key, format="html",
                    media_type=effective_media_type(response.media_type, response.body),
                    headers=dict(response.headers), http_status=response.status, started_at=page.started_at,
                )
            )
            self._absorb(result, ingested)
            if ingested.error is not None and not page.known:
                fallbacks.append(document)
        return fallbacks

    def _store_directory(self, retrieved: _Retrieved, result: FeedResult) -> FeedResult:
        target = retrieved.target
        now = utcnow()
        files = retrieved.directory or []
        failures = 0
        for item in files:
            if item.body is None:
                failures += 1
                assert item.error is not None
                with self.sessions.begin() as session:
                    fetch_id = repo.record_fetch(
                        session, url=item.url, outcome="error", started_at=item.started_at, feed_id=target.id,
                        error=str(item.error),
                    )
                    result.fetch_ids.append(fetch_id)
                result.entry_errors += 1
                continue
            fmt = target.format if target.format != "auto" else detect_format(item.body, item.url)
            ingested = self.pipeline.ingest(
                self._input(retrieved, item.body, location=item.url, url=None, format=fmt, started_at=item.started_at)
            )
            self._absorb(result, ingested)
            if ingested.error is not None:
                failures += 1
        if not files:
            result.fetch_ids.append(self._record(retrieved, outcome="unchanged", url=target.url))
        if files and failures == len(files):
            return self._failure(retrieved, result, f"{target.url}: none of {len(files)} files could be ingested", None)
        self._success(retrieved, result, now, validators=None, body_hash=retrieved.directory_hash)
        return result

    def _store_error(self, retrieved: _Retrieved, result: FeedResult, error: FetchError) -> FeedResult:
        result.http_status = error.status
        result.fetch_ids.append(self._record_error(retrieved, str(error), error.status))
        retry_after = error.retry_after if isinstance(error, HTTPStatusError) else None
        self._persist_host_block(retrieved)
        return self._failure(retrieved, result, str(error), retry_after)

    def _persist_host_block(self, retrieved: _Retrieved) -> None:
        """A host that asked us to slow down: remember it, and postpone every feed on it."""
        if retrieved.host_block is None:
            return
        host, until, reason = retrieved.host_block
        with self.sessions.begin() as session:
            feed_repo.limit_host(session, host, until, reason)
            feeds = feed_repo.active_feeds(session, include_paused=True)
            same_host = [f.id for f in feeds if host_of(f.url) == host and f.id != retrieved.target.id]
            feed_repo.postpone_feeds(session, same_host, until)

    # --- rows and health ----------------------------------------------------------------------

    def _record(self, retrieved: _Retrieved, *, outcome: str, url: str, raw_document_id: int | None = None) -> int:
        body = retrieved.body
        with self.sessions.begin() as session:
            fetch_id = repo.record_fetch(
                session, url=url, outcome=outcome, started_at=retrieved.started_at, feed_id=retrieved.target.id,
                http_status=body.status if body else None, size=body.size if body else None,
                raw_document_id=raw_document_id,
            )
            return fetch_id

    def _record_error(self, retrieved: _Retrieved, message: str, status: int | None) -> int:
        with self.sessions.begin() as session:
            fetch_id = repo.record_fetch(
                session, url=retrieved.target.url, outcome="error", started_at=retrieved.started_at,
                feed_id=retrieved.target.id, http_status=status, error=message,
            )
            return fetch_id

    def _success(
        self,
        retrieved: _Retrieved,
        result: FeedResult,
        now: datetime,
        *,
        validators: Validators | None,
        body_hash: str | None = None,
        keep_hash: bool = False,
    ) -> None:
        target = retrieved.target
        body = retrieved.body
        hints = ServerHints.from_headers(body.headers, now) if body is not None else ServerHints()
        with self.sessions.begin() as session:
            feed = feed_repo.get_feed_by_id(session, target.id)
            feed.last_fetch_at = now
            feed.last_success_at = now
            feed.consecutive_errors = 0
            feed.last_error = None
            if validators is not None:
                if body is not None and body.status == 304:
                    # A 304 may refresh the validators; one without them keeps the old ones.
                    feed.etag = validators.etag or feed.etag
                    feed.last_modified = validators.last_modified or feed.last_modified
                else:
                    feed.etag = validators.etag
                    feed.last_modified = validators.last_modified
            if body_hash is not None:
                feed.last_body_hash = body_hash
            elif keep_hash:
                feed.last_body_hash = None
            if retrieved.documents is not None:
                feed.ttl_seconds = retrieved.ttl_seconds
            resolution = retrieved.resolution
            if resolution is not None and feed.entry_identity != LINK_IDENTITY and guids_unstable(resolution):
                feed.entry_identity = LINK_IDENTITY
                log.warning("feed %s changes its GUIDs between fetches: entries are now keyed by link", target.name)
            if body is not None and body.response is not None:
                moved = body.response.permanent_url
                if moved and moved != feed.url:
                    status = next(h.status for h in body.response.hops if h.location == moved)
                    feed_repo.change_feed_url(session, feed, moved, reason="permanent_redirect", http_status=status)
                    result.moved_to = moved
            feed.next_poll_at = self.schedule.after_success(now, feed.interval_seconds, hints, feed.ttl_seconds)
            result.next_poll_at = feed.next_poll_at

    def _failure(
        self, retrieved: _Retrieved, result: FeedResult, message: str, retry_after: datetime | None
    ) -> FeedResult:
        now = utcnow()
        result.status = "error"
        result.error = message
        with self.sessions.begin() as session:
            feed = feed_repo.get_feed_by_id(session, retrieved.target.id)
            feed.last_fetch_at = now
            feed.consecutive_errors += 1
            feed.last_error = message[:4000]
            feed.next_poll_at = self.schedule.after_error(
                now, feed.interval_seconds, feed.consecutive_errors, self.rng, retry_after
            )
            result.next_poll_at = feed.next_poll_at
        return result

    def _load_host_limits(self) -> None:
        with self.sessions() as session:
            for limit in feed_repo.host_limits(session, utcnow()):
                self.gate.block(limit.host, limit.not_before, limit.reason or "asked to slow down")


def _validators(body: _Body) -> Validators | None:
    return body.response.validators if body.response is not None else None


def _known(article: Article, formats: Mapping[int, str]) -> KnownEntry:
    return KnownEntry(
        entry_key=article.entry_key,
        url=article.url,
        title=article.title,
        published_at=article.published_at,
        modified_at=article.modified_at,
        deleted=article.deleted_at is not None,
        from_page=formats.get(article.raw_document_id or -1) == "html",
    )


def _interleave_by_host(targets: Sequence[FeedTarget]) -> list[FeedTarget]:
    """Round-robin over hosts, so workers do not all queue on one host's slots."""
    by_host: dict[str, list[FeedTarget]] = {}
    for target in targets:
        by_host.setdefault(host_of(target.url), []).append(target)
    queues = list(by_host.values())
    ordered: list[FeedTarget] = []
    while queues:
        for queue in list(queues):
            ordered.append(queue.pop(0))
            if not queue:
                queues.remove(queue)
    return ordered
