"""Cross-article dedupe: the pure verdicts of ``dedupe`` applied to the stored corpus.

For each article, inside its transaction:

1. template: a short non-caption block the source printed under ``template_min_articles``
   stories is removed (reason ``template``); when this article is the one that crosses the
   threshold, the block goes from the source's earlier articles too;
2. exact: a block whose normalised hash is stored elsewhere links to the earliest such block;
3. near: LSH candidates (band index, then a sketch estimate) are confirmed by the actual Jaccard
   of the pair's shingles; the most similar confirmed block is the link;
4. story: articles that hold linked blocks, or whose whole-body signature is near, are compared
   body to body; a match joins that article's canonical cluster (``merged`` in the change log),
   and the canonical article carries the cluster's most complete and most recent text.

The index is derived state (``index_backends``): rebuilt from stored signatures at start and by
``newsdedup index rebuild``; entries older than ``window_days`` are not consulted, and once a day
(and once per process) the index forgets them: the in-memory one drops them, the shared one
deletes their rows.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DedupeSettings
from dedupe import norm_hash, normalize
from dedupe.lsh import SKETCH_WIDTH, Candidates, LshParams, band_keys
from dedupe.near import Candidate, NearBlock, NearMatch, NearRule, best_match, signatures_may_reach
from dedupe.normalize import norm_hash_of_normalized, tokens
from dedupe.shingles import DOCUMENT
from dedupe.signatures import SignatureMatrix, SignatureParams, SignatureParamsError, Signer, estimated_jaccard
from dedupe.story import (
    Member,
    StoryRule,
    StorySimilarity,
    choose_text,
    hashed_story_similarity,
    may_be_same_story,
)
from dedupe.template import TemplateRule, TemplateVerdict, template_verdict
from ingest.cleaning import CleanArticle
from ingest.documents import BlockKind
from ingest.errors import NewsdedupError
from ingest.index_backends import (
    DOCUMENT as DOCUMENT_KIND,
)
from ingest.index_backends import (
    MAX_POSITION,
    PARAGRAPH,
    IndexBackend,
    KnownHashes,
    MemoryIndex,
    SqlIndex,
    pack_ref,
    unpack_ref,
)
from store import dedupe_repo
from store import repository as repo
from store.models import Article, ArticleParagraph, utcnow
from store.records import NewParagraph, NewRemoval

log = logging.getLogger(__name__)

# A candidate's sketch estimate must reach the bar minus this before its text is fetched: the
# 80-byte sketch has a standard error near 0.056 at the threshold, so 0.2 (3.6 errors) loses no
# true pair. With the 48-byte sketch before it (0.072) the margin was 0.25, and a third of the
# candidates read at 20,000 stored articles were loose matches estimated at 0.2-0.25.
CANDIDATE_MARGIN = 0.2
# Candidates confirmed per block, the best estimates first. Loose sketch matches (estimates just
# above the bar minus the margin) to a block grow in number with the stored corpus; reading and
# comparing every one made each article cost more than the last (21 per article at 7,000
# articles and rising; 12 per block still let it grow to 10,000). A true copy estimates near its
# Jaccard (standard error about 0.07), so it ranks above such loose matches; the labelled set
# scores the same with 4.
MAX_NEAR_CANDIDATES = 4
# Then, before a candidate's text is normalised and compared, the estimate of its stored full
# signature must reach the bar less this: 3.6 standard errors of the 128-permutation estimate at
# the 0.45 bar (0.044), as ``CANDIDATE_MARGIN`` is of the sketch's. At 100,000 stored articles it
# left 29% fewer texts to compare, with every verdict of the next 1,000 articles the same.
SIGNATURE_MARGIN = 0.16
STORY_CANDIDATE_ESTIMATE = 0.15
MAX_STORY_CANDIDATES = 8
# A story candidate's body is read and compared only when the Jaccard its stored signature
# estimates could reach the rule's bar (the containment bar as a Jaccard, from both shingle
# counts) less this. The 128-permutation estimate's standard error is at most 0.044, so 0.2 (4.5
# errors) drops no true match, and covers the template lines removed from a body after its
# signature was made (short by rule). It drops most candidates that share paragraphs but not the
# story (two thirds of all candidates): reading their bodies made each article cost more than
# the last.
STORY_ESTIMATE_MARGIN = 0.2
BACKENDS = ("memory", "sql")
STATE_LOCK_KEY = -1  # advisory-lock key of the dedupe state rows
BAND_PRUNE_LOCK_KEY = -2  # advisory-lock key of the shared index's daily deletions
# Stories counted per template block: enough for every verdict (``min_stories`` is far below),
# and the count's cost stays flat however many stories a source printed the line under.
TEMPLATE_COUNT_CAP = 50
# Stored bodies kept in memory (their normalised text, 5-gram set and word count), by article
# stamp: story candidates and cluster members are mostly recent articles, read again and again.
# About 10 KB each; 1,024 missed more of them as the store grew (4,096 cost about 2% less CPU an
# article at 20,000-32,000 stored).
BODY_CACHE_SIZE = 4096
# Near candidates' tokens, by block hash (a hash names one normalised text, so an
# entry never goes stale): wire paragraphs are proposed as candidates to article after article,
# and normalising and splitting them again each time made every article cost more than the last.
NEAR_BLOCK_CACHE_SIZE = 4096
# Old band rows of the shared SQL index deleted per transaction.
BAND_PRUNE_BATCH = 20_000
# Band keys per block taken as lock keys in the shared SQL index (with every body band key).
LOCKED_BANDS = 4


class IndexStateError(NewsdedupError):
    """Stored signatures or index state do not match the configuration."""


def day_number(moment: datetime) -> int:
    return int(moment.timestamp() // 86400)


@dataclass(frozen=True)
class DedupeConfig:
    near: NearRule
    story: StoryRule
    template: TemplateRule
    window_days: int
    backend: str
    paragraph_lsh: LshParams
    document_lsh: LshParams

    @classmethod
    def from_settings(cls, settings: DedupeSettings, num_perm: int) -> DedupeConfig:
        if settings.index_backend not in BACKENDS:
            raise IndexStateError(
                f"dedupe.index_backend must be one of {', '.join(BACKENDS)}, got {settings.index_backend!r}"
            )
        if settings.window_days < 1:
            raise IndexStateError(f"dedupe.window_days must be at least 1, got {settings.window_days}")
        near = NearRule(threshold=settings.near_threshold)
        story = StoryRule(jaccard=settings.document_threshold, containment=settings.story_containment)
        return cls(
            near=near,
            story=story,
            template=TemplateRule(min_stories=settings.template_min_articles, max_words=settings.template_max_words),
            window_days=settings.window_days,
            backend=settings.index_backend,
            paragraph_lsh=LshParams.for_threshold(near.threshold, num_perm, reserve=SKETCH_WIDTH),
            document_lsh=LshParams.for_threshold(min(story.jaccard, 0.5), num_perm, reserve=SKETCH_WIDTH),
        )

    def state(self) -> dict[str, str]:
        return {
            "lsh.paragraph": f"{self.paragraph_lsh.bands}x{self.paragraph_lsh.rows}",
            "lsh.document": f"{self.document_lsh.bands}x{self.document_lsh.rows}",
        }


@dataclass
class PreparedBlock:
    position: int
    kind: str
    text: str
    normalized: str
    norm_hash: str
    tokens: int
    photo_credit: str | None


@dataclass
class PreparedArticle:
    blocks: list[PreparedBlock]
    signatures: npt.NDArray[np.uint32]
    body_words: int
    document_signature: npt.NDArray[np.uint32]

    body: npt.NDArray[np.uint64]  # body shingles (word 5-grams) as sorted distinct 64-bit hashes


class StoredBody:
    """The kept blocks of a stored article as story matching and text choice see them."""

    __slots__ = ("blocks", "body", "shingles", "words")

    def __init__(
        self,
        blocks: int,
        body: Sequence[str],
        shingles: npt.NDArray[np.uint64] | None = None,
        words: int | None = None,
    ) -> None:
        self.blocks = blocks  # kept blocks of every kind
        self.body = tuple(body)  # the body blocks' stored text
        self.words = sum(len(text.split()) for text in body) if words is None else words
        self.shingles = shingles  # as ``PreparedArticle.body``; made when first compared

    @classmethod
    def of(cls, blocks: Sequence[tuple[str, str]]) -> StoredBody:
        """From a stored article's blocks as (kind, text)."""
        return cls(len(blocks), [text for kind, text in blocks if kind == BlockKind.BODY.value])

    def packed(self) -> _PackedBody:
        """A plain tuple of values the garbage collector does not track (numbers, strings, an
        array), so it stops tracking the tuple too: thousands of cached bodies then add nothing to
        what each full collection walks."""
        return self.blocks, self.body, self.words, self.shingles

    @classmethod
    def unpacked(cls, packed: _PackedBody) -> StoredBody:
        blocks, body, words, shingles = packed
        return cls(blocks, body, shingles, words)


