"""Where the LSH index lives: in this process's memory, or as band rows in the SQL store.

``MemoryIndex`` (one worker): ``dedupe.BandIndex``, rebuilt from stored signatures at start and
by ``newsdedup index rebuild``; entries of an article join it only after the article's
transaction commits, so a rolled-back article never leaves a trace.

``SqlIndex`` (several workers): band keys are rows of ``lsh_bands``, looked up and inserted in
the article's own transaction, after advisory locks (PostgreSQL) on the article's keys, so two
workers ingesting copies of one story at once are serialised and the second sees the first.
``docs/design.md`` has the measurements behind this choice over datasketch's Redis storage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from dedupe.lsh import BandIndex, Candidates, LshParams, band_keys, sketch_similarity, sketches
from store import dedupe_repo

PARAGRAPH = 1
DOCUMENT = 2
# A paragraph reference packs (article id, position): positions stay below 2^16.
POSITION_BITS = 16
MAX_POSITION = (1 << POSITION_BITS) - 1


def pack_ref(article_id: int, position: int) -> int:
    return (article_id << POSITION_BITS) | position


def unpack_ref(ref: int) -> tuple[int, int]:
    return ref >> POSITION_BITS, ref & MAX_POSITION


class KnownHashes:
    """Keys of every block hash held by a stored block or template removal, for one worker.

    A superset: hashes are added when an article is saved and never taken out (a rolled-back or
    deleted block only costs a lookup that finds nothing). A hash not held here is in no stored
    block, so the exact and template lookups for it are skipped. Like ``MemoryIndex`` it only
    knows this process's writes: several workers use the SQL lookups instead.
    """

    # Recent keys are folded into the sorted array when they pass this share of it (and at
    # least ``min_recent``): a merge copies the array, so its cost per key stays constant.
    _MERGE_SHARE = 4

    def __init__(self, min_recent: int = 4096) -> None:
        self.min_recent = min_recent
        self._sorted = np.zeros(0, dtype=np.uint64)
        self._recent: set[int] = set()

    @staticmethod
    def key(norm_hash: str) -> int:
        return int(norm_hash[1:17], 16)

    def load(self, norm_hashes: Iterable[str]) -> None:
        keys = np.fromiter((self.key(h) for h in norm_hashes), dtype=np.uint64)
        self._sorted = np.union1d(self._sorted, keys)

    def add(self, norm_hashes: Iterable[str]) -> None:
        self._recent.update(self.key(h) for h in norm_hashes)
        if len(self._recent) > max(self.min_recent, len(self._sorted) // self._MERGE_SHARE):
            recent = np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent))
            self._sorted = np.union1d(self._sorted, recent)
            self._recent = set()

    def held(self, norm_hashes: Iterable[str]) -> set[str]:
        """Those of ``norm_hashes`` that some stored block may hold."""
        wanted = list(set(norm_hashes))
        if not wanted:
            return set()
        keys = np.array([self.key(h) for h in wanted], dtype=np.uint64)
        places = np.searchsorted(self._sorted, keys)
        inside = places < len(self._sorted)
        found = np.zeros(len(wanted), dtype=bool)
        found[inside] = self._sorted[places[inside]] == keys[inside]
        return {h for h, k, f in zip(wanted, keys.tolist(), found.tolist(), strict=True) if f or k in self._recent}

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)


def signed_keys(keys: npt.NDArray[np.uint64]) -> list[int]:
    """Band keys as signed 64-bit integers, which every SQL backend stores."""
    return [int(k) for k in keys.astype(np.int64).ravel()]


class IndexBackend(Protocol):
    name: str

    def candidates(
        self, session: Session, kind: int, signatures: npt.NDArray[np.uint32], min_day: int, min_estimate: float
    ) -> Candidates: ...

    def add(
        self, session: Session, kind: int, signatures: npt.NDArray[np.uint32], refs: Sequence[int], day: int
    ) -> None: ...

    def forget_article(self, session: Session, article_id: int) -> None: ...

    def stage(self) -> None: ...

    def committed(self) -> None: ...

    def rolled_back(self) -> None: ...


@dataclass
class _Pending:
    kind: int
    signatures: npt.NDArray[np.uint32]
    refs: npt.NDArray[np.int64]
    day: int
    # Made when staged, for the overlay, and used again when the entries join the main index.
    prints: npt.NDArray[np.uint32] | None = None
    padded: tuple[npt.NDArray[np.uint8], int] | None = None


def _merged(older: Candidates, newer: Candidates) -> Candidates:
    """Both indexes' hits in the order one index holding all of them gives: by query row, older
    blocks first."""
    query = np.concatenate((older.query, newer.query))
    order = np.argsort(query, kind="stable")
    return Candidates(
        query.take(order),
        np.concatenate((older.ref, newer.ref)).take(order),
        np.concatenate((older.estimate, newer.estimate)).take(order),
    )


@dataclass
class MemoryIndex:
    """Per-process index; derived state.

    An article's entries wait in ``_pending`` until its transaction commits. Several articles
    written in one transaction without savepoints (``Pipeline``'s batches) must each find the
    ones before it: ``stage`` moves the pending entries to a small overlay index that lookups
    also read, and that joins the main index at ``committed`` or is dropped at ``rolled_back``.
    """

    paragraph_params: LshParams
    document_params: LshParams
    name: str = "memory"
    paragraphs: BandIndex = field(init=False)
    documents: BandIndex = field(init=False)
    _pending: list[_Pending] = field(default_factory=list)
    _staged: list[_Pending] = field(default_factory=list)
    _overlay: dict[int, BandIndex] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.paragraphs = BandIndex(self.paragraph_params)
        self.documents = BandIndex(self.document_params)
        self.rolled_back()

    def _index(self, kind: int) -> BandIndex:
        return self.paragraphs if kind == PARAGRAPH else self.documents

    def candidates(
        self, session: Session, kind: int, signatures: npt.NDArray[np.uint32], min_day: int, min_estimate: float
    ) -> Candidates:
        index = self._index(kind)
        overlay = self._overlay.get(kind)
        if overlay is None:
            return index.query(signatures, min_day=min_day, min_estimate=min_estimate)
        prints, padded = index.prints(signatures), index.padded_sketches(signatures)
        found = index.query(signatures, min_day=min_day, min_estimate=min_estimate, prints=prints, padded=padded)
        staged = overlay.query(signatures, min_day=min_day, min_estimate=min_estimate, prints=prints, padded=padded)
        return _merged(found, staged) if len(staged) else found

    def add(
        self, session: Session, kind: int, signatures: npt.NDArray[np.uint32], refs: Sequence[int], day: int
    ) -> None:
        if len(refs):
            self._pending.append(_Pending(kind, signatures, np.asarray(refs, dtype=np.int64), day))

    def load(
        self, kind: int, signatures: npt.NDArray[np.uint32], refs: npt.NDArray[np.int64], days: npt.NDArray[np.int32]
    ) -> None:
        """Bulk insert at rebuild time (no transaction to wait for)."""
        self._index(kind).insert(signatures, refs, days)

    def forget_article(self, session: Session, article_id: int) -> None:
        # Stale entries are harmless: every candidate is checked against the stored block.
        return None

    def stage(self) -> None:
        for pending in self._pending:
            index = self._index(pending.kind)
            overlay = self._overlay.get(pending.kind)
            if overlay is None:
                overlay = self._overlay[pending.kind] = BandIndex(index.params)
            pending.prints = index.prints(pending.signatures)
            pending.padded = index.padded_sketches(pending.signatures)
            overlay.insert(pending.signatures, pending.refs, pending.day, prints=pending.prints, padded=pending.padded)
        self._staged.extend(self._pending)
        self._pending = []

    def committed(self) -> None:
        for p in (*self._staged, *self._pending):
            self._index(p.kind).insert(p.signatures, p.refs, p.day, prints=p.prints, padded=p.padded)
        self._pending, self._staged, self._overlay = [], [], {}

    def rolled_back(self) -> None:
        self._pending, self._staged, self._overlay = [], [], {}

    def prune(self, min_day: int) -> int:
        return self.paragraphs.prune(min_day) + self.documents.prune(min_day)

    @property
    def nbytes(self) -> int:
        return self.paragraphs.nbytes + self.documents.nbytes


@dataclass
class SqlIndex:
    """Band keys as rows of the SQL store, shared by every worker using the database."""

    paragraph_params: LshParams
    document_params: LshParams
    decode: Callable[[Sequence[bytes]], npt.NDArray[np.uint32]]
    name: str = "sql"

    def _params(self, kind: int) -> LshParams:
        return self.paragraph_params if kind == PARAGRAPH else self.document_params

    def candidates(
        self, session: Session, kind: int, signatures: npt.NDArray[np.uint32], min_day: int, min_estimate: float
    ) -> Candidates:
        params = self._params(kind)
        keys = band_keys(signatures, params)
        flat = signed_keys(keys)
        rows = dedupe_repo.lookup_bands(session, kind, flat, min_day)
        if not rows:
            empty = np.zeros(0, dtype=np.int64)
            return Candidates(empty, empty, np.zeros(0, dtype=np.float64))
        by_key: dict[int, list[int]] = {}
        for key, article_id, position in rows:
            by_key.setdefault(key, []).append(pack_ref(article_id, position))
        pairs = sorted(
            {(number // params.bands, ref) for number, key in enumerate(flat) for ref in by_key.get(key, ())}
        )
        query = np.array([q for q, _ in pairs], dtype=np.int64)
        refs = np.array([r for _, r in pairs], dtype=np.int64)
        # Estimates from the stored signatures' sketch columns, as the memory index does; only
        # the candidates' own signatures are read (not their articles' other blocks).
        places = [unpack_ref(int(r)) for r in refs]
        stored = _stored_signatures(session, kind, set(places), self.decode)
        width = signatures.shape[1]
        found = np.array([p in stored and len(stored[p]) == width for p in places], dtype=bool)
        estimate = np.zeros(len(refs), dtype=np.float64)
        if found.any():
            rows_found = np.stack([stored[p] for p, ok in zip(places, found.tolist(), strict=True) if ok])
            query_sketches = sketches(signatures, params)[query[found]]
            estimate[found] = sketch_similarity(query_sketches, sketches(rows_found, params))
        keep = estimate >= min_estimate
        return Candidates(query[keep], refs[keep], estimate[keep])

    def add(
        self, session: Session, kind: int, signatures: npt.NDArray[np.uint32], refs: Sequence[int], day: int
    ) -> None:
        if not len(refs):
            return
        keys = band_keys(signatures, self._params(kind)).astype(np.int64)
        rows: list[tuple[int, int, int, int]] = []
        for ref, row_keys in zip(refs, keys.tolist(), strict=True):
            article_id, position = unpack_ref(int(ref))
            rows.extend((key, article_id, position, day) for key in row_keys)
        dedupe_repo.insert_bands(session, kind, rows)

    def forget_article(self, session: Session, article_id: int) -> None:
        dedupe_repo.delete_bands(session, article_id)

    def stage(self) -> None:
        return None  # its rows are in the transaction already

    def committed(self) -> None:
        return None

    def rolled_back(self) -> None:
        return None


def _stored_signatures(
    session: Session,
    kind: int,
    places: set[tuple[int, int]],
    decode: Callable[[Sequence[bytes]], npt.NDArray[np.uint32]],
) -> dict[tuple[int, int], npt.NDArray[np.uint32]]:
    """Signature rows of stored blocks (or article bodies), by place."""
    blobs: dict[tuple[int, int], bytes] = {}
    if kind == PARAGRAPH:
        blobs = dedupe_repo.block_signatures(session, places)
    else:
        found = dedupe_repo.document_signatures(session, {a for a, _ in places})
        blobs = {(article_id, 0): signature for article_id, signature in found.items()}
    if not blobs:
        return {}
    keys = list(blobs)
    matrix = decode([blobs[k] for k in keys])
    return {key: matrix[i] for i, key in enumerate(keys)}
