"""The pipeline: bytes in -> raw document stored -> blocks -> clean + dedupe -> canonical article.

Every article is written with its change-log events atomically: alone in a transaction, or, for
the entries of one feed with the in-process index, up to ``ENTRIES_PER_TRANSACTION`` of them in
one transaction with a savepoint each. A failure rolls back that article only and leaves a fetch
row with the error. Network I/O never happens here: callers pass bytes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DedupeSettings
from dedupe import Signer
from ingest.cleaning import CleanArticle, CleanBlock, Cleaner, RemovedBlock
from ingest.corpus_dedupe import CorpusDeduper, PreparedArticle, PreparedBlock
from ingest.documents import BlockKind, ParsedDocument
from ingest.errors import NewsdedupError, ParseError
from ingest.extraction import HtmlExtractor, decode_html
from ingest.formats import decode_text, detect_format, parse_feed, parse_text
from ingest.formats.ninjs import parse_ninjs
from ingest.formats.nitf import parse_nitf
from ingest.formats.text import media_type_charset
from store import NewArticle, NewRemoval
from store import repository as repo
from store.models import Article, utcnow

log = logging.getLogger(__name__)

CONTENT_HASH_VERSION = "1"
# Feed entries saved per transaction with the in-process index: one commit instead of one per
# entry. With the shared SQL index every entry keeps its own transaction, so a worker never holds
# one entry's dedupe locks while it waits for another's.
ENTRIES_PER_TRANSACTION = 50


@dataclass(frozen=True)
class Input:
    """One document to ingest: the exact bytes and where they came from."""

    body: bytes
    source: str
    location: str  # file path or URL, for messages
    url: str | None = None  # the article's or feed's URL
    entry_key: str | None = None  # for single documents; feeds carry their own keys
    format: str = "auto"
    media_type: str | None = None
    headers: Mapping[str, str] | None = None
    feed_id: int | None = None
    http_status: int | None = None
    started_at: datetime | None = None
    # Documents the caller already parsed from ``body`` (a fetched feed whose entry keys were
    # resolved against the store); when set, ``body`` is stored as is and not parsed again.
    documents: Sequence[ParsedDocument] | None = None
    warnings: Sequence[str] = ()


@dataclass(frozen=True)
class ArticleOutcome:
    article_id: int | None
    status: str  # created | updated | unchanged | deleted (tombstoned, not resurrected) | error
    title: str | None = None
    entry_key: str = ""
    removed: int = 0
    error: str | None = None


@dataclass
class IngestResult:
    location: str
    format: str = ""
    fetch_id: int | None = None
    raw_document_id: int | None = None
    articles: list[ArticleOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def created(self) -> int:
        return sum(1 for a in self.articles if a.status == "created")

    @property
    def updated(self) -> int:
        return sum(1 for a in self.articles if a.status == "updated")


@dataclass(frozen=True)
class PreparedEntry:
    """One document after cleaning and dedupe preparation: ready to be linked and saved."""

    clean: CleanArticle
    prepared: PreparedArticle


@dataclass
class PreparedInput:
    """What the pure stages (format, parse, clean, dedupe prepare) made of one input.

    Needs no database and pickles, so worker processes can make it (``ingest.parallel``); pickled
    (or copied), it leaves the documents' parsed blocks behind (see ``_pack_input``). A parse
    failure is ``error``; an entry that failed to clean or prepare is its error outcome.
    """

    location: str
    format: str
    entries: list[PreparedEntry | ArticleOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def __reduce__(self) -> tuple[Callable[..., PreparedInput], tuple[object, ...]]:
        return _unpack_input, _pack_input(self)


# --- PreparedInput across processes -----------------------------------------------------------
# Pickled field by field, a feed entry was about 27 KB and took the writing process 0.3-0.4 ms to
# load: each block's text travelled three times (parsed, clean, prepared) and every block, enum
# member and signature array was an object of its own. The packed form holds what saving reads as
# plain values in columns: each distinct text once, block kinds as their values, and the entries'
# signature rows and body shingles stacked in one array each per input. The parsed blocks stay
# behind: saving never reads them (a loaded document has none).

_DOCUMENT_FIELDS = tuple(f.name for f in fields(ParsedDocument) if f.name != "blocks")
_CLEAN_FIELDS = tuple(f.name for f in fields(CleanArticle) if f.name not in ("document", "blocks", "removed"))
_KINDS = {kind.value: kind for kind in BlockKind}

# Per entry: the document's and the article's own fields, then the clean blocks (indices, kinds,
# texts, photo credits), the removed blocks, the prepared blocks (positions, kinds, texts,
# normalised texts, hashes, token counts, photo credits) and the entry's counts of signature rows
# and body shingles in the stacked arrays.
_PackedEntry = tuple[
    tuple[object, ...], tuple[object, ...],
    list[int], list[str], list[str], list[str | None],
    list[tuple[int, str, str, str | None, float | None]],
    list[int], list[str], list[str], list[str], list[str], list[int], list[str | None],
    int, int, int,
]


def _pack_input(prepared: PreparedInput) -> tuple[object, ...]:
    packed: list[_PackedEntry | ArticleOutcome] = []
    signatures: list[npt.NDArray[np.uint32]] = []
    documents: list[npt.NDArray[np.uint32]] = []
    bodies: list[npt.NDArray[np.uint64]] = []
    # Equal texts as one object, pickled once: a feed often carries the same paragraph twice.
    one: dict[str, str] = {}
    once = one.setdefault
    for entry in prepared.entries:
        if isinstance(entry, ArticleOutcome):
            packed.append(entry)
            continue
        clean, article = entry.clean, entry.prepared
        cblocks, pblocks = clean.blocks, article.blocks
        packed.append((
            tuple(getattr(clean.document, name) for name in _DOCUMENT_FIELDS),
            tuple(getattr(clean, name) for name in _CLEAN_FIELDS),
            [b.index for b in cblocks], [b.kind.value for b in cblocks], [once(b.text, b.text) for b in cblocks],
            [b.photo_credit for b in cblocks],
            [(r.index, once(r.text, r.text), r.reason, r.detail, r.similarity) for r in clean.removed],
            [b.position for b in pblocks], [b.kind for b in pblocks], [once(b.text, b.text) for b in pblocks],
            [once(b.normalized, b.normalized) for b in pblocks], [b.norm_hash for b in pblocks],
            [b.tokens for b in pblocks],
            [b.photo_credit for b in pblocks],
            len(article.signatures), len(article.body), article.body_words,
        ))
        signatures.append(article.signatures)
        documents.append(article.document_signature)
        bodies.append(article.body)
    stacked = (np.concatenate(signatures), np.stack(documents), np.concatenate(bodies)) if signatures else None
    return prepared.location, prepared.format, prepared.warnings, prepared.error, packed, stacked


def _unpack_input(
    location: str,
    format: str,
    warnings: list[str],
    error: str | None,
    packed: list[_PackedEntry | ArticleOutcome],
    stacked: tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32], npt.NDArray[np.uint64]] | None,
) -> PreparedInput:
    entries: list[PreparedEntry | ArticleOutcome] = []
    row = shingle = document = 0
    for item in packed:
        if isinstance(item, ArticleOutcome):
            entries.append(item)
            continue
        assert stacked is not None
        (
            document_values, clean_values, indices, kinds, texts, credits, removed,
            positions, pkinds, ptexts, normalized, hashes, counts, pcredits, rows, shingles, body_words,
        ) = item
        kind_of = _KINDS
        clean = CleanArticle(
            document=ParsedDocument(blocks=[], **dict(zip(_DOCUMENT_FIELDS, document_values, strict=True))),  # type: ignore[arg-type]
            blocks=[CleanBlock(i, kind_of[k], t, c) for i, k, t, c in zip(indices, kinds, texts, credits, strict=True)],
            removed=[RemovedBlock(*r) for r in removed],
            **dict(zip(_CLEAN_FIELDS, clean_values, strict=True)),  # type: ignore[arg-type]
        )
        article = PreparedArticle(
            blocks=[
                PreparedBlock(*values)
                for values in zip(positions, pkinds, ptexts, normalized, hashes, counts, pcredits, strict=True)
            ],
            signatures=stacked[0][row : row + rows],
            body_words=body_words,
            document_signature=stacked[1][document],
            body=stacked[2][shingle : shingle + shingles],
        )
        row, shingle, document = row + rows, shingle + shingles, document + 1
        entries.append(PreparedEntry(clean, article))
    return PreparedInput(location, format, entries, warnings, error)


def content_hash(body: bytes) -> str:
    return CONTENT_HASH_VERSION + hashlib.sha256(body).hexdigest()


def article_content_hash(article: CleanArticle) -> str:
    """Changes when anything a consumer sees changes; unchanged input gives the same value."""
    digest = hashlib.sha256()
    for part in (article.title or "", article.credit or "", ",".join(article.agencies)):
        digest.update(part.encode("utf-8") + b"\x00")
    for block in article.blocks:
        digest.update(f"{block.kind.value}\x01{block.text}\x01{block.photo_credit or ''}\x00".encode())
    for removed in article.removed:
        digest.update(f"r\x01{removed.reason}\x01{removed.text}\x00".encode())
    if article.document.photo_credits:  # absent before they were kept: older articles' digests stand
        digest.update(("p\x01" + "\x01".join(article.document.photo_credits) + "\x00").encode())
    return CONTENT_HASH_VERSION + digest.hexdigest()


class Pipeline:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        cleaner: Cleaner,
        signer: Signer,
        extractor: HtmlExtractor | None = None,
        deduper: CorpusDeduper | None = None,
    ) -> None:
        self.sessions = sessions
        self.cleaner = cleaner
        self.signer = signer
        self.extractor = extractor or HtmlExtractor(cleaner.rules)
        self.deduper = deduper or CorpusDeduper.from_settings(sessions, signer, DedupeSettings())

    # --- parsing --------------------------------------------------------------------------

    def parse(self, item: Input, fmt: str) -> tuple[list[ParsedDocument], list[str]]:
        if item.documents is not None:
            return list(item.documents), list(item.warnings)
        if fmt == "nitf":
            return [parse_nitf(item.body, item.location)], []
        if fmt == "ninjs":
            return parse_ninjs(item.body, item.location), []
        if fmt == "feed":
            feed = parse_feed(item.body, item.location, item.headers)
            if not feed.documents and not feed.entry_errors:
                return [], [*feed.warnings, f"{item.location}: feed has no entries"]
            return feed.documents, feed.warnings + feed.entry_errors
        declared = media_type_charset(item.media_type)
        key = item.entry_key or (("url:" + item.url) if item.url else "hash:" + content_hash(item.body))
        if fmt == "html":
            html = decode_html(item.body, item.location, declared)
            return [self.extractor.parse(html, key, item.url, item.location)], []
        text = decode_text(item.body, item.location, declared)
        if fmt == "text":
            return [parse_text(text, key, item.url)], []
        raise ParseError(item.location, f"unknown format {fmt!r}: use auto, text, html, feed, nitf or ninjs")

    def close(self) -> None:
        """Release what the pipeline started (worker processes in ``ingest.parallel``)."""

    # --- the pure part: no database -----------------------------------------------------

    def detect(self, item: Input) -> str:
        return item.format if item.format != "auto" else detect_format(item.body, item.location, item.media_type)

    def prepare(
        self, item: Input, fmt: str | None = None, documents: Sequence[ParsedDocument] | None = None
    ) -> PreparedInput:
        """Parse (unless ``documents`` are given), clean and prepare every entry of ``item``."""
        fmt = fmt or self.detect(item)
        result = PreparedInput(location=item.location, format=fmt)
        try:
            parsed, warnings = (list(documents), []) if documents is not None else self.parse(item, fmt)
        except NewsdedupError as exc:
            result.error = str(exc)
            return result
        result.warnings.extend(warnings)
        result.entries = [self.prepare_entry(document, item) for document in parsed]
        return result

    def prepare_entry(self, document: ParsedDocument, item: Input) -> PreparedEntry | ArticleOutcome:
        try:
            clean = self.clean(document, item.location)
            return PreparedEntry(clean, self.deduper.prepare(clean))
        except Exception as exc:
            return self._failed(document, item, exc)

    # --- the whole run for one input ------------------------------------------------------

    def ingest(self, item: Input, documents: Sequence[ParsedDocument] | None = None) -> IngestResult:
        """Store ``item``'s bytes, parse them (or take ``documents`` already parsed from them,
        e.g. by a benchmark that controls the blocks) and save each article."""
        started = item.started_at or utcnow()
        fmt = self.detect(item)
        result = IngestResult(location=item.location, format=fmt)
        source_id = self._store_input(item, result)
        return self._write(item, self.prepare(item, fmt, documents), result, source_id, started)

    def save(self, item: Input, prepared: PreparedInput) -> IngestResult:
        """The writing part of ``ingest`` for an input whose pure part is done (``prepare``)."""
        started = item.started_at or utcnow()
        result = IngestResult(location=item.location, format=prepared.format)
        source_id = self._store_input(item, result)
        return self._write(item, prepared, result, source_id, started)

    def _store_input(self, item: Input, result: IngestResult) -> int:
        # The raw bytes and the fetch row commit first: whatever happens next, the input is kept.
        with self.sessions.begin() as session:
            result.raw_document_id = repo.store_raw_document(
                session,
                content_hash(item.body),
                item.body,
                url=item.url or item.location,
                media_type=item.media_type,
                format=result.format,
                headers=dict(item.headers) if item.headers else None,
            )
            return repo.source_id(session, item.source)

    def _write(
        self, item: Input, prepared: PreparedInput, result: IngestResult, source_id: int, started: datetime
    ) -> IngestResult:
        if prepared.error is not None:
            result.error = prepared.error
            self._record(result, item, started, outcome="error")
            return result
        result.warnings.extend(prepared.warnings)
        entries = prepared.entries
        size = ENTRIES_PER_TRANSACTION if self.deduper.batches_writes else 1
        for start in range(0, len(entries), size):
            batch = entries[start : start + size]
            if len(batch) == 1:
                result.articles.append(self._ingest_document(batch[0], item, source_id, result.raw_document_id))
            else:
                result.articles.extend(self._ingest_batch(batch, item, source_id, result.raw_document_id))
        errors = [a.error for a in result.articles if a.error]
        if errors and len(errors) == len(result.articles):
            result.error = errors[0]
        self._record(result, item, started, outcome="error" if result.error else "ok")
        return result

    def _record(self, result: IngestResult, item: Input, started: datetime, outcome: str) -> None:
        entry_errors = [a.error for a in result.articles if a.error]
        error = result.error
        if error is None and entry_errors:
            error = "; ".join(str(e) for e in entry_errors)[:4000]
        warning = "; ".join(result.warnings)[:4000] or None
        with self.sessions.begin() as session:
            result.fetch_id = repo.record_fetch(
                session,
                url=item.url or item.location,
                outcome=outcome,
                started_at=started,
                feed_id=item.feed_id,
                http_status=item.http_status,
                size=len(item.body),
                raw_document_id=result.raw_document_id,
                error=error,
                warning=warning,
                articles_created=result.created,
                articles_updated=result.updated,
            )

    def _ingest_document(
        self, entry: PreparedEntry | ArticleOutcome, item: Input, source_id: int, raw_document_id: int | None
    ) -> ArticleOutcome:
        if isinstance(entry, ArticleOutcome):
            return entry
        clean, prepared, document = entry.clean, entry.prepared, entry.clean.document
        try:
            self.deduper.ensure_ready()
            try:
                with self.sessions.begin() as session:
                    repo.defer_changes(session)
                    outcome = self._save(session, clean, prepared, item, source_id, raw_document_id)
            except BaseException:
                self.deduper.rolled_back()
                raise
            self.deduper.committed()
            return outcome
        except NewsdedupError as exc:
            return ArticleOutcome(None, "error", document.title, document.entry_key, error=str(exc))
        except Exception as exc:
            log.exception("ingest of %s entry %s failed", item.location, document.entry_key)
            message = f"{item.location} entry {document.entry_key!r}: {type(exc).__name__}: {exc}"
            return ArticleOutcome(None, "error", document.title, document.entry_key, error=message)

    def _ingest_batch(
        self,
        entries: Sequence[PreparedEntry | ArticleOutcome],
        item: Input,
        source_id: int,
        raw_document_id: int | None,
    ) -> list[ArticleOutcome]:
        """Several entries in one transaction; each with its change-log events.

        First all at once, without savepoints: a savepoint per entry cost SQLite a copy of every
        page the entry then touched, a sixth of the writer's time. Should any entry
        fail, that attempt rolls back whole and the batch is written again with a savepoint per
        entry, so that the failing one rolls back alone (``_ingest_each``).
        """
        outcomes: list[ArticleOutcome | None] = [e if isinstance(e, ArticleOutcome) else None for e in entries]
        ready: list[tuple[int, CleanArticle, PreparedArticle]] = []
        batch = [e.clean.document if isinstance(e, PreparedEntry) else _placeholder(e) for e in entries]
        for index, entry in enumerate(entries):
            if isinstance(entry, ArticleOutcome):
                continue
            try:
                self.deduper.ensure_ready()
                ready.append((index, entry.clean, entry.prepared))
            except Exception as exc:
                outcomes[index] = self._failed(batch[index], item, exc)
        try:
            saved = self._ingest_together(ready, item, source_id, raw_document_id)
        except Exception as exc:
            self.deduper.rolled_back()
            log.info("%s: a batch of %d entries failed (%s); writing them one by one", item.location, len(ready), exc)
            self._ingest_each(ready, outcomes, batch, item, source_id, raw_document_id)
        else:
            self.deduper.committed()
            for index, outcome in saved.items():
                outcomes[index] = outcome
        return [o if o is not None else self._failed(d, item, None) for o, d in zip(outcomes, batch, strict=True)]

    def _ingest_together(
        self,
        ready: Sequence[tuple[int, CleanArticle, PreparedArticle]],
        item: Input,
        source_id: int,
        raw_document_id: int | None,
    ) -> dict[int, ArticleOutcome]:
        saved: dict[int, ArticleOutcome] = {}
        with self._batch_transaction(ready, source_id) as (session, known):
            for index, clean, prepared in ready:
                saved[index] = self._save(session, clean, prepared, item, source_id, raw_document_id, known=known)
                # The next entry of the batch must find this one in the index.
                self.deduper.staged()
        return saved

    @contextmanager
    def _batch_transaction(
        self, ready: Sequence[tuple[int, CleanArticle, PreparedArticle]], source_id: int
    ) -> Iterator[tuple[Session, dict[str, Article | None]]]:
        """A batch's transaction, its change-log events held for commit, and its entries' stored
        articles (or None) read in one query."""
        with self.sessions.begin() as session:
            repo.defer_changes(session)
            yield session, repo.find_articles_by_keys(session, source_id, (c.document.entry_key for _, c, _ in ready))

    def _ingest_each(
        self,
        ready: Sequence[tuple[int, CleanArticle, PreparedArticle]],
        outcomes: list[ArticleOutcome | None],
        batch: Sequence[ParsedDocument],
        item: Input,
        source_id: int,
        raw_document_id: int | None,
    ) -> None:
        """The batch again, each entry in a savepoint: one that fails rolls back alone."""
        saved: list[int] = []
        try:
            with self._batch_transaction(ready, source_id) as (session, known):
                for index, clean, prepared in ready:
                    try:
                        with session.begin_nested():
                            outcomes[index] = self._save(
                                session, clean, prepared, item, source_id, raw_document_id, known=known
                            )
                    except Exception as exc:
                        self.deduper.rolled_back()
                        outcomes[index] = self._failed(batch[index], item, exc)
                        continue
                    # The next entry of the batch must find this one in the index. Should the
                    # commit fail, the index keeps entries of unsaved articles, which is harmless:
                    # every candidate is checked against the stored block.
                    self.deduper.committed()
                    saved.append(index)
        except Exception as exc:
            self.deduper.rolled_back()
            for index in saved:
                outcomes[index] = self._failed(batch[index], item, exc)

    def _failed(self, document: ParsedDocument, item: Input, exc: BaseException | None) -> ArticleOutcome:
        if isinstance(exc, NewsdedupError):
            return ArticleOutcome(None, "error", document.title, document.entry_key, error=str(exc))
        if exc is not None:
            log.error("ingest of %s entry %s failed", item.location, document.entry_key, exc_info=exc)
        message = f"{item.location} entry {document.entry_key!r}: {type(exc).__name__}: {exc}"
        return ArticleOutcome(None, "error", document.title, document.entry_key, error=message)

    def clean(self, document: ParsedDocument, location: str) -> CleanArticle:
        clean = self.cleaner.clean(document)
        if not clean.blocks and not clean.title:
            raise ParseError(location, f"entry {document.entry_key!r} has no text")
        return clean

    # --- re-processing a stored article (``reingest``) -------------------------------------

    def ready(self) -> None:
        """Load what the dedupe index needs; call before ``reprocess`` opens its transaction."""
        self.deduper.ensure_ready()

    def reprocess(
        self, session: Session, document: ParsedDocument, item: Input, source_id: int, raw_document_id: int | None
    ) -> ArticleOutcome:
        """Clean and save a document again inside the caller's transaction.

        Unlike ``ingest`` this recomputes everything even when the cleaned text is unchanged,
        because rules or dedupe code may have changed what the stored article should be. The
        caller compares before and after, commits or rolls back, and then calls ``finished``.
        """
        clean = self.clean(document, item.location)
        prepared = self.deduper.prepare(clean)
        return self._save(session, clean, prepared, item, source_id, raw_document_id, recheck=True)

    def finished(self, committed: bool) -> None:
        """Tell the dedupe index whether the caller's transaction committed or rolled back."""
        if committed:
            self.deduper.committed()
        else:
            self.deduper.rolled_back()

    def _save(
        self,
        session: Session,
        clean: CleanArticle,
        prepared: PreparedArticle,
        item: Input,
        source_id: int,
        raw_document_id: int | None,
        recheck: bool = False,
        known: dict[str, Article | None] | None = None,
    ) -> ArticleOutcome:
        """``known``: the batch's entry keys with their stored article or None, read in one query;
        each is taken out when used, so a key seen again in the batch is looked up afresh."""
        document = clean.document
        digest = article_content_hash(clean)
        if known is not None and document.entry_key in known:
            existing = known.pop(document.entry_key)
        else:
            existing = repo.find_article_by_key(session, source_id, document.entry_key)
        if existing is not None and existing.deleted_at is not None:
            return ArticleOutcome(existing.id, "deleted", existing.title, document.entry_key)
        if existing is not None and existing.content_hash == digest and not recheck:
            return ArticleOutcome(existing.id, "unchanged", existing.title, document.entry_key)
        linked = self.deduper.link(
            session, prepared, source_id=source_id, source_name=item.source, existing=existing,
            before=existing.id if recheck and existing is not None else None,
        )
        removals = [
            NewRemoval(block_index=r.index, text=r.text, reason=r.reason, detail=r.detail, similarity=r.similarity)
            for r in clean.removed
        ]
        record = NewArticle(
            source_id=source_id,
            entry_key=document.entry_key,
            content_hash=digest,
            feed_id=item.feed_id,
            raw_document_id=raw_document_id,
            url=document.url,
            title=clean.title,
            subtitle=clean.subtitle,
            byline=clean.byline or document.byline,
            credit=clean.credit,
            agencies=clean.agencies,
            language=clean.language,
            published_at=document.published_at,
            source_updated_at=document.updated_at,
            document_signature=linked.document_signature,
            body_shingles=len(prepared.body),
            extra=_extra_with_photo_credits(existing, document),
            paragraphs=linked.paragraphs,
            removals=sorted([*removals, *linked.removals], key=lambda r: r.block_index),
        )
        if existing is None:
            article = repo.create_article(session, record)
            status = "created"
        else:
            article = repo.update_article(session, existing, record)
            status = "updated"
        self.deduper.after_save(
            session, article, linked, source_id=source_id, source_name=item.source, updated=existing is not None
        )
        removed = len(clean.removed) + len(linked.removals)
        return ArticleOutcome(article.id, status, clean.title, document.entry_key, removed=removed)


def _extra_with_photo_credits(existing: Article | None, document: ParsedDocument) -> dict[str, Any]:
    extra = dict(existing.extra or {}) if existing is not None else {}
    if document.photo_credits:
        extra["photo_credits"] = list(document.photo_credits)
    else:
        extra.pop("photo_credits", None)
    return extra


def _placeholder(outcome: ArticleOutcome) -> ParsedDocument:
    """Stands for an entry that failed before saving; its outcome is final and never replaced."""
    return ParsedDocument(blocks=[], entry_key=outcome.entry_key, title=outcome.title)


__all__ = [
    "ArticleOutcome",
    "BlockKind",
    "IngestResult",
    "Input",
    "Pipeline",
    "PreparedEntry",
    "PreparedInput",
    "content_hash",
]