_PackedBody = tuple[int, tuple[str, ...], int, "npt.NDArray[np.uint64] | None"]


@dataclass
class StoryMatch:
    article_id: int  # the earlier article the body matched
    canonical_id: int
    similarity: StorySimilarity


@dataclass
class LinkedArticle:
    paragraphs: list[NewParagraph]
    removals: list[NewRemoval]
    crossings: list[tuple[str, TemplateVerdict]]
    story: StoryMatch | None
    document_signature: bytes
    indexed_rows: list[int]  # rows of ``prepared.signatures`` to index (not exact copies)
    signatures: npt.NDArray[np.uint32]
    document_row: npt.NDArray[np.uint32]
    row_positions: dict[int, int] = field(default_factory=dict)  # prepared row -> kept position
    body: npt.NDArray[np.uint64] | None = None  # the kept body's shingles, when the same as prepared


class CorpusDeduper:
    """Owns the index backend; one per process (built by the composition root)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        signer: Signer,
        config: DedupeConfig,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.signer = signer
        self.config = config
        # What "now" is for the window: the day an index entry is stamped with, and the first day
        # a lookup consults. Only tests and benchmarks that replay weeks of news pass another.
        self.clock = clock
        self.backend: IndexBackend
        if config.backend == "sql":
            self.backend = SqlIndex(config.paragraph_lsh, config.document_lsh, signer.rows_from_bytes)
        else:
            self.backend = MemoryIndex(config.paragraph_lsh, config.document_lsh)
        self._ready = False
        self._loaded_day: int | None = None
        # Hashes held by stored blocks (memory index only: one writer); None: ask the database.
        self.known: KnownHashes | None = None
        # Both caches hold packed tuples, which the garbage collector stops tracking.
        self._bodies: OrderedDict[tuple[int, int, datetime], _PackedBody] = OrderedDict()
        self._near_blocks: OrderedDict[str, tuple[tuple[str, ...], bool]] = OrderedDict()

    @property
    def batches_writes(self) -> bool:
        """Whether several articles may share a transaction: only with the in-process index (one
        writer); shared SQL index workers lock each article's keys and must not hold them long."""
        return isinstance(self.backend, MemoryIndex)

    @classmethod
    def from_settings(cls, sessions: sessionmaker[Session], signer: Signer, settings: DedupeSettings) -> CorpusDeduper:
        return cls(sessions, signer, DedupeConfig.from_settings(settings, signer.num_perm))

    # --- start-up ---------------------------------------------------------------------------

    def expected_state(self) -> dict[str, str]:
        return {**self.signer.params.as_state(), **self.config.state()}

    def check_state(self, session: Session, *, rebuilding_bands: bool = False) -> None:
        """Refuse stored state made with other parameters; record ours on a fresh database.

        ``rebuilding_bands``: the caller is about to rewrite the band rows, so stored LSH
        parameters other than ours are what it mends, not a reason to refuse.
        """
        # Workers starting together on a fresh database would both write the state.
        dedupe_repo.lock_keys(session, [STATE_LOCK_KEY])
        stored = repo.get_state(session)
        expected = self.expected_state()
        mismatched = {k: (stored[k], v) for k, v in expected.items() if k in stored and stored[k] != v}
        # Band rows depend on the LSH parameters only in the shared SQL index.
        if self.config.backend != "sql" or rebuilding_bands:
            mismatched = {k: v for k, v in mismatched.items() if not k.startswith("lsh.")}
        if mismatched:
            details = ", ".join(f"{k}: stored {s!r}, configured {c!r}" for k, (s, c) in mismatched.items())
            hint = (
                "`newsdedup index rebuild --resign`"
                if any(k.startswith("minhash.") for k in mismatched)
                else ("`newsdedup index rebuild`")
            )
            raise IndexStateError(
                f"the dedupe state in the database was made with other parameters ({details}); "
                f"keep the old settings or run {hint}"
            )
        missing = {k: v for k, v in expected.items() if k not in stored}
        if missing:
            repo.put_state(session, missing)

    def ensure_ready(self) -> None:
        """Check parameters and (memory index) load the index, once per process."""
        if self._ready:
            self._prune_if_new_day()
            return
        with self.sessions.begin() as session:
            self.check_state(session)
            if isinstance(self.backend, MemoryIndex):
                self.load_memory_index(session)
        self._ready = True

    def window_start(self, now: datetime | None = None) -> datetime:
        return (now or self.clock()) - timedelta(days=self.config.window_days)

    def min_day(self) -> int:
        return day_number(self.window_start())

    def _prune_if_new_day(self) -> None:
        """Once a day (and once per process), let the index forget what the window has passed."""
        today = day_number(self.clock())
        if self._loaded_day == today:
            return
        if isinstance(self.backend, MemoryIndex):
            self.backend.prune(self.min_day())
        else:
            self._delete_old_bands()
        self._loaded_day = today

    def _delete_old_bands(self) -> None:
        """The shared index's rows older than the window, a batch per transaction.

        Every worker does this once a day, one at a time (after the first, each finds nothing).
        Lookups skip old rows anyway, so a failure only leaves them for the next day: it is
        logged, not raised into the article being ingested.
        """
        min_day = self.min_day()
        deleted = 0
        try:
            while True:
                with self.sessions.begin() as session:
                    dedupe_repo.lock_keys(session, [BAND_PRUNE_LOCK_KEY])
                    batch = dedupe_repo.delete_bands_before(session, min_day, BAND_PRUNE_BATCH)
                deleted += batch
                if batch < BAND_PRUNE_BATCH:
                    break
        except SQLAlchemyError as exc:
            log.warning("could not delete the shared index's band rows before day %d (%d deleted): %s",
                        min_day, deleted, exc)

    def load_memory_index(self, session: Session) -> int:
        """Rebuild the in-memory index from stored signatures in the window; returns blocks loaded."""
        backend = self.backend
        if not isinstance(backend, MemoryIndex):
            return 0
        backend.reset()
        self.known = None
        known = KnownHashes()
        for hashes in dedupe_repo.iter_stored_hashes(session):
            known.load(hashes)
        since = self.window_start()
        loaded = 0
        for batch in dedupe_repo.iter_block_signatures(session, since):
            matrix = self.signer.rows_from_bytes([row.signature for row in batch])
            refs = np.array([pack_ref(r.article_id, r.position) for r in batch], dtype=np.int64)
            days = np.array([day_number(r.created_at) for r in batch], dtype=np.int32)
            backend.load(PARAGRAPH, matrix, refs, days)
            loaded += len(batch)
        for batch in dedupe_repo.iter_document_signatures(session, since):
            matrix = self.signer.rows_from_bytes([row.signature for row in batch])
            refs = np.array([pack_ref(r.article_id, 0) for r in batch], dtype=np.int64)
            days = np.array([day_number(r.created_at) for r in batch], dtype=np.int32)
            backend.load(DOCUMENT_KIND, matrix, refs, days)
        self._loaded_day = day_number(self.clock())
        self.known = known
        return loaded

    # --- per article ------------------------------------------------------------------------

    def prepare(self, clean: CleanArticle) -> PreparedArticle:
        """Everything that needs no database: normalised text, hashes, signatures."""
        blocks: list[PreparedBlock] = []
        for position, block in enumerate(clean.blocks):
            if position > MAX_POSITION:
                break
            folded = normalize(block.text)
            blocks.append(
                PreparedBlock(
                    position=position,
                    kind=block.kind.value,
                    text=block.text,
                    normalized=folded,
                    norm_hash=norm_hash_of_normalized(folded),
                    tokens=len(tokens(folded)),
                    photo_credit=block.photo_credit,
                )
            )
        signatures = self.signer.signatures([b.normalized for b in blocks], normalized=True)
        body = [b.normalized for b in blocks if b.kind == BlockKind.BODY.value]
        document, body_hashes = self.signer.document(" ".join(body), DOCUMENT)
        return PreparedArticle(
            blocks=blocks,
            signatures=signatures,
            body_words=sum(b.tokens for b in blocks if b.kind == BlockKind.BODY.value),
            document_signature=document,
            body=body_hashes,
        )

    def link(
        self,
        session: Session,
        prepared: PreparedArticle,
        *,
        source_id: int,
        source_name: str,
        existing: Article | None,
        before: int | None = None,
    ) -> LinkedArticle:
        """Verdicts for every block and for the whole story, against the stored corpus.

        ``before``: only articles with a smaller id may be linked to or matched (``reingest``
        re-derives a stored article as if the corpus were ingested in order; without it, an old
        article would link to later copies of itself and the links would run both ways).
        """
        own_id = existing.id if existing is not None else None
        own_story = (existing.canonical_id or existing.id) if existing is not None else None
        blocks = prepared.blocks
        if isinstance(self.backend, SqlIndex):
            # Before any lookup: a worker ingesting a copy of this story waits for our commit.
            dedupe_repo.lock_keys(session, self.lock_keys(prepared))

        # 1. Template blocks of this source.
        eligible = [
            b for b in blocks if b.kind != BlockKind.CAPTION.value and b.tokens <= self.config.template.max_words
        ]
        counts = dedupe_repo.source_story_counts(
            session, source_id, self._stored_hashes(b.norm_hash for b in eligible), own_story, cap=TEMPLATE_COUNT_CAP
        )
        templates: dict[int, TemplateVerdict] = {}
        for block in eligible:
            verdict = template_verdict(
                block.kind, block.tokens, counts.get(block.norm_hash, 0) + 1, self.config.template
            )
            if verdict is not None:
                templates[block.position] = verdict
        kept = [b for b in blocks if b.position not in templates]

        # 2. Exact copies of stored blocks.
        exact = dedupe_repo.earliest_by_hash(session, self._stored_hashes(b.norm_hash for b in kept), own_id)
        if before is not None:
            exact = {h: b for h, b in exact.items() if b.article_id < before}

        # 3. Near copies: index candidates, sketch estimate, then the actual Jaccard.
        near_rows = [i for i, b in enumerate(blocks) if b.position not in templates and b.norm_hash not in exact]
        near = self._near_matches(session, prepared, near_rows, own_id, before)

        paragraphs: list[NewParagraph] = []
        indexed_rows: list[int] = []
        linked_articles: Counter[int] = Counter()
        row_positions: dict[int, int] = {}
        new_position = 0
        for row, block in enumerate(blocks):
            if block.position in templates:
                continue
            place = exact.get(block.norm_hash)
            match = near.get(row)
            fields: dict[str, object] = {}
            if place is not None:
                fields = {
                    "duplicate_of_article_id": place.article_id,
                    "duplicate_of_position": place.position,
                    "duplicate_tier": "exact",
                    "similarity": 1.0,
                }
                linked_articles[place.article_id] += 1
            else:
                indexed_rows.append(row)
                if match is not None:
                    article_id, position = unpack_ref(match.ref)
                    fields = {
                        "duplicate_of_article_id": article_id,
                        "duplicate_of_position": position,
                        "duplicate_tier": "near",
                        "similarity": round(match.similarity, 4),
                        "estimated": round(match.estimated, 4),
                    }
                    linked_articles[article_id] += 1
            paragraphs.append(
                NewParagraph(
                    position=new_position,
                    kind=block.kind,
                    text=block.text,
                    norm_hash=block.norm_hash,
                    signature=self.signer.row_bytes(prepared.signatures[row]),
                    photo_credit=block.photo_credit,
                    **fields,  # type: ignore[arg-type]
                )
            )
            row_positions[row] = new_position
            new_position += 1
        removals = [
            NewRemoval(
                block_index=10_000 + block.position,
                text=block.text,
                reason=dedupe_repo.TEMPLATE_REASON,
                detail=_template_detail(templates[block.position], source_name),
                norm_hash=block.norm_hash,
                duplicate_tier="template",
            )
            for block in blocks
            if block.position in templates
        ]
        crossings = [
            (b.norm_hash, templates[b.position])
            for b in blocks
            if b.position in templates and templates[b.position].crossing
        ]

        removed = [b for b in blocks if b.position in templates]
        story = None
        if existing is None or (
            existing.canonical_id in (None, existing.id) and len(dedupe_repo.story_members(session, existing.id)) <= 1
        ):
            story = self._story_match(session, prepared, linked_articles, own_id, before)
        return LinkedArticle(
            paragraphs=paragraphs,
            removals=removals,
            crossings=crossings,
            story=story,
            document_signature=self.signer.row_bytes(prepared.document_signature),
            indexed_rows=[r for r in indexed_rows if r < len(prepared.signatures)],
            signatures=prepared.signatures,
            document_row=prepared.document_signature,
            row_positions=row_positions,
            body=prepared.body if not any(b.kind == BlockKind.BODY.value for b in removed) else None,
        )

    def _stored_hashes(self, norm_hashes: Iterable[str]) -> set[str]:
        """The hashes worth looking up: all of them, or those some stored block may hold."""
        return set(norm_hashes) if self.known is None else self.known.held(norm_hashes)

    def lock_keys(self, prepared: PreparedArticle) -> list[int]:
        """Keys two copies of a story share: block hashes, leading band keys, body band keys."""
        keys = [int(b.norm_hash[1:17], 16) for b in prepared.blocks]
        if len(prepared.signatures):
            paragraph = band_keys(prepared.signatures, self.config.paragraph_lsh)[:, :LOCKED_BANDS]
            keys.extend(int(k) for k in paragraph.ravel())
        keys.extend(int(k) for k in band_keys(prepared.document_signature[None, :], self.config.document_lsh).ravel())
        return keys

    def _near_matches(
        self, session: Session, prepared: PreparedArticle, rows: Sequence[int], own_id: int | None,
        before: int | None = None,
    ) -> dict[int, NearMatch]:
        rule = self.config.near
        rows = [r for r in rows if prepared.blocks[r].tokens >= rule.min_tokens]
        if not rows:
            return {}
        found = self.backend.candidates(
            session,
            PARAGRAPH,
            prepared.signatures[rows],
            self.min_day(),
            max(0.0, rule.threshold - CANDIDATE_MARGIN),
        )
        if not len(found):
            return {}
        found = _best_per_query(found, MAX_NEAR_CANDIDATES)
        # The index was asked with the loosest bar; a block under ``short_tokens`` needs more.
        bars = np.array([rule.threshold_for(prepared.blocks[r].tokens) for r in rows], dtype=np.float64)
        found = _kept(found, found.estimate >= bars.take(found.query) - CANDIDATE_MARGIN)
        places = {unpack_ref(int(ref)) for ref in found.ref}
        if own_id is not None:
            places = {p for p in places if p[0] != own_id}
        if before is not None:
            places = {p for p in places if p[0] < before}
        stored = dedupe_repo.blocks_at(session, places)
        signatures = prepared.signatures[rows]
        blocks = [stored.get(unpack_ref(ref)) for ref in found.ref.tolist()]
        reachable = self._full_estimate_reaches(signatures, found, blocks, bars)
        per_row: dict[int, list[Candidate]] = {}
        for i, (query, ref, estimate) in enumerate(
            zip(found.query.tolist(), found.ref.tolist(), found.estimate.tolist(), strict=True)
        ):
            block = blocks[i]
            if block is None or not reachable[i]:
                continue
            per_row.setdefault(rows[query], []).append(Candidate(ref, self._near_block(block), estimate))
        matches: dict[int, NearMatch] = {}
        for row, candidates in per_row.items():
            candidates.sort(key=lambda c: c.ref)
            match = best_match(NearBlock(prepared.blocks[row].normalized), candidates, rule)
            if match is not None:
                matches[row] = match
        return matches

    def _full_estimate_reaches(
        self,
        signatures: SignatureMatrix,
        found: Candidates,
        blocks: Sequence[dedupe_repo.StoredBlock | None],
        bars: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.bool_]:
        """Per candidate: whether its stored signature leaves the bar reachable (True when the
        signature is missing or was made with other parameters)."""
        reaches = np.ones(len(blocks), dtype=bool)
        known: list[int] = []
        blobs: list[bytes] = []
        for i, block in enumerate(blocks):
            if block is not None and block.signature is not None:
                known.append(i)
                blobs.append(block.signature)
        if not known:
            return reaches
        try:
            stored = self.signer.rows_from_bytes(blobs)
        except SignatureParamsError:
            return reaches  # made with other parameters: only the texts can tell
        queries = found.query.take(known)
        reaches[known] = signatures_may_reach(
            signatures.take(queries, axis=0), stored, bars.take(queries), SIGNATURE_MARGIN
        )
        return reaches

    def _story_match(
        self, session: Session, prepared: PreparedArticle, linked: Counter[int], own_id: int | None,
        before: int | None = None,
    ) -> StoryMatch | None:
        found: list[int] | None = None
        if not linked:
            found = self._body_candidates(session, prepared, own_id, before)
            if not found:
                return None
        if len(prepared.body) < self.config.story.min_shingles:
            return self._identical_short_story(session, prepared, linked, own_id)
        candidates: Counter[int] = Counter(linked)
        for article_id in self._body_candidates(session, prepared, own_id, before) if found is None else found:
            candidates[article_id] += 0
        candidates.pop(own_id, None)  # type: ignore[arg-type]
        if before is not None:
            candidates = Counter({a: n for a, n in candidates.items() if a < before})
        if not candidates:
            return None
        ranked = [a for a, _ in sorted(candidates.items(), key=lambda kv: (-kv[1], kv[0]))][:MAX_STORY_CANDIDATES]
        rows = dedupe_repo.story_candidate_rows(session, ranked)
        stamps = {a: row.stamp for a, row in rows.items() if self._may_be_story(prepared, row)}
        stored = self.stored_bodies(session, stamps)
        best: StoryMatch | None = None
        for article_id in ranked:
            if article_id not in stamps or not stored[article_id].blocks:
                continue
            shingles = self._shingles(article_id, stamps[article_id], stored[article_id])
            similarity = hashed_story_similarity(prepared.body, shingles)
            if not similarity.same_story(self.config.story):
                continue
            score = max(similarity.jaccard, similarity.containment)
            if best is None or score > max(best.similarity.jaccard, best.similarity.containment):
                best = StoryMatch(article_id, stamps[article_id].canonical_id, similarity)
        return best

    def _may_be_story(self, prepared: PreparedArticle, row: dedupe_repo.StoryCandidateRow) -> bool:
        """False only when the candidate's stored signature and shingle count rule it out."""
        if row.document_signature is None or row.body_shingles is None:
            return True
        try:
            stored = self.signer.rows_from_bytes([row.document_signature])[0]
        except SignatureParamsError:
            return True  # made with other parameters: only the texts can tell
        estimate = estimated_jaccard(prepared.document_signature, stored)
        return may_be_same_story(
            estimate, len(prepared.body), row.body_shingles, self.config.story, STORY_ESTIMATE_MARGIN
        )

    def _near_block(self, block: dedupe_repo.StoredBlock) -> NearBlock:
        packed = self._near_blocks.get(block.norm_hash)
        if packed is not None:
            self._near_blocks.move_to_end(block.norm_hash)
            return NearBlock.unpacked(packed)
        found = NearBlock(normalize(block.text))
        self._near_blocks[block.norm_hash] = found.packed()
        if len(self._near_blocks) > NEAR_BLOCK_CACHE_SIZE:
            self._near_blocks.popitem(last=False)
        return found

    def _body_candidates(
        self, session: Session, prepared: PreparedArticle, own_id: int | None, before: int | None
    ) -> list[int]:
        """Articles whose whole-body signature is near this one's (not this article itself)."""
        found = self.backend.candidates(
            session, DOCUMENT_KIND, prepared.document_signature[None, :], self.min_day(), STORY_CANDIDATE_ESTIMATE
        )
        ids = [unpack_ref(ref)[0] for ref in found.ref.tolist()]
        return [a for a in ids if a != own_id and (before is None or a < before)]

    def stored_bodies(self, session: Session, stamps: dict[int, dedupe_repo.ArticleStamp]) -> dict[int, StoredBody]:
        """The stored bodies of these live articles, from memory when their stamp is unchanged."""
        found: dict[int, StoredBody] = {}
        missing: list[int] = []
        for article_id, stamp in stamps.items():
            packed = self._bodies.get((article_id, stamp.version, stamp.modified_at))
            if packed is None:
                missing.append(article_id)
            else:
                found[article_id] = StoredBody.unpacked(packed)
        texts = dedupe_repo.article_texts(session, missing) if missing else {}
        for article_id in missing:
            found[article_id] = StoredBody.of(texts.get(article_id, []))
        for article_id, body in found.items():
            self._remember_body(article_id, stamps[article_id], body)
        return found

    def _shingles(self, article_id: int, stamp: dedupe_repo.ArticleStamp, body: StoredBody) -> npt.NDArray[np.uint64]:
        if body.shingles is None:
            folded = " ".join(normalize(text) for text in body.body)
            body.shingles = np.unique(self.signer.shingle_hashes(folded, DOCUMENT))
            self._remember_body(article_id, stamp, body)
        return body.shingles

    def _remember_body(self, article_id: int, stamp: dedupe_repo.ArticleStamp, body: StoredBody) -> None:
        key = (article_id, stamp.version, stamp.modified_at)
        self._bodies[key] = body.packed()
        self._bodies.move_to_end(key)
        while len(self._bodies) > BODY_CACHE_SIZE:
            self._bodies.popitem(last=False)

    def _identical_short_story(
        self, session: Session, prepared: PreparedArticle, linked: Counter[int], own_id: int | None
    ) -> StoryMatch | None:
        """A body too short to compare by overlap is still the same story when it is an exact copy.

        Every kept block must be an exact copy of a block of one stored article that has exactly
        as many blocks (a feed carrying a one-line item that another feed also carries).
        """
        kept = len(prepared.blocks)
        if not kept:
            return None
        whole = [a for a, n in linked.items() if n == kept and a != own_id]
        if not whole:
            return None
        stamps = dedupe_repo.article_stamps(session, whole)
        stored = self.stored_bodies(session, stamps)
        for article_id in sorted(whole):
            if article_id in stamps and stored[article_id].blocks == kept:
                size = len(prepared.body)
                return StoryMatch(
                    article_id, stamps[article_id].canonical_id, StorySimilarity(1.0, 1.0, size, size, size)
                )
        return None

    def after_save(
        self,
        session: Session,
        article: Article,
        linked: LinkedArticle,
        *,
        source_id: int,
        source_name: str,
        updated: bool,
    ) -> None:
        """Cluster membership, the canonical text, template clean-up and index entries."""
        previous = article.canonical_id or article.id
        if linked.story is not None and linked.story.canonical_id != article.id:
            extra = dict(article.extra or {})
            extra["story"] = {
                "matched_article_id": linked.story.article_id,
                "canonical_id": linked.story.canonical_id,
                "jaccard": round(linked.story.similarity.jaccard, 4),
                "containment": round(linked.story.similarity.containment, 4),
                "explain": linked.story.similarity.explain(),
            }
            article.extra = extra
            repo.set_canonical(session, article, linked.story.canonical_id)
        stories = {article.canonical_id or article.id, previous}
        for crossing_hash, verdict in linked.crossings:
            earlier = [
                p
                for p in dedupe_repo.source_blocks_with_hash(session, source_id, crossing_hash)
                if p.article_id != article.id
            ]
            touched = dedupe_repo.remove_blocks(
                session, earlier, dedupe_repo.TEMPLATE_REASON, verdict.explain(source_name), "template"
            )
            for other in touched:
                self.relink_into(session, other.id)
        if updated:
            self.relink_into(session, article.id)
        if self.known is not None:
            self.known.add([p.norm_hash for p in linked.paragraphs])
            self.known.add([r.norm_hash for r in linked.removals if r.norm_hash])
        # The next copy of this story will compare with this body, and choosing the story's text
        # below reads it: remembered first, it is not read back from the database.
        stamp = dedupe_repo.ArticleStamp(article.canonical_id or article.id, article.version, article.modified_at)
        texts = [p.text for p in linked.paragraphs if p.kind == BlockKind.BODY.value]
        body = StoredBody(len(linked.paragraphs), texts, linked.body)
        self._remember_body(article.id, stamp, body)
        for story_id in stories:
            if story_id == article.id and not updated and linked.story is None:
                continue  # a new article alone in its story: nothing to choose, no text_from
            self.refresh_text(session, story_id)
        day = day_number(self.clock())
        if updated:
            self.backend.forget_article(session, article.id)
        rows = linked.indexed_rows
        if rows:
            refs = [pack_ref(article.id, linked.row_positions[r]) for r in rows]
            self.backend.add(session, PARAGRAPH, linked.signatures[rows], refs, day)
        self.backend.add(session, DOCUMENT_KIND, linked.document_row[None, :], [pack_ref(article.id, 0)], day)
        final = dedupe_repo.ArticleStamp(article.canonical_id or article.id, article.version, article.modified_at)
        if final != stamp:  # its story's text was chosen anew: a new version of the same blocks
            self._remember_body(article.id, final, body)

    def refresh_text(self, session: Session, story_id: int) -> None:
        """Point the canonical article at its cluster's most complete and most recent text."""
        members = dedupe_repo.story_member_rows(session, story_id)
        current = next((m for m in members if m.id == story_id), None)
        if current is None:  # the canonical article is gone
            return
        chosen = story_id
        if len(members) > 1:
            stored = self.stored_bodies(session, {m.id: m.stamp for m in members})
            chosen = choose_text(
                [Member(article_id=m.id, words=stored[m.id].words, when=m.when) for m in members]
            ).article_id
        text_from = None if chosen == story_id else chosen
        if current.text_from_id != text_from:
            canonical = session.get(Article, story_id)
            if canonical is not None:
                dedupe_repo.set_text_from(session, canonical, text_from)

    def relink_into(self, session: Session, article_id: int) -> None:
        """Keep links into an article true after its blocks changed: re-point or clear them."""
        current = {p.position: p for p in repo.paragraphs_of(session, article_id)}
        by_hash: dict[str, ArticleParagraph] = {}
        for paragraph in current.values():
            by_hash.setdefault(paragraph.norm_hash, paragraph)
        for link in dedupe_repo.links_into(session, article_id):
            target = current.get(link.duplicate_of_position or -1)
            if target is not None and _still_holds(link, target, self.config.near):
                continue
            same = by_hash.get(link.norm_hash)
            if same is not None:
                link.duplicate_of_position = same.position
                link.duplicate_tier, link.similarity, link.estimated = "exact", 1.0, None
            else:
                link.duplicate_of_article_id = link.duplicate_of_position = None
                link.duplicate_tier = link.similarity = link.estimated = None
        session.flush()

    # --- transaction hooks --------------------------------------------------------------------

    def staged(self) -> None:
        """The article just saved is in the open transaction: later articles of it must find it."""
        self.backend.stage()

    def committed(self) -> None:
        self.backend.committed()

    def rolled_back(self) -> None:
        self.backend.rolled_back()

    # --- rebuild ------------------------------------------------------------------------------

    def rebuild(self, *, resign: bool = False) -> RebuildReport:
        """Recompute the index from stored signatures (``resign``: signatures from stored text)."""
        started = time.perf_counter()
        resigned = 0
        with self.sessions.begin() as session:
            if resign:
                resigned = self._resign(session)
                repo.put_state(session, self.expected_state())
            else:
                self.check_state(session, rebuilding_bands=True)
            repo.put_state(session, self.config.state())
            if isinstance(self.backend, SqlIndex):
                blocks = self._rebuild_sql(session)
            else:
                blocks = self.load_memory_index(session)
        self._ready = True
        return RebuildReport(self.backend.name, blocks, resigned, time.perf_counter() - started)

    def _rebuild_sql(self, session: Session) -> int:
        dedupe_repo.clear_bands(session)
        since = self.window_start()
        count = 0
        for batch in dedupe_repo.iter_block_signatures(session, since):
            matrix = self.signer.rows_from_bytes([row.signature for row in batch])
            for day, rows in _group_by_day(batch).items():
                self.backend.add(
                    session,
                    PARAGRAPH,
                    matrix[rows],
                    [pack_ref(batch[i].article_id, batch[i].position) for i in rows],
                    day,
                )
            count += len(batch)
        for batch in dedupe_repo.iter_document_signatures(session, since):
            matrix = self.signer.rows_from_bytes([row.signature for row in batch])
            for day, rows in _group_by_day(batch).items():
                self.backend.add(
                    session, DOCUMENT_KIND, matrix[rows], [pack_ref(batch[i].article_id, 0) for i in rows], day
                )
        return count

    def _resign(self, session: Session) -> int:
        """Signatures of every stored block and body made again from the stored text."""
        count = 0
        articles = [a for a, _ in repo.list_articles(session)]
        for start in range(0, len(articles), 500):
            chunk = articles[start : start + 500]
            blocks = dedupe_repo.article_blocks(session, [a.id for a in chunk])
            for article in chunk:
                stored = repo.paragraphs_of(session, article.id)
                if stored:
                    matrix = self.signer.signatures([p.text for p in stored])
                    for paragraph, row in zip(stored, matrix, strict=True):
                        paragraph.signature = self.signer.row_bytes(row)
                        paragraph.norm_hash = norm_hash(paragraph.text)
                    count += len(stored)
                body = [normalize(b.text) for b in blocks.get(article.id, []) if b.kind == BlockKind.BODY.value]
                document, shingles = self.signer.document(" ".join(body), DOCUMENT)
                article.document_signature = self.signer.row_bytes(document)
                article.body_shingles = len(shingles)
            session.flush()
        return count


