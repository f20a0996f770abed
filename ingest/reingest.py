"""Re-run parsing, cleaning and dedupe for stored articles from their raw documents.

Never touches the network: the exact bytes are in ``raw_documents``. Each article is handled in
a transaction of its own: the pipeline saves the article again, the stored state before and
after is compared, and the transaction commits only when something a consumer can see changed.
That makes a second run a no-op (no version bump, no change-log event) and makes ``--dry-run``
the same code path ending in a rollback.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ingest.documents import ParsedDocument
from ingest.errors import NewsdedupError, ParseError
from ingest.fetching.identity import link_key
from ingest.formats import parse_feed
from ingest.pipeline import Input, Pipeline
from store import StorageError, admin
from store import repository as repo
from store.models import Article, ArticleChange, Feed, RawDocument

log = logging.getLogger(__name__)

PARSED_CACHE_SIZE = 16
TEXT_PREVIEW = 100


@dataclass(frozen=True)
class Change:
    """One line of a per-article diff: ``+`` added, ``-`` removed, ``~`` changed in place."""

    sign: str
    what: str
    text: str

    def render(self) -> str:
        return f"  {self.sign} {self.what}: {self.text}" if self.what else f"  {self.sign} {self.text}"


@dataclass(frozen=True)
class ArticleDiff:
    changes: tuple[Change, ...] = ()
    paragraphs_added: int = 0
    paragraphs_removed: int = 0
    canonical: tuple[int | None, int | None] | None = None
    links_changed: int = 0

    @property
    def empty(self) -> bool:
        return not self.changes

    def summary(self) -> str:
        parts = []
        if self.paragraphs_added:
            parts.append(f"+{self.paragraphs_added} paragraphs")
        if self.paragraphs_removed:
            parts.append(f"-{self.paragraphs_removed} paragraphs")
        if self.canonical is not None:
            parts.append(f"canonical {self.canonical[0]} -> {self.canonical[1]}")
        if self.links_changed:
            parts.append(f"{self.links_changed} duplicate links changed")
        other = len(self.changes) - self.paragraphs_added - self.paragraphs_removed - (self.canonical is not None)
        other -= self.links_changed
        if other > 0:
            parts.append(f"{other} other changes")
        return ", ".join(parts)


@dataclass(frozen=True)
class ReingestOutcome:
    article_id: int
    # updated | would_update | unchanged | deleted (tombstone, left alone) | skipped | error
    status: str
    title: str | None = None
    diff: ArticleDiff = field(default_factory=ArticleDiff)
    error: str | None = None


def _preview(text: Any) -> str:
    value = str(text)
    return value if len(value) <= TEXT_PREVIEW else value[: TEXT_PREVIEW - 1] + "…"


def _link(paragraph: dict[str, Any]) -> str:
    if paragraph.get("duplicate_of_article_id") is None:
        return "original"
    tier = paragraph.get("duplicate_tier") or "?"
    return f"duplicate of article {paragraph['duplicate_of_article_id']} #{paragraph['duplicate_of_position']} ({tier})"


_SHOWN_FIELDS = ("title", "subtitle", "byline", "credit", "agencies", "url", "language", "published_at")


def diff_snapshots(
    before: admin.ArticleSnapshot, after: admin.ArticleSnapshot, other_events: Iterable[ArticleChange] = ()
) -> ArticleDiff:
    """What a consumer would see change between two snapshots of one article."""
    changes: list[Change] = []
    canonical: tuple[int | None, int | None] | None = None
    old_fields, new_fields = dict(before.fields), dict(after.fields)
    for name in sorted(set(old_fields) | set(new_fields)):
        old, new = old_fields.get(name), new_fields.get(name)
        if old == new:
            continue
        if name == "canonical_id":
            canonical = (old, new)
            changes.append(Change("~", "canonical", f"{old} -> {new}"))
        elif name in _SHOWN_FIELDS:
            changes.append(Change("~", name, f"{_preview(old)!r} -> {_preview(new)!r}"))
        else:
            changes.append(Change("~", name, "changed"))

    old_paragraphs, new_paragraphs = before.paragraph_dicts(), after.paragraph_dicts()
    old_keys = [(p["kind"], p["text"]) for p in old_paragraphs]
    new_keys = [(p["kind"], p["text"]) for p in new_paragraphs]
    added = removed = relinked = 0
    recomputed = 0
    matcher = difflib.SequenceMatcher(a=old_keys, b=new_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for old_p, new_p in zip(old_paragraphs[i1:i2], new_paragraphs[j1:j2], strict=True):
                if _link(old_p) != _link(new_p):
                    relinked += 1
                    changes.append(Change("~", f"#{new_p['position']}", f"{_link(old_p)} -> {_link(new_p)}"))
                elif {k: v for k, v in old_p.items() if k != "position"} != {
                    k: v for k, v in new_p.items() if k != "position"
                }:
                    recomputed += 1
            continue
        for old_p in old_paragraphs[i1:i2]:
            removed += 1
            changes.append(Change("-", old_p["kind"], _preview(old_p["text"])))
        for new_p in new_paragraphs[j1:j2]:
            added += 1
            changes.append(Change("+", f"{new_p['kind']} #{new_p['position']}", _preview(new_p["text"])))
    if recomputed:
        changes.append(Change("~", "", f"{recomputed} paragraphs with recomputed hashes, signatures or scores"))

    old_removals = Counter((r["reason"], r["text"]) for r in before.removal_dicts())
    new_removals = Counter((r["reason"], r["text"]) for r in after.removal_dicts())
    for reason, text in sorted((new_removals - old_removals).elements()):
        changes.append(Change("+", f"removed ({reason})", _preview(text)))
    for reason, text in sorted((old_removals - new_removals).elements()):
        changes.append(Change("-", f"removed ({reason})", _preview(text)))
    if not (new_removals - old_removals) and not (old_removals - new_removals) and before.removals != after.removals:
        changes.append(Change("~", "", "removal details recomputed"))

    for event in other_events:
        changes.append(Change("~", f"article {event.article_id}", f"{event.change} (change-log seq {event.seq})"))
    return ArticleDiff(tuple(changes), added, removed, canonical, relinked)


def match_entry(
    documents: list[ParsedDocument], entry_key: str, url: str | None, only_entry: bool = False
) -> ParsedDocument | None:
    """The entry of a parsed feed (or wire file) that a stored article was made from.

    By its key first. The fetcher may have stored the entry under another key than the one
    parsed today (a feed whose GUIDs change is keyed by link; a re-keyed entry keeps its first
    key), so then by link key, then by the one entry with the article's URL; ``only_entry``: then
    the document's only entry (a wire file whose single story was keyed when it was stored).
    """
    for document in documents:
        if document.entry_key == entry_key:
            return document
    for document in documents:
        if document.url and link_key(document.url) == entry_key:
            return document
    same_url = [d for d in documents if url and d.url == url]
    if len(same_url) == 1:
        return same_url[0]
    if only_entry and len(documents) == 1:
        return documents[0]
    return None


class EntryNotFoundError(NewsdedupError):
    def __init__(self, raw_document_id: int, entry_key: str) -> None:
        super().__init__(f"raw document {raw_document_id}: no entry {entry_key!r} in it any more")


@dataclass(frozen=True)
class _Context:
    """What an article was ingested from, read before the write transaction."""

    article_id: int
    raw_document_id: int
    raw_url: str | None
    entry_key: str
    source_id: int
    title: str | None
    # Set for articles that came from a feed the fetcher polls: its feed parse context applies.
    feed_language: str | None
    fetched: bool
    item: Input


# Formats whose single document takes its entry key from the input; the others (feeds, wire
# formats) carry their own keys, one per entry.
SINGLE_DOCUMENT_FORMATS = frozenset({"text", "html"})


class Reingester:
    """Re-processes selected articles; one transaction per article, errors returned as values."""

    def __init__(self, pipeline: Pipeline, read_sessions: sessionmaker[Session] | None = None) -> None:
        self.pipeline = pipeline
        self.sessions = pipeline.sessions
        self.read_sessions = read_sessions or pipeline.sessions
        self._parsed: OrderedDict[int, list[ParsedDocument]] = OrderedDict()

    def select(self, selection: admin.ArticleSelection) -> list[int]:
        with self.read_sessions() as session, session.begin():
            return [article_id for article_id, _raw in admin.select_articles(session, selection)]

    # --- one article ----------------------------------------------------------------------

    def run_one(self, article_id: int, dry_run: bool = False) -> ReingestOutcome:
        try:
            context = self._prepare(article_id)
            if isinstance(context, ReingestOutcome):
                return context
            document = self._document(context)
            self.pipeline.ready()  # before the write transaction: it may read in one of its own
            return self._apply(context, document, dry_run)
        except (NewsdedupError, StorageError) as exc:
            return ReingestOutcome(article_id, "error", error=str(exc))
        except Exception as exc:  # errors as values: one bad article never stops the run
            log.exception("reingest of article %s failed", article_id)
            return ReingestOutcome(article_id, "error", error=f"article {article_id}: {type(exc).__name__}: {exc}")

    def _prepare(self, article_id: int) -> _Context | ReingestOutcome:
        with self.read_sessions() as session, session.begin():
            article = repo.get_article(session, article_id)
            if article.deleted_at is not None:
                return ReingestOutcome(article_id, "deleted", article.title)
            if article.raw_document_id is None:
                return ReingestOutcome(article_id, "skipped", article.title, error="no raw document stored")
            raw = repo.get_raw_document(session, article.raw_document_id)
            source = repo.get_source(session, article.source_id)
            feed = session.get(Feed, article.feed_id) if article.feed_id is not None else None
            return _Context(
                article_id=article.id,
                raw_document_id=raw.id,
                raw_url=raw.url,
                entry_key=article.entry_key,
                source_id=source.id,
                title=article.title,
                feed_language=feed.language if feed is not None else None,
                fetched=feed is not None,
                item=self._input(raw, source.name, article),
            )

    @staticmethod
    def _input(raw: RawDocument, source: str, article: Article) -> Input:
        """The input as the pipeline saw it: stored bytes, the article's key, URL and feed."""
        try:
            body = repo.raw_document_bytes(raw)
        except Exception as exc:
            raise ParseError(f"raw document {raw.id}", f"cannot read the stored bytes: {exc}") from exc
        return Input(
            body=body,
            source=source,
            location=f"{raw.url or 'raw document'} (raw document {raw.id})",
            url=article.url,
            entry_key=article.entry_key,
            format=raw.format,
            media_type=raw.media_type,
            headers=raw.headers,
            feed_id=article.feed_id,
        )

    def _parse_all(self, context: _Context) -> list[ParsedDocument]:
        item = context.item
        if item.format == "feed" and context.fetched and context.raw_url:
            # A fetched feed is parsed as the fetcher parses it (``FeedRun._parse_feed``): the
            # fetched URL is the base for relative links, and entries without a language take the
            # feed's. Anything else would show up as a change that no rule caused.
            headers = {"content-location": context.raw_url, "content-type": item.media_type or "application/xml"}
            parsed = parse_feed(item.body, context.raw_url, headers)
            for document in parsed.documents:
                document.language = document.language or parsed.language or context.feed_language
            return parsed.documents
        documents, _warnings = self.pipeline.parse(item, item.format)
        return documents

    def _document(self, context: _Context) -> ParsedDocument:
        if context.item.format in SINGLE_DOCUMENT_FORMATS:
            single = self._parse_all(context)
            if not single:
                raise EntryNotFoundError(context.raw_document_id, context.entry_key)
            return single[0]
        cached = self._parsed.get(context.raw_document_id)
        if cached is None:
            documents = self._parse_all(context)
            self._parsed[context.raw_document_id] = documents
            if len(self._parsed) > PARSED_CACHE_SIZE:
                self._parsed.popitem(last=False)
        else:
            documents = cached
            self._parsed.move_to_end(context.raw_document_id)
        document = match_entry(
            documents, context.entry_key, context.item.url, only_entry=context.item.format != "feed"
        )
        if document is None:
            raise EntryNotFoundError(context.raw_document_id, context.entry_key)
        return dataclasses.replace(document, entry_key=context.entry_key)

    def _apply(self, context: _Context, document: ParsedDocument, dry_run: bool) -> ReingestOutcome:
        session = self.sessions()
        committed = False
        try:
            session.begin()
            article = admin.lock_article(session, context.article_id)
            if article is None:
                raise StorageError(f"article {context.article_id} disappeared during reingest")
            if article.deleted_at is not None:
                session.rollback()
                return ReingestOutcome(context.article_id, "deleted", article.title)
            if article.raw_document_id != context.raw_document_id or article.entry_key != context.entry_key:
                # Fetched again between reading and locking: the newer document wins; retry later.
                session.rollback()
                return ReingestOutcome(
                    context.article_id, "skipped", article.title, error="changed by a concurrent ingest"
                )
            before = admin.article_snapshot(session, article)
            counter = admin.change_counter_value(session)
            outcome = self.pipeline.reprocess(
                session, document, context.item, context.source_id, context.raw_document_id
            )
            if outcome.article_id != context.article_id:
                raise StorageError(
                    f"article {context.article_id}: entry {context.entry_key!r} "
                    f"resolved to article {outcome.article_id}"
                )
            after = admin.article_snapshot(session, article)
            others = [e for e in admin.changes_after(session, counter) if e.article_id != context.article_id]
            diff = diff_snapshots(before, after, others)
            title = article.title
            if diff.empty or dry_run:
                session.rollback()
                status = "unchanged" if diff.empty else "would_update"
            else:
                session.commit()
                committed = True
                status = "updated"
            return ReingestOutcome(context.article_id, status, title, diff)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            self.pipeline.finished(committed)


__all__ = ["ArticleDiff", "Change", "EntryNotFoundError", "ReingestOutcome", "Reingester", "diff_snapshots"]