@dataclass(frozen=True)
class RebuildReport:
    backend: str
    blocks: int
    resigned: int
    seconds: float


def _kept(found: Candidates, keep: npt.NDArray[np.bool_]) -> Candidates:
    """The candidates ``keep`` marks, in their order."""
    if keep.all():
        return found
    return Candidates(found.query[keep], found.ref[keep], found.estimate[keep])


def _best_per_query(found: Candidates, limit: int) -> Candidates:
    """At most ``limit`` candidates per query row: the highest estimates, ties to the lower ref."""
    order = np.lexsort((found.ref, -found.estimate, found.query))
    query = found.query[order]
    starts = np.searchsorted(query, query, side="left")
    keep = np.zeros(len(order), dtype=bool)
    keep[order[np.arange(len(order)) - starts < limit]] = True
    return _kept(found, keep)


def _group_by_day(batch: Sequence[dedupe_repo.SignatureRow]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for i, row in enumerate(batch):
        groups.setdefault(day_number(row.created_at), []).append(i)
    return groups


def _template_detail(verdict: TemplateVerdict, source_name: str) -> str:
    if verdict.stories > TEMPLATE_COUNT_CAP:  # counted up to the cap, plus this story
        return f"template of {source_name}: the same block in more than {TEMPLATE_COUNT_CAP} stories"
    return verdict.explain(source_name)


def _still_holds(link: ArticleParagraph, target: ArticleParagraph, rule: NearRule) -> bool:
    if link.duplicate_tier == "exact":
        return target.norm_hash == link.norm_hash
    compared = NearBlock(normalize(link.text)).compare(NearBlock(normalize(target.text)), rule)
    return compared is not None and compared[0] >= compared[1]


__all__ = ["CorpusDeduper", "DedupeConfig", "IndexStateError", "LinkedArticle", "RebuildReport", "SignatureParams"]
